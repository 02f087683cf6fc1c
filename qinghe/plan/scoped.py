"""Scoped boards (issue 18 item 3): the figures a chapter's ambassador or an enterprise's HR
may see, each linked to the list of rows behind it.

One registry per scope. Every figure is a filter (``where``) over one of the scope's *bases*
(a queryset already restricted to the chapter or the enterprise, and to what that viewer may
read); the board counts each base once with a filtered aggregate, and the drill-down list is
the same base with the same filter. So a figure and its list cannot disagree, and neither can
reach another chapter's or enterprise's rows: the scope is applied in the base, before any
figure's filter.

- An ambassador (``Role.AMBASSADOR``) sees the chapters of their current terms (appointed,
  term not over: ``qinghe.alliance.ambassadors.current_terms``): members, applications waiting,
  events the chapter organised and their attendance, activity reports.
- An enterprise's HR sees their own enterprise: postings, quality jobs, internship posts,
  applications they may read (the applicant's share consent in force, as on the applicant
  list), hires, interviews, fair booths.

Anyone else has no scope (the page answers 404; the policy table keeps other roles out)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, cast

from django.db.models import Count, Q, QuerySet, Sum
from django.utils import timezone

from qinghe.core.errors import NotFound
from qinghe.core.labels import choice_label
from qinghe.core.masking import mask_name
from qinghe.core.roles import Role

from .selectors import year_bounds

CHAPTER = "chapter"
ENTERPRISE = "enterprise"


@dataclass(frozen=True)
class Scope:
    kind: str  # CHAPTER or ENTERPRISE
    label: str
    # CHAPTER: the chapter and its organisation; ENTERPRISE: the enterprise and its organisation.
    object_id: int
    organisation_id: int
    # An ambassador's other chapters (id, name), to switch between them.
    choices: tuple[tuple[int, str], ...] = ()


@dataclass(frozen=True)
class ScopedFigure:
    code: str
    name: str
    unit: str
    source: str
    base: str
    where: Callable[[Scope, int], Q]
    # Sum this field of the rows instead of counting them (internship posts: headcounts).
    total: str = ""


@dataclass(frozen=True)
class Column:
    label: str
    value: Callable[[Any], Any]


@dataclass(frozen=True)
class Base:
    rows: Callable[[Scope], QuerySet[Any]]
    columns: tuple[Column, ...]
    related: tuple[str, ...] = ()
    order: tuple[str, ...] = ("-id",)
    # The fields the columns show (with ``related``'s): the page reads only these, not every
    # column of the talent and the posting (~10 ms of Python for 50 interviews on the bench).
    fields: tuple[str, ...] = ()


def _in_year(field: str, year: int) -> Q:
    start, end = year_bounds(year)
    return Q(**{f"{field}__gte": start, f"{field}__lt": end})


def _local(value: dt.datetime | None) -> str:
    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M") if value else "—"


def _day(value: dt.date | dt.datetime | None) -> str:
    if value is None:
        return "—"
    if isinstance(value, dt.datetime):
        value = timezone.localtime(value).date()
    return value.isoformat()


# ---- the chapter (an ambassador) --------------------------------------------------------------


def _memberships(scope: Scope) -> QuerySet[Any]:
    from qinghe.alliance.models import Membership

    return Membership.objects.filter(chapter_id=scope.object_id)


def _chapter_events(scope: Scope) -> QuerySet[Any]:
    from qinghe.events.models import Event

    return Event.objects.filter(
        organiser_id=scope.organisation_id,
        state__in=(Event.State.PUBLISHED, Event.State.FINISHED),
    )


def _chapter_attendance(scope: Scope) -> QuerySet[Any]:
    from qinghe.events.models import Event, Registration

    return Registration.objects.filter(
        event__organiser_id=scope.organisation_id,
        event__state__in=(Event.State.PUBLISHED, Event.State.FINISHED),
        attended_at__isnull=False,
    )


def _chapter_reports(scope: Scope) -> QuerySet[Any]:
    from qinghe.alliance.models import ActivityReport

    return ActivityReport.objects.filter(chapter_id=scope.object_id)


def _member_name(m: Any) -> str:
    return mask_name(m.user.display_name or m.user.username)


# ---- the enterprise ---------------------------------------------------------------------------


def _postings(scope: Scope) -> QuerySet[Any]:
    from qinghe.jobs.models import Posting

    return Posting.objects.filter(enterprise_id=scope.object_id)


def _applications(scope: Scope) -> QuerySet[Any]:
    """The applications the enterprise may read: its own, with the applicant's consent to
    share with it in force (the same rule as its applicant list)."""
    from qinghe.recruitment.models import Application

    return Application.objects.filter(
        enterprise_id=scope.object_id, talent_id__in=_sharing_talents(scope)
    )


def _sharing_talents(scope: Scope) -> QuerySet[Any]:
    """The talents whose decision in force on sharing with this enterprise is a consent, as
    one set (``qinghe.talents.consent.talents_consenting``)."""
    from qinghe.talents.consent import talents_consenting
    from qinghe.talents.models import Consent

    return talents_consenting(Consent.Purpose.SHARE_ENTERPRISE, enterprise=scope.organisation_id)


def _interviews(scope: Scope) -> QuerySet[Any]:
    from qinghe.recruitment.models import Interview

    # A join on the application (its enterprise index) rather than ``application IN
    # (applications...)``: the IN form read every interview of the platform (366 ms at the
    # p50 for 30,000 interviews on the bench, load ~20).
    return Interview.objects.filter(
        application__enterprise_id=scope.object_id,
        application__talent_id__in=_sharing_talents(scope),
    ).exclude(state=Interview.State.CANCELLED)


def _booths(scope: Scope) -> QuerySet[Any]:
    from qinghe.fairs.models import Booth

    return Booth.objects.filter(enterprise_id=scope.object_id)


def _kinds() -> tuple[str, ...]:
    from qinghe.jobs.selectors import INTERNSHIP_KINDS

    return tuple(INTERNSHIP_KINDS)


BASES: dict[str, Base] = {
    "memberships": Base(
        _memberships,
        (
            Column("会员", _member_name),
            Column("状态", lambda m: choice_label(m, "status")),
            Column("身份", lambda m: choice_label(m, "role")),
            Column("入会时间", lambda m: _day(m.joined_at)),
        ),
        related=("user",),
        order=("-joined_at", "-id"),
        fields=("status", "role", "joined_at", "user__display_name", "user__username"),
    ),
    "chapter_events": Base(
        _chapter_events,
        (
            Column("活动", lambda e: e.title),
            Column("类型", lambda e: choice_label(e, "type")),
            Column("开始时间", lambda e: _local(e.starts_at)),
            Column("状态", lambda e: choice_label(e, "state")),
        ),
        order=("-starts_at", "-id"),
        fields=("title", "type", "starts_at", "state"),
    ),
    "chapter_attendance": Base(
        _chapter_attendance,
        (
            Column("学子", lambda r: mask_name(r.user.display_name or r.user.username)),
            Column("活动", lambda r: r.event.title),
            Column("签到时间", lambda r: _local(r.attended_at)),
        ),
        related=("user", "event"),
        order=("-attended_at", "-id"),
        fields=("attended_at", "user__display_name", "user__username", "event__title"),
    ),
    "chapter_reports": Base(
        _chapter_reports,
        (
            Column("活动日期", lambda r: _day(r.held_on)),
            Column("活动", lambda r: r.title),
            Column("参加人数", lambda r: r.attendance),
        ),
        order=("-held_on", "-id"),
        fields=("held_on", "title", "attendance"),
    ),
    "postings": Base(
        _postings,
        (
            Column("岗位", lambda p: p.title),
            Column("类型", lambda p: choice_label(p, "kind")),
            Column("招聘人数", lambda p: p.headcount),
            Column("状态", lambda p: choice_label(p, "state")),
            Column("发布时间", lambda p: _day(p.published_at)),
        ),
        order=("-published_at", "-id"),
        fields=("title", "kind", "headcount", "state", "published_at"),
    ),
    "applications": Base(
        _applications,
        (
            Column("应聘者", lambda a: mask_name(a.talent.name)),
            Column("岗位", lambda a: a.posting.title),
            Column("阶段", lambda a: a.stage.name),
            Column("投递时间", lambda a: _local(a.applied_at)),
        ),
        related=("talent", "posting", "stage"),
        order=("-applied_at", "-id"),
        fields=("applied_at", "talent__name", "posting__title", "stage__name"),
    ),
    "interviews": Base(
        _interviews,
        (
            Column("应聘者", lambda i: mask_name(i.application.talent.name)),
            Column("岗位", lambda i: i.application.posting.title),
            Column("面试时间", lambda i: _local(i.starts_at)),
            Column("状态", lambda i: choice_label(i, "state")),
        ),
        related=("application__talent", "application__posting"),
        order=("-starts_at", "-id"),
        fields=("starts_at", "state", "application__talent__name", "application__posting__title"),
    ),
    "booths": Base(
        _booths,
        (
            Column("招聘会", lambda b: b.fair.title),
            Column("开始时间", lambda b: _local(b.fair.starts_at)),
            Column("展位状态", lambda b: choice_label(b, "state")),
        ),
        related=("fair",),
        order=("-fair__starts_at", "-id"),
        fields=("state", "fair__title", "fair__starts_at"),
    ),
}


def _active(scope: Scope, year: int) -> Q:
    return Q(status="active")


FIGURES: dict[str, tuple[ScopedFigure, ...]] = {
    CHAPTER: (
        ScopedFigure("members", "在会会员", "人", "本分会状态为“在会”的会员人数（当前）", "memberships", _active),
        ScopedFigure("joined", "本年入会", "人", "本年入会、目前仍在会的会员人数", "memberships", lambda s, y: Q(status="active") & _in_year("joined_at", y)),
        ScopedFigure("pending", "待审核申请", "人", "申请加入本分会、尚待审核的人数（当前）", "memberships", lambda s, y: Q(status="pending")),
        ScopedFigure("events", "分会活动", "场", "本分会主办、本年开始、已发布或已结束的活动场数", "chapter_events", lambda s, y: _in_year("starts_at", y)),
        ScopedFigure("attendance", "活动签到", "人次", "本分会主办的本年活动的现场签到人次", "chapter_attendance", lambda s, y: _in_year("event__starts_at", y)),
        ScopedFigure("reports", "大使活动报告", "次", "本年报告的本分会活动次数（活动日期在本年）", "chapter_reports", lambda s, y: Q(held_on__year=y)),
        ScopedFigure("reported_attendance", "报告参加人数", "人次", "本年活动报告填报的参加人数之和", "chapter_reports", lambda s, y: Q(held_on__year=y), total="attendance"),
    ),
    ENTERPRISE: (
        ScopedFigure("open_postings", "在招岗位", "个", "本企业状态为“已发布”的岗位数（当前）", "postings", lambda s, y: Q(state="published")),
        ScopedFigure("published", "本年发布岗位", "个", "本企业发布时间在本年的岗位数（含已关闭）", "postings", lambda s, y: _in_year("published_at", y)),
        ScopedFigure("quality_jobs", "优质岗位", "个", "本企业本年认定且未撤销的优质岗位数", "postings", lambda s, y: Q(is_quality=True) & _in_year("quality_certified_at", y)),
        ScopedFigure("internship_posts", "实习岗位", "个", "本企业本年发布的实习、见习岗位招收人数之和", "postings", lambda s, y: Q(kind__in=_kinds()) & _in_year("published_at", y), total="headcount"),
        ScopedFigure("applications", "收到投递", "份", "本年投向本企业岗位、学子授权本企业查看的简历份数", "applications", lambda s, y: _in_year("applied_at", y)),
        ScopedFigure("hires", "录用", "人", "本年录用的应聘者人数（录用时间在本年）", "applications", lambda s, y: _in_year("hired_at", y)),
        ScopedFigure("interviews", "面试", "场", "本年安排、未取消的面试场次（面试时间在本年）", "interviews", lambda s, y: _in_year("starts_at", y)),
        ScopedFigure("booths", "招聘会展位", "个", "本年开始的招聘会中，本企业审核通过的展位数", "booths", lambda s, y: Q(state="approved") & _in_year("fair__starts_at", y)),
    ),
}  # fmt: skip

TITLES = {CHAPTER: "分会看板", ENTERPRISE: "企业看板"}


def figure_get(scope: Scope, code: str) -> ScopedFigure:
    for f in FIGURES[scope.kind]:
        if f.code == code:
            return f
    raise NotFound("未找到该指标")


# ---- who sees what ----------------------------------------------------------------------------


def scope_for_viewer(*, viewer: Any, chapter_id: int | None = None) -> Scope:
    """The viewer's own scope: an enterprise HR's enterprise, an ambassador's chapter (the one
    asked for among their current terms, else the first by name). 404 for anyone else, and
    for a chapter the ambassador does not serve."""
    role = getattr(viewer, "role", None)
    if role == Role.ENTERPRISE_HR:
        from qinghe.enterprises.selectors import enterprise_for_user

        enterprise = enterprise_for_user(user=viewer)
        if enterprise is None:
            raise NotFound("未找到所属企业")
        return Scope(ENTERPRISE, enterprise.name, enterprise.pk, enterprise.organisation_id)
    if role == Role.AMBASSADOR:
        from qinghe.alliance.ambassadors import current_terms
        from qinghe.alliance.models import Chapter

        chapters = sorted(
            {
                (t.chapter_id, t.chapter.name, t.chapter.organisation_id)
                for t in current_terms(user=viewer).filter(chapter__state=Chapter.State.ACTIVE)
            },
            key=lambda c: (c[1], c[0]),
        )
        if not chapters:
            raise NotFound("目前没有在任的分会")
        chosen = chapters[0]
        if chapter_id is not None:
            chosen = next((c for c in chapters if c[0] == chapter_id), None)  # type: ignore[assignment]
            if chosen is None:
                raise NotFound("未找到该分会")
        return Scope(
            CHAPTER, chosen[1], chosen[0], chosen[2], tuple((c[0], c[1]) for c in chapters)
        )
    raise NotFound()


# ---- figures and lists ------------------------------------------------------------------------


@dataclass(frozen=True)
class ScopedRow:
    figure: ScopedFigure
    value: int


def scoped_figures(*, scope: Scope, year: int) -> list[ScopedRow]:
    """Every figure of the scope: one aggregate query per base (memberships, events,
    attendance, reports; postings, applications, interviews, booths)."""
    values: dict[str, int] = {}
    figures = FIGURES[scope.kind]
    for base_name in dict.fromkeys(f.base for f in figures):
        mine = [f for f in figures if f.base == base_name]
        aggregates = {
            f.code: (
                Sum(f.total, filter=f.where(scope, year))
                if f.total
                else Count("pk", filter=f.where(scope, year))
            )
            for f in mine
        }
        row = BASES[base_name].rows(scope).order_by().aggregate(**aggregates)
        values.update({code: int(v or 0) for code, v in row.items()})
    return [ScopedRow(f, values[f.code]) for f in figures]


def scoped_rows(*, scope: Scope, code: str, year: int) -> tuple[ScopedFigure, QuerySet[Any]]:
    """The rows behind one figure, as the figure counts them."""
    figure = figure_get(scope, code)
    base = BASES[figure.base]
    qs = base.rows(scope).filter(figure.where(scope, year))
    if base.related:
        qs = qs.select_related(*base.related)
    return figure, qs.order_by(*base.order)


def page_of(figure: ScopedFigure, rows: QuerySet[Any], number: Any, per_page: int) -> Any:
    """One page of a drill-down list in two queries: the page's ids and the number of rows in
    one (``COUNT(*) OVER ()`` beside the ids, sorted and cut on the lean rows, no joins for
    the columns), then only those rows read by id with their related objects. The rows are
    selected once: a COUNT and a separate page query ran the scope's filter twice (the
    enterprise's interviews on the bench: its 5,600 applications, their consent set and an
    interview lookup per application, ~15 ms of database CPU each). A page past the end (or
    not a positive number) falls back to ``Paginator.get_page`` (the last page)."""
    from django.core.paginator import Paginator
    from django.db.models import Window

    from qinghe.core.pagination import CountedPaginator

    base = BASES[figure.base]
    lean = rows.select_related(None)
    try:
        wanted = int(number)
    except (TypeError, ValueError):
        wanted = 1
    got: list[tuple[Any, int]] = []
    if wanted >= 1:
        offset = (wanted - 1) * per_page
        got = list(
            lean.annotate(listed=Window(Count("pk"))).values_list("pk", "listed")[
                offset : offset + per_page
            ]
        )
    if got or wanted == 1:
        page = CountedPaginator(lean, per_page, count=got[0][1] if got else 0).page(wanted)
        if not got:
            page.object_list = []
            return page
        ids: Any = [pk for pk, _listed in got]
    else:
        page = Paginator(lean, per_page).get_page(number)
        ids = cast(QuerySet[Any], page.object_list).values("pk")
    shown = rows.model._default_manager.filter(pk__in=ids).select_related(*base.related)
    if base.fields:
        shown = shown.only(*base.fields)
    page.object_list = shown.order_by(*base.order)
    return page


def columns_for(figure: ScopedFigure) -> tuple[Column, ...]:
    return BASES[figure.base].columns
