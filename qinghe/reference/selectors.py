"""Reads of reference data: the browsable datasets, search, and the matchers that import code
uses (county codes of ID cards, university names, majors)."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from django.db import models
from django.db.models import Case, IntegerField, Q, QuerySet, Value, When
from django.utils.translation import gettext_lazy as _

from .models import (
    Industry,
    Major,
    MajorCategory,
    Occupation,
    Region,
    Town,
    University,
)
from .text import name_key, query_terms

# ---------------------------------------------------------------------------- datasets


def _major_extra(obj: Major) -> str:
    flags = "".join(
        label for flag, label in ((obj.is_special, "特设"), (obj.is_controlled, "国控")) if flag
    )
    return " · ".join(part for part in (obj.category.name, flags) if part)


def _category_extra(obj: MajorCategory) -> str:
    parent = obj.discipline.name if obj.discipline is not None else ""
    return " · ".join(part for part in (str(obj.get_kind_display()), parent) if part)


def _university_extra(obj: University) -> str:
    marks = [
        label
        for flag, label in (
            (obj.is_double_first_class, "双一流"),
            (obj.is_985, "985"),
            (obj.is_211, "211"),
        )
        if flag
    ]
    return " · ".join(part for part in (obj.province, obj.city, " ".join(marks)) if part)


def _region_extra(obj: Region) -> str:
    place = obj.province if obj.prefecture in ("", "直辖") else f"{obj.province}{obj.prefecture}"
    return f"{place} · {obj.get_status_display()} {obj.years}"


def _occupation_extra(obj: Occupation) -> str:
    return " · ".join(part for part in (str(obj.get_level_display()), obj.flags) if part)


def _industry_extra(obj: Industry) -> str:
    if obj.parent is not None:
        return f"{obj.get_level_display()} · {obj.parent.code} {obj.parent.name}"
    return str(obj.get_level_display())


@dataclass(frozen=True)
class Dataset:
    """One browsable table: what to fetch, how to order it, what to show next to its name."""

    slug: str
    label: Any
    description: Any
    model: type[models.Model]
    describe: Callable[[Any], str]
    order_by: Sequence[str] = ("code",)
    select_related: Sequence[str] = ()

    @property
    def template(self) -> str:
        return f"reference/_table_{self.slug}.html"

    def queryset(self) -> QuerySet[Any]:
        qs = self.model._default_manager.all()
        if self.select_related:
            qs = qs.select_related(*self.select_related)
        return qs.order_by(*self.order_by)


DATASETS: dict[str, Dataset] = {
    dataset.slug: dataset
    for dataset in (
        Dataset(
            "majors",
            _("本科专业"),
            _("普通高等学校本科专业目录（2025 年版），专业代码如 080901"),
            Major,
            _major_extra,
            select_related=("category",),
        ),
        Dataset(
            "categories",
            _("专业类"),
            _("本科专业类与学科门类（2025），高职专科专业大类 41–59（2021）"),
            MajorCategory,
            _category_extra,
            order_by=("kind", "code"),
            select_related=("discipline",),
        ),
        Dataset(
            "universities",
            _("高校"),
            _("国内高校，含省份、城市、曾用名与 2022 年双一流标记"),
            University,
            _university_extra,
            order_by=("-is_double_first_class", "province", "name"),
        ),
        Dataset(
            "regions",
            _("行政区划代码"),
            _("县级及以上行政区划代码 1980–2024，含已弃用代码及其新代码"),
            Region,
            _region_extra,
            order_by=("code", "start_year"),
        ),
        Dataset(
            "towns",
            _("鹤山镇街"),
            _("鹤山市镇（街道）与统计用代码（2023）"),
            Town,
            lambda obj: obj.county_code,
        ),
        Dataset(
            "occupations",
            _("职业分类"),
            _("职业分类大典（2022），S 数字职业，L 绿色职业"),
            Occupation,
            _occupation_extra,
            order_by=("code", "level"),
        ),
        Dataset(
            "industries",
            _("国民经济行业"),
            _("GB/T 4754-2017 门类与大类"),
            Industry,
            _industry_extra,
            order_by=("position",),
            select_related=("parent",),
        ),
    )
}


def dataset_get(slug: str) -> Dataset | None:
    return DATASETS.get(slug)


def dataset_counts() -> list[tuple[Dataset, int]]:
    return [(dataset, dataset.model._default_manager.count()) for dataset in DATASETS.values()]


def reference_list(*, dataset: Dataset, q: str = "") -> QuerySet[Any]:
    """The dataset's rows whose search text contains every word of ``q`` (name, alias, code,
    pinyin or pinyin initials), in the dataset's order."""
    qs = dataset.queryset()
    terms = query_terms(q)
    if not terms:
        return qs
    for term in terms:
        qs = qs.filter(search_text__icontains=term)
    # Closest first: the exact name, then a code or name that starts with the first word, then
    # any word of the search text that starts with it (jsj: 计算机类 before 马达加斯加语).
    first = terms[0]
    rank = Case(
        When(name__iexact=first, then=Value(0)),
        When(Q(search_text__istartswith=first) | Q(name__istartswith=first), then=Value(1)),
        When(search_text__icontains=f" {first}", then=Value(2)),
        default=Value(3),
        output_field=IntegerField(),
    )
    return qs.annotate(rank=rank).order_by("rank", *dataset.order_by)


@dataclass(frozen=True)
class SearchHit:
    code: str
    name: str
    extra: str


def reference_search(*, dataset: Dataset, q: str = "", limit: int = 20) -> list[SearchHit]:
    rows = reference_list(dataset=dataset, q=q)[:limit]
    return [
        SearchHit(code=_code_of(row), name=row.name, extra=dataset.describe(row)) for row in rows
    ]


def _code_of(row: Any) -> str:
    return row.source_id if isinstance(row, University) else row.code


# ---------------------------------------------------------------------------- county codes

HESHAN_COUNTY_CODES: tuple[str, ...] = ("440784", "440725", "442731")
HESHAN_CURRENT_CODE = "440784"

_SUCCESSOR = re.compile(r"(?P<code>\d{6})(?:\[(?P<year>\d{4})\])?")


@dataclass(frozen=True)
class RegionPeriod:
    """One row of the county-code history, as plain data (what ``resolve_successors`` needs)."""

    code: str
    name: str
    status: str
    start_year: int
    end_year: int | None
    successor_code: str


def parse_successors(value: str) -> list[tuple[str, int | None]]:
    """``440702[1984];440711`` -> [("440702", 1984), ("440711", None)]."""
    return [
        (match.group("code"), int(match.group("year")) if match.group("year") else None)
        for match in _SUCCESSOR.finditer(value or "")
    ]


def _period_at(periods: Sequence[RegionPeriod], year: int | None) -> RegionPeriod | None:
    """The period in force in ``year``; without a year, the current one, else the latest."""
    if not periods:
        return None
    ordered = sorted(periods, key=lambda p: p.start_year)
    if year is not None:
        for period in reversed(ordered):
            if period.start_year <= year and (period.end_year is None or year < period.end_year):
                return period
        later = [p for p in ordered if p.start_year >= year]
        return later[0] if later else ordered[-1]
    current = [p for p in ordered if p.status == Region.Status.ACTIVE]
    return current[-1] if current else ordered[-1]


def resolve_successors(
    code: str, lookup: Callable[[str], Sequence[RegionPeriod]], *, year: int | None = None
) -> RegionPeriod | None:
    """Follows 新代码 from ``code`` to the period in use today. Pure: ``lookup`` supplies the
    periods of a code. None for an unknown code, or when the trail ends in a split (several
    successors) or in an abolition without successor, since then no single county is right."""
    period = _period_at(lookup(code), year)
    visited: set[tuple[str, int]] = set()
    while period is not None:
        if period.status == Region.Status.ACTIVE:
            return period
        key = (period.code, period.start_year)
        if key in visited:
            return None
        visited.add(key)
        successors = parse_successors(period.successor_code)
        if len(successors) != 1:
            return None
        next_code, next_year = successors[0]
        period = _period_at(lookup(next_code), next_year or period.end_year)
    return None


def _region_periods(code: str) -> list[RegionPeriod]:
    return [
        RegionPeriod(**row)
        for row in Region.objects.filter(code=code).values(
            "code", "name", "status", "start_year", "end_year", "successor_code"
        )
    ]


def county_resolve(code: str, *, year: int | None = None) -> Region | None:
    """The region in use today that ``code`` became: 442731 (鹤山县, 1981-1983) -> 440725
    (鹤山县, 1983-1993) -> 440784 (鹤山市). ``code`` may be an ID number or a longer code; its
    first six digits count. ``year`` (e.g. the year an ID was issued) picks among the periods
    of a reused code. Reads only; one query per step of the trail."""
    code = (code or "").strip()[:6]
    if not re.fullmatch(r"\d{6}", code):
        return None
    period = resolve_successors(code, _region_periods, year=year)
    if period is None:
        return None
    return Region.objects.filter(code=period.code, start_year=period.start_year).first()


def is_heshan_county(code: str) -> bool:
    """Whether a county code (or the first six digits of an ID number) is one of Heshan's.
    Evidence of origin, not proof: the household registration is the authority."""
    return (code or "").strip()[:6] in HESHAN_COUNTY_CODES


# ---------------------------------------------------------------------------- matchers


def university_match(name: str) -> University | None:
    """The university a typed name means: its current name first, then former names, compared
    after normalising width, brackets, spaces and case. None when nothing or more than one
    school matches a former name."""
    key = name_key(name)
    if not key:
        return None
    by_name = (
        University.objects.filter(name_key=key).order_by("-is_double_first_class", "id").first()
    )
    if by_name is not None:
        return by_name
    candidates = list(University.objects.filter(alias_keys__contains=f"|{key}|")[:2])
    return candidates[0] if len(candidates) == 1 else None


_MAJOR_CODE = re.compile(r"\d{6}[TK]{0,2}")


def major_match(text: str) -> Major | None:
    """A major by its code (``080901``, ``080910t``) or by its exact name (after NFKC and
    trimming). Free text that is neither stays free text: the caller keeps it as typed."""
    value = re.sub(r"\s+", "", unicodedata.normalize("NFKC", text or ""))
    if not value:
        return None
    majors = Major.objects.select_related("category")
    if _MAJOR_CODE.fullmatch(value.upper()):
        return majors.filter(code=value.upper()).first()
    return majors.filter(name=value).first()
