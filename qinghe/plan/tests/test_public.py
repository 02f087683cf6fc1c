"""Public figures: no count from 1 to 4 is ever shown, and no total minus the shown cells
recovers a hidden one (checked against every assignment an attacker could try)."""

from __future__ import annotations

import itertools
import re
from typing import Any

import pytest
from django.test import Client
from hypothesis import given, settings
from hypothesis import strategies as st

from qinghe.plan.public import HIDDEN, SMALL, THRESHOLD, suppress_line
from qinghe.talents.models import Talent
from qinghe.talents.tests.factories import make_id, make_talent


def consistent_assignments(cells: list[str], total: int, cap: int) -> list[tuple[int, ...]]:
    """Every way to fill the hidden cells that agrees with what is shown: "<5" is 1..4,
    "*" is 5 or more (the only cells chosen as complements), shown cells are fixed."""
    ranges = []
    for c in cells:
        if c == SMALL:
            ranges.append(range(1, THRESHOLD))
        elif c == HIDDEN:
            ranges.append(range(THRESHOLD, cap + 1))
        else:
            ranges.append(range(int(c), int(c) + 1))
    return [a for a in itertools.product(*ranges) if sum(a) == total]


def check_line(values: list[int]) -> None:
    cells, total = suppress_line(values)
    shown_numbers = [int(c) for c in [*cells, total] if c.isdigit()]
    assert not [n for n in shown_numbers if 1 <= n < THRESHOLD], (values, cells, total)
    for v, c in zip(values, cells, strict=True):
        assert c in (str(v), SMALL, HIDDEN)
        if c == SMALL:
            assert 1 <= v < THRESHOLD
        if c == HIDDEN:
            assert v >= THRESHOLD
    if total == HIDDEN:
        return
    assert total == str(sum(values))
    possible = consistent_assignments(cells, sum(values), cap=sum(values))
    assert tuple(values) in possible
    for i, c in enumerate(cells):
        if c == SMALL:  # the total leaves every value 1..4 possible for this cell
            assert {a[i] for a in possible} == set(range(1, THRESHOLD)), (values, cells, total)


@pytest.mark.parametrize(
    ("values", "cells", "total"),
    [
        ([10, 20, 30], ["10", "20", "30"], "60"),  # nothing small: shown as it is
        ([0, 12, 0], ["0", "12", "0"], "12"),  # zero reveals no one
        ([3, 20, 30], ["<5", "*", "30"], "53"),  # one small cell: the smallest other hidden too
        ([1, 5, 40], ["<5", "*", "40"], "46"),  # 1 + 5 would pin 1 once 5 is known to be ≥ 5…
        ([2, 0, 0], ["<5", "0", "0"], "*"),  # nothing to hide it behind: the total goes
        ([1, 1, 1, 1, 0], ["<5", "<5", "<5", "<5", "0"], "*"),  # four ones would add up to 4
    ],
)
def test_suppression_examples(values: list[int], cells: list[str], total: str) -> None:
    got_cells, got_total = suppress_line(values)
    if values == [1, 5, 40]:
        # …so with the total shown, "<5" + "*" = 6 could only be 1 + 5: 40 is hidden as well
        assert (got_cells, got_total) == (["<5", "*", "*"], "46")
    else:
        assert (got_cells, got_total) == (cells, total)
    check_line(values)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.integers(min_value=0, max_value=12), min_size=1, max_size=5))
def test_no_small_count_is_shown_and_no_total_recovers_a_hidden_cell(values: list[int]) -> None:
    check_line(values)


@pytest.mark.django_db
def test_the_public_page_needs_no_sign_in_and_shows_no_small_count(
    client: Client, world: Any
) -> None:
    from django.utils import timezone

    year = timezone.localdate().year
    # returns by graduation year: 3 this year (small), 6 last year, 0 before
    for n, grad in enumerate([year] * 3 + [year - 1] * 6):
        t = make_talent(
            name=f"返乡{n}",
            id_number=make_id("440784", "20010101", f"{n:03d}"),
            phone=None,
            graduation_year=grad,
        )
        Talent.objects.filter(pk=t.pk).update(status=Talent.Status.EMPLOYED_HESHAN)
    response = client.get("/figures/")
    assert response.status_code == 200
    html = response.content.decode()
    line = response.context["figures"].returns
    assert line.rows == [
        (f"{year - 4} 届", "0"),
        (f"{year - 3} 届", "0"),
        (f"{year - 2} 届", "0"),
        (f"{year - 1} 届", "*"),
        (f"{year} 届", "<5"),
    ]
    assert line.total == "9"
    table = html.split('data-testid="public-returns"')[1].split("</table>")[0]
    assert not re.search(r">\s*[1-4]\s*<", table)
    assert response.context["figures"].members == "0"
    assert "&lt;5" in table and "身份证" not in html


@pytest.mark.django_db
def test_the_public_page_reads_the_precomputed_counts_and_follows_the_rows_after_the_job(
    client: Client, world: Any
) -> None:
    """The job stores the raw counts; the page suppresses small cells when it shows them; new
    rows show once the job has run again."""
    from django.utils import timezone

    from qinghe.plan.models import PrecomputedFigures
    from qinghe.plan.precomputed import figures_refresh

    year = timezone.localdate().year

    def returned(n: int) -> None:
        t = make_talent(
            name=f"返乡{n}",
            id_number=make_id("440784", "20010101", f"{n:03d}"),
            phone=None,
            graduation_year=year,
        )
        Talent.objects.filter(pk=t.pk).update(status=Talent.Status.EMPLOYED_HESHAN)

    for n in range(4):
        returned(n)
    figures_refresh()
    stored = PrecomputedFigures.objects.get(key=f"public:{year}").data
    assert stored["returns"][-1] == [year, 4]  # the raw count is kept, never shown
    response = client.get("/figures/")
    assert response.context["figures"].returns.cells[-1] == "<5"
    assert response.context["figures"].returns.total == "*"
    returned(4)
    assert client.get("/figures/").context["figures"].returns.cells[-1] == "<5"
    figures_refresh()
    response = client.get("/figures/")
    assert response.context["figures"].returns.cells[-1] == "5"
    assert response.context["figures"].returns.total == "5"
    assert "数据更新于" in response.content.decode()


# As the benchmark requests it (signed in): session, user, the precomputed counts (one row),
# the unread badge, the session's save (savepoint, update, release). Signed out: the row only.
PUBLIC_QUERIES = 3  # after the session's first page (no session write, the badge kept)
PUBLIC_QUERIES_SIGNED_OUT = 1


@pytest.mark.django_db
def test_the_public_page_costs_the_same_queries_however_many_rows(
    client: Client, world: Any, personas: Any, django_assert_num_queries: Any
) -> None:
    from qinghe.plan.precomputed import figures_refresh

    for n in range(3):
        make_talent(name=f"学子{n}", id_number=make_id("440784", "20010101", f"{n:03d}"))
    figures_refresh()
    with django_assert_num_queries(PUBLIC_QUERIES_SIGNED_OUT):
        assert client.get("/figures/").status_code == 200
    client.force_login(personas["hr_staff"])
    client.get("/messages/preferences/")  # first page: session expiry pushed, badge drawn
    with django_assert_num_queries(PUBLIC_QUERIES):
        assert client.get("/figures/").status_code == 200
    for n in range(3, 20):
        make_talent(name=f"学子{n}", id_number=make_id("440784", "20010101", f"{n:03d}"))
    figures_refresh()
    with django_assert_num_queries(PUBLIC_QUERIES):
        assert client.get("/figures/").status_code == 200
