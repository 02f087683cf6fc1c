"""The paging parameters every JSON list operation takes. Bounds are declared here once so an
out-of-range value is a 422 with a Chinese message (config/api.py) instead of reaching the
database: a 36-digit offset overflowed PostgreSQL's bigint and answered 500. And the pages'
paginators when a page already knows its row count (``CountedPaginator``) and when it counts
at most a bounded number of rows (``CappedPaginator``)."""

from __future__ import annotations

from typing import Any

from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.utils.functional import cached_property
from ninja import Field, Schema

# Far beyond any list the platform holds, far below bigint and SQLite's 64-bit integers.
MAX_OFFSET = 10**9


class PageIn(Schema):
    """limit 1..200 (50 by default), offset 0..10^9."""

    limit: int = Field(50, ge=1, le=200, description="每页条数（1–200）")
    offset: int = Field(0, ge=0, le=MAX_OFFSET, description="跳过的条数（0–1000000000）")


class SmallPageIn(PageIn):
    """For searches people page through by hand: limit 1..100 (20 by default)."""

    limit: int = Field(20, ge=1, le=100, description="每页条数（1–100）")


class CountedPaginator(Paginator):
    """A page-by-page list whose row count is already known (from a query the page runs
    anyway, e.g. the staff talent list's overview by status), so it runs no COUNT of its
    own. ``count`` must be the number of rows of ``object_list``."""

    def __init__(self, object_list: Any, per_page: int, *, count: int, **kwargs: Any) -> None:
        super().__init__(object_list, per_page, **kwargs)
        self.__dict__["count"] = count  # Paginator.count is a cached_property


class CappedPaginator(Paginator):
    """A page's paginator that counts at most ``cap`` rows: ``SELECT COUNT(*)`` over the first
    ``cap + 1`` rows instead of all of them (the job search's count of every open posting was a
    sequential scan of 20,000 rows on each page view, docs/SCALING.md). Lists longer than the
    cap show their first ``cap`` rows, and ``capped`` tells the page to say so; shorter lists
    count exactly as Django's Paginator does."""

    def __init__(self, object_list: QuerySet[Any], per_page: int, *, cap: int) -> None:
        super().__init__(object_list, per_page)
        self.queryset = object_list
        self.cap = cap

    @cached_property
    def bounded_count(self) -> int:
        """The rows, counted up to ``cap + 1``; a page that kept it may set it (jobs/views.py)."""
        return self.queryset.order_by()[: self.cap + 1].count()

    @cached_property
    def count(self) -> int:
        return min(self.bounded_count, self.cap)

    @property
    def capped(self) -> bool:
        return self.bounded_count > self.cap
