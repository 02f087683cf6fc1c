"""The plan's targets (measures 5 and 6) and the counts measured against them: quality jobs
certified, internship bases and posts, natives hired on the platform; the per-base counts
the internship-base pages show. Reads postings (qinghe.jobs) and hires (qinghe.recruitment)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db.models import Count, Q, QuerySet, Sum
from django.utils import timezone

from qinghe.enterprises.models import Enterprise, InternshipBase
from qinghe.enterprises.selectors import certified_bases_in_year
from qinghe.jobs.models import Posting
from qinghe.jobs.selectors import INTERNSHIP_KINDS
from qinghe.recruitment.models import Application
from qinghe.talents.models import Destination, Talent

from .models import YearTarget


def year_target(*, year: int) -> YearTarget:
    """The saved targets of a year, or the defaults (unsaved) when none were set."""
    return YearTarget.objects.filter(year=year).first() or YearTarget(year=year)


def natives() -> QuerySet[Talent]:
    """Talent records with evidence of being Heshan natives (merged duplicates left out)."""
    return Talent.objects.filter(merged_into__isnull=True).exclude(
        native_evidence=Talent.Evidence.NONE
    )


def year_bounds(year: int) -> tuple[dt.datetime, dt.datetime]:
    return _year_bounds(year)


def _year_bounds(year: int) -> tuple[dt.datetime, dt.datetime]:
    tz = timezone.get_current_timezone()
    return (
        dt.datetime(year, 1, 1, tzinfo=tz),
        dt.datetime(year + 1, 1, 1, tzinfo=tz),
    )


def quality_jobs_in_year(*, year: int) -> QuerySet[Posting]:
    start, end = _year_bounds(year)
    return Posting.objects.filter(
        is_quality=True, quality_certified_at__gte=start, quality_certified_at__lt=end
    )


def internship_postings_in_year(*, year: int) -> QuerySet[Posting]:
    start, end = _year_bounds(year)
    return Posting.objects.filter(
        kind__in=INTERNSHIP_KINDS,
        published_at__gte=start,
        published_at__lt=end,
        enterprise__state=Enterprise.State.VERIFIED,
    )


def internship_posts_in_year(*, year: int) -> int:
    """Internship posts = the headcount of internship and traineeship postings published in
    the year (a posting for 5 interns is 5 posts)."""
    total = internship_postings_in_year(year=year).aggregate(n=Sum("headcount"))["n"]
    return int(total or 0)


def native_hires_in_year(*, year: int) -> QuerySet[Any]:
    """Destination records written by hires on the platform (part B: Application.destination)
    in the year, for talents with evidence of being Heshan natives."""
    start, end = _year_bounds(year)
    return Destination.objects.filter(
        hire_application__isnull=False,
        hire_application__hired_at__gte=start,
        hire_application__hired_at__lt=end,
    ).exclude(talent__native_evidence=Talent.Evidence.NONE)


def placed_interns(*, enterprise_id: int, year: int) -> int:
    """Hires on an enterprise's internship and traineeship postings in the year."""
    start, end = _year_bounds(year)
    return Application.objects.filter(
        enterprise_id=enterprise_id,
        posting__kind__in=INTERNSHIP_KINDS,
        hired_at__gte=start,
        hired_at__lt=end,
    ).count()


@dataclass(frozen=True)
class BaseYearCount:
    base: InternshipBase
    postings: int
    posts: int
    placed: int


def internship_base_counts(*, bases: list[InternshipBase], year: int) -> list[BaseYearCount]:
    """Per base: internship postings and posts published in the year, and interns placed."""
    enterprise_ids = {b.enterprise_id for b in bases}
    posted: dict[int, dict[str, Any]] = {
        row["enterprise_id"]: dict(row)
        for row in internship_postings_in_year(year=year)
        .filter(enterprise_id__in=enterprise_ids)
        .values("enterprise_id")
        .annotate(n=Count("id"), posts=Sum("headcount"))
    }
    start, end = _year_bounds(year)
    placed = {
        row["enterprise_id"]: row["n"]
        for row in Application.objects.filter(
            enterprise_id__in=enterprise_ids,
            posting__kind__in=INTERNSHIP_KINDS,
            hired_at__gte=start,
            hired_at__lt=end,
        )
        .values("enterprise_id")
        .annotate(n=Count("id"))
    }
    return [
        BaseYearCount(
            base=b,
            postings=posted.get(b.enterprise_id, {}).get("n", 0),
            posts=int(posted.get(b.enterprise_id, {}).get("posts") or 0),
            placed=placed.get(b.enterprise_id, 0),
        )
        for b in bases
    ]


@dataclass(frozen=True)
class TargetLine:
    code: str
    label: str
    goal: int
    count: int
    source: str

    @property
    def percent(self) -> int:
        return min(100, round(self.count * 100 / self.goal)) if self.goal else 100

    @property
    def met(self) -> bool:
        return self.count >= self.goal


def recruitment_events_in_year(*, year: int) -> QuerySet[Any]:
    """Recruitment events (fairs, cloud fairs, live streams, campus talks, enterprise visits)
    held in the year: published or finished, starting in the year."""
    from qinghe.events.models import RECRUITMENT_TYPES, Event

    start, end = _year_bounds(year)
    return Event.objects.filter(
        type__in=RECRUITMENT_TYPES,
        state__in=(Event.State.PUBLISHED, Event.State.FINISHED),
        starts_at__gte=start,
        starts_at__lt=end,
    )


def events_held_in_year(*, year: int) -> QuerySet[Any]:
    """Every event (any type) published or finished, starting in the year."""
    from qinghe.events.models import Event

    start, end = _year_bounds(year)
    return Event.objects.filter(
        state__in=(Event.State.PUBLISHED, Event.State.FINISHED),
        starts_at__gte=start,
        starts_at__lt=end,
    )


@dataclass(frozen=True)
class Figure:
    label: str
    value: int
    source: str


def gathering_figures(*, year: int) -> list[Figure]:
    """Measures 3, 7 and 8 without a yearly target: the alliance as it is now, and the year's
    events by type, attendance and study-tour participants."""
    from qinghe.alliance.selectors import counts_for_plan
    from qinghe.events.models import Event, Registration
    from qinghe.fairs.selectors import fairs_counts_for_plan

    alliance = counts_for_plan()
    fairs = fairs_counts_for_plan(year)
    start, end = _year_bounds(year)
    held = Event.objects.filter(
        state__in=(Event.State.PUBLISHED, Event.State.FINISHED),
        starts_at__gte=start,
        starts_at__lt=end,
    )
    att = Registration.objects.filter(event__in=held, attended_at__isnull=False).aggregate(
        n=Count("id"),
        tour=Count("user_id", filter=Q(event__type=Event.Type.STUDY_TOUR), distinct=True),
    )
    return [
        Figure("联盟会员", alliance["members"], "至少加入一个活跃分会的学子人数（当前）"),
        Figure("联盟分会", alliance["chapters"], "活跃的分会数（当前）"),
        Figure("覆盖院校", alliance["universities"], "会员就读院校与高校分会所在院校（当前）"),
        Figure("覆盖城市", alliance["cities"], "会员院校所在城市与分会所在城市（当前）"),
        Figure("举办活动", held.count(), "本年开始、已发布或已结束的各类活动场数"),
        Figure("活动签到", att["n"], "本年活动的现场签到人次"),
        Figure("研学参加", att["tour"], "本年研学活动签到的学子人数"),
        Figure("云招聘会", fairs["fairs"], "本年开始、已发布或已结束的云招聘会场数"),
        Figure("云招聘展位", fairs["booths"], "本年云招聘会审核通过的企业展位数"),
        Figure("云招聘面谈", fairs["students_served"], "本年云招聘会展位叫号并完成面谈的学子人次"),
    ]


def year_progress(*, year: int, target: YearTarget | None = None) -> list[TargetLine]:
    target = target or year_target(year=year)
    bases = certified_bases_in_year(year=year).values("enterprise_id").distinct().count()
    return [
        TargetLine(
            "quality_jobs",
            "优质岗位",
            target.quality_jobs,
            quality_jobs_in_year(year=year).count(),
            "本年认定且未撤销的优质岗位数（优质岗位认定时间在本年）",
        ),
        TargetLine(
            "internship_bases",
            "认定实习基地",
            target.internship_bases,
            bases,
            "认定有效期与本年有交集、未撤销的实习基地所属企业数（状态为已认定，有效期覆盖本年任一天）",
        ),
        TargetLine(
            "internship_posts",
            "实习岗位",
            target.internship_posts,
            internship_posts_in_year(year=year),
            "本年发布的实习、见习岗位招收人数之和（发布时间在本年，企业已认证，合计各岗位招收人数）",
        ),
        TargetLine(
            "native_hires",
            "鹤山籍学子录用",
            target.native_hires,
            native_hires_in_year(year=year).count(),
            "平台录用写入的毕业去向记录中，有鹤山籍依据的人数（来自平台投递的录用，录用时间在本年，鹤山籍依据不为“暂无”）",
        ),
        TargetLine(
            "recruitment_events",
            "招聘活动",
            target.recruitment_events,
            recruitment_events_in_year(year=year).count(),
            "本年开始、已发布或已结束的招聘会、云招聘、直播带岗、宣讲会、企业高校行场数",
        ),
    ]


def year_progress_chart(lines: list[TargetLine]) -> dict[str, Any]:
    """An ECharts bar chart: count against goal for each target."""
    labels = [line.label for line in lines]
    return {
        "tooltip": {"trigger": "axis"},
        "legend": {"data": ["目标", "完成"]},
        "grid": {"left": 110, "right": 30, "top": 30, "bottom": 20},
        "xAxis": {"type": "value"},
        "yAxis": {"type": "category", "data": labels, "inverse": True},
        "series": [
            {
                "name": "目标",
                "type": "bar",
                "data": [line.goal for line in lines],
                "itemStyle": {"color": "#c8d6d3"},
                "label": {"show": True, "position": "right"},
            },
            {
                "name": "完成",
                "type": "bar",
                "data": [line.count for line in lines],
                "itemStyle": {"color": "#0f6b5c"},
                "label": {"show": True, "position": "right"},
            },
        ],
    }


def report_list(*, viewer: Any) -> QuerySet[Any]:
    """The archive of monthly reports (without the files), for the leaders' roles only."""
    from .models import MonthlyReport
    from .services import REPORT_READERS

    if getattr(viewer, "role", None) not in REPORT_READERS:
        return MonthlyReport.objects.none()
    return MonthlyReport.objects.defer("pdf", "xlsx").select_related("created_by")


def report_get_for_viewer(*, viewer: Any, report_id: int) -> Any:
    from qinghe.core.errors import NotFound

    from .models import MonthlyReport
    from .services import REPORT_READERS

    if getattr(viewer, "role", None) not in REPORT_READERS:
        raise NotFound()
    report = MonthlyReport.objects.filter(pk=report_id).first()
    if report is None:
        raise NotFound()
    return report
