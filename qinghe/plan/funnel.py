"""The return funnel of Heshan natives: at school → graduated (graduating or past) → employed →
employed in Heshan (returned), by graduation year, university, major category, town of origin
and 双一流, with the conversion at each step and the year before beside it; and where the
natives who are employed work (cities and industries). One grouped query per table."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from typing import Any

from django.db.models import Count, OuterRef, Q, QuerySet, Subquery
from django.utils.http import urlencode

from qinghe.talents.models import Destination, Education, Talent

from .selectors import natives

S = Talent.Status
EMPLOYED = (S.EMPLOYED_HESHAN, S.EMPLOYED_JIANGMEN, S.EMPLOYED_ELSEWHERE)

STAGES: tuple[tuple[str, str], ...] = (
    ("at_school", "在校（在库）"),
    ("graduated", "已毕业或应届"),
    ("employed", "已就业"),
    ("returned", "在鹤山就业"),
)

STAGE_COUNTS = {
    "at_school": Count("id"),
    "graduated": Count("id", filter=~Q(status__in=(S.STUDYING, S.UNKNOWN))),
    "employed": Count("id", filter=Q(status__in=EMPLOYED)),
    "returned": Count("id", filter=Q(status=S.EMPLOYED_HESHAN)),
}


def _latest_education(field: str) -> Subquery:
    return Subquery(
        Education.objects.filter(talent=OuterRef("pk"))
        .order_by("-graduation_year", "-id")
        .values(field)[:1]
    )


# Each breakdown: its Chinese name, the expression grouped on, how a value is shown, and the
# talents list's filter for a value (the drill-down), if the list has one.
DIMENSIONS: dict[str, str] = {
    "year": "毕业年份",
    "university": "院校",
    "major_category": "专业类",
    "town": "镇街",
    "double_first_class": "双一流",
}


def _grouped(qs: QuerySet[Talent], by: str) -> QuerySet[Any]:
    """The cohort grouped by the dimension: ``key`` (what the talents list filters on) and
    ``shown`` (what the page shows)."""
    from django.db.models import F

    if by == "year":
        return qs.annotate(key=F("graduation_year"), shown=F("graduation_year")).values(
            "key", "shown"
        )
    if by == "university":
        uni = _latest_education("university_name")
        return qs.annotate(key=uni, shown=uni).values("key", "shown")
    if by == "major_category":
        return qs.annotate(
            key=_latest_education("major_category__code"),
            shown=_latest_education("major_category__name"),
        ).values("key", "shown")
    if by == "town":
        return qs.annotate(key=F("town__code"), shown=F("town__name")).values("key", "shown")
    dfc = _latest_education("is_double_first_class")
    return qs.annotate(key=dfc, shown=dfc).values("key", "shown")


@dataclass(frozen=True)
class Funnel:
    label: str
    counts: dict[str, int]
    link_query: str = ""

    def rate(self, stage: str) -> float | None:
        """Conversion from the stage before to this one, in percent (one decimal)."""
        codes = [c for c, _ in STAGES]
        i = codes.index(stage)
        if i == 0:
            return None
        before = self.counts[codes[i - 1]]
        return round(100 * self.counts[stage] / before, 1) if before else None

    @property
    def overall(self) -> float | None:
        first = self.counts["at_school"]
        return round(100 * self.counts["returned"] / first, 1) if first else None

    @property
    def steps(self) -> list[tuple[str, str, int, float | None]]:
        return [(code, label, self.counts[code], self.rate(code)) for code, label in STAGES]


def _cohort(year: int | None) -> QuerySet[Talent]:
    qs = natives()
    return qs.filter(graduation_year=year) if year else qs


def _shown(by: str, value: Any) -> str:
    if by == "year":
        return f"{value} 届" if value else "未填写毕业年份"
    if by == "double_first_class":
        return {True: "双一流高校", False: "非双一流高校"}.get(value, "无教育经历")
    return str(value) if value else "未填写"


FILTER_NAMES = {
    "year": "graduation_year",
    "university": "university",
    "major_category": "major_category",
    "town": "town",
}


def _link(by: str, key: Any, year: int | None) -> str:
    """The talents list's query for one row (native_evidence=any: natives only); empty when
    the list cannot filter on that value."""
    name = FILTER_NAMES.get(by)
    if name is None or key in (None, ""):
        return ""
    parts = ["native_evidence=any"]
    if year and by != "year":
        parts.append(f"graduation_year={year}")
    parts.append(urlencode({name: key}))
    return "&".join(parts)


def breakdown(*, by: str, year: int | None, top: int = 0) -> list[Funnel]:
    """The funnel for each value of a dimension (one query), largest first; with ``top``, the
    rest summed into one 其他 row."""
    rows = _grouped(_cohort(year), by).annotate(**STAGE_COUNTS).order_by()
    out = [
        Funnel(
            _shown(by, r["shown"]),
            {c: r[c] for c, _ in STAGES},
            _link(by, r["key"], year),
        )
        for r in rows
    ]
    if by == "year":
        return sorted(out, key=lambda f: f.label, reverse=True)
    out.sort(key=lambda f: (-f.counts["at_school"], f.label))
    if top and len(out) > top:
        rest = out[top:]
        merged = {c: sum(f.counts[c] for f in rest) for c, _ in STAGES}
        out = [*out[:top], Funnel(f"其他（{len(rest)} 项）", merged)]
    return out


@dataclass(frozen=True)
class YearOnYear:
    year: int
    this: Funnel
    before: Funnel

    def change(self, stage: str) -> float | None:
        a, b = self.this.rate(stage), self.before.rate(stage)
        return None if a is None or b is None else round(a - b, 1)

    @property
    def rows(self) -> list[tuple[str, int, float | None, int, float | None, float | None]]:
        return [
            (
                label,
                self.this.counts[code],
                self.this.rate(code),
                self.before.counts[code],
                self.before.rate(code),
                self.change(code),
            )
            for code, label in STAGES
        ]


def year_on_year(*, year: int) -> YearOnYear:
    """The cohort graduating in ``year`` beside the one before (one query)."""
    rows = {
        r["graduation_year"]: r
        for r in natives()
        .filter(graduation_year__in=(year, year - 1))
        .values("graduation_year")
        .annotate(**STAGE_COUNTS)
        .order_by()
    }

    def funnel(y: int) -> Funnel:
        r: dict[str, Any] = dict(rows.get(y, {}))
        counts = {c: int(r.get(c, 0)) for c, _ in STAGES}
        return Funnel(f"{y} 届", counts, f"native_evidence=any&graduation_year={y}")

    return YearOnYear(year, funnel(year), funnel(year - 1))


_CITY = re.compile(r"^(?:.+?(?:省|自治区))?(.+?市)")


def city_of(region_text: str, area: str) -> str:
    """The city of a destination: 鹤山 for Heshan, else the first 市 after the province."""
    if area == Destination.Area.HESHAN:
        return "鹤山市"
    match = _CITY.match(region_text.strip())
    return match.group(1) if match else "未填写地区"


@dataclass(frozen=True)
class Destinations:
    cities: list[tuple[str, int]]
    industries: list[tuple[str, int]]
    total: int


def destinations(*, year: int | None, top: int = 10) -> Destinations:
    """Where the employed natives work, by the newest employment record of each (two queries):
    cities and industries, the largest ``top`` and the rest as 其他."""
    newest = (
        Destination.objects.filter(talent=OuterRef("talent"), kind=Destination.Kind.EMPLOYED)
        .order_by("-year", "-created_at", "-id")
        .values("id")[:1]
    )
    rows = Destination.objects.filter(
        kind=Destination.Kind.EMPLOYED,
        talent__in=_cohort(year),
        id=Subquery(newest),
    )
    cities: Counter[str] = Counter()
    for r in rows.values("region_text", "area").annotate(n=Count("id")).order_by():
        cities[city_of(r["region_text"], r["area"])] += r["n"]
    industries: Counter[str] = Counter()
    for ind in rows.values("industry__name").annotate(n=Count("id")).order_by():
        industries[ind["industry__name"] or "未填写行业"] += ind["n"]
    return Destinations(_top(cities, top), _top(industries, top), sum(cities.values()))


def _top(counter: Counter[str], top: int) -> list[tuple[str, int]]:
    ranked = sorted(counter.items(), key=lambda kv: (-kv[1], kv[0]))
    head, rest = ranked[:top], ranked[top:]
    if rest:
        head.append(("其他", sum(n for _, n in rest)))
    return head


def bar_chart(pairs: list[tuple[str, int]], name: str) -> dict[str, Any]:
    return {
        "tooltip": {"trigger": "axis"},
        "grid": {"left": 110, "right": 40, "top": 10, "bottom": 20},
        "xAxis": {"type": "value"},
        "yAxis": {"type": "category", "data": [k for k, _ in pairs], "inverse": True},
        "series": [
            {
                "name": name,
                "type": "bar",
                "data": [n for _, n in pairs],
                "itemStyle": {"color": "#0f6b5c"},
                "label": {"show": True, "position": "right"},
            }
        ],
    }


def funnel_chart(f: Funnel) -> dict[str, Any]:
    return {
        "tooltip": {"trigger": "item"},
        "series": [
            {
                "name": f.label,
                "type": "funnel",
                "sort": "none",
                "left": "10%",
                "width": "80%",
                "label": {"show": True, "position": "inside", "formatter": "{b}：{c}"},
                "data": [{"name": label, "value": n} for _c, label, n, _r in f.steps],
            }
        ],
    }


# ---- precomputed (qinghe.plan.precomputed): the page reads these from one stored row ---------

TOP = 30  # rows of a breakdown before the rest is summed as 其他


def _funnel_json(f: Funnel) -> dict[str, Any]:
    return {"label": f.label, "counts": f.counts, "link_query": f.link_query}


def _funnel_from(d: dict[str, Any]) -> Funnel:
    return Funnel(d["label"], {c: int(d["counts"][c]) for c, _ in STAGES}, d["link_query"])


def funnel_data(*, year: int) -> dict[str, Any]:
    """Everything the funnel page shows for the cohort of ``year``, as JSON: year-on-year,
    each dimension's breakdown (the top ``TOP`` and 其他) and where the employed work. Seven
    grouped queries."""
    yoy = year_on_year(year=year)
    where = destinations(year=year)
    return {
        "yoy": {"this": _funnel_json(yoy.this), "before": _funnel_json(yoy.before)},
        "breakdowns": {
            by: [
                _funnel_json(f)
                for f in breakdown(by=by, year=None if by == "year" else year, top=TOP)
            ]
            for by in DIMENSIONS
        },
        "where": {
            "cities": where.cities,
            "industries": where.industries,
            "total": where.total,
        },
    }


@dataclass(frozen=True)
class FunnelPage:
    yoy: YearOnYear
    breakdowns: dict[str, list[Funnel]]
    where: Destinations


def funnel_page(data: dict[str, Any], *, year: int) -> FunnelPage:
    """The stored JSON of ``funnel_data`` back as the page's objects."""
    w = data["where"]
    return FunnelPage(
        yoy=YearOnYear(
            year, _funnel_from(data["yoy"]["this"]), _funnel_from(data["yoy"]["before"])
        ),
        breakdowns={by: [_funnel_from(f) for f in rows] for by, rows in data["breakdowns"].items()},
        where=Destinations(
            [(str(k), int(n)) for k, n in w["cities"]],
            [(str(k), int(n)) for k, n in w["industries"]],
            int(w["total"]),
        ),
    )
