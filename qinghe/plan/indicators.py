"""THE registry of the plan's indicators (十个一): one entry per figure on the board, with its
measure, Chinese name, the bureau that owns it, where the number comes from in words a leader
reads, the list behind it and a selector that returns the value — or ``None`` when the data does
not exist yet (the board then says so; it never shows a made-up number).

Selectors take a ``Measured`` context: figures that share a query (the alliance's three, the
cards', the stations', the subsidies') are computed once per page, so the board's query count
is fixed whatever the rows (pinned in tests/test_board.py).

To wire in a new source (e.g. the cloud recruiting platform's fairs), replace the entry's
``value`` with a selector over ``Measured``; nothing else changes."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from django.db.models import Count, Q
from django.utils import timezone

from . import selectors
from .models import YearTarget

Value = int | float | None

HR_BUREAU = "市人社局"
EDU_BUREAU = "市教育局"
LEAGUE = "团市委"
ORG_DEPT = "市委组织部"
STATIONS = "市人社局（人才驿站）"


class Measured:
    """The figures of one year as of ``today`` (a month's end for a snapshot), each group
    queried at most once."""

    def __init__(self, *, year: int, today: dt.date | None = None) -> None:
        self.year = year
        self.today = today or timezone.localdate()

    @cached_property
    def target(self) -> YearTarget:
        return selectors.year_target(year=self.year)

    @cached_property
    def progress(self) -> dict[str, int]:
        return {
            line.code: line.count
            for line in selectors.year_progress(year=self.year, target=self.target)
        }

    @cached_property
    def talents(self) -> dict[str, int]:
        """Natives on file, with a current destination, confirmed in the last year: one query."""
        from qinghe.talents.models import Destination, Talent

        year_ago = timezone.now() - dt.timedelta(days=365)
        # IN (a hashed subplan over the destinations) rather than a correlated EXISTS: one row
        # per talent, no DISTINCT, and on PostgreSQL a plan cost low enough not to set off JIT
        # compilation (EXPLAIN on the bench, 100,000 talents: EXISTS 1,347 ms of which JIT
        # 884 ms; IN 232 ms, load ~20).
        has_destination = Q(pk__in=Destination.objects.order_by().values("talent_id"))
        row = selectors.natives().aggregate(
            natives=Count("id"),
            with_destination=Count("id", filter=Q(has_destination)),
            confirmed=Count("id", filter=Q(last_confirmed_at__gte=year_ago)),
            returned=Count("id", filter=Q(status=Talent.Status.EMPLOYED_HESHAN)),
        )
        return {k: int(v or 0) for k, v in row.items()}

    @cached_property
    def contact(self) -> dict[str, Any]:
        from qinghe.outreach.selectors import contact_rate, term_start

        return contact_rate(start=term_start(self.today), end=self.today)

    @cached_property
    def alliance(self) -> dict[str, Any]:
        from qinghe.alliance.selectors import counts_for_plan

        return counts_for_plan()

    @cached_property
    def ambassadors(self) -> int:
        from qinghe.alliance.models import Nomination

        return (
            Nomination.objects.filter(
                state=Nomination.State.APPOINTED, term_ends_on__gte=self.today
            )
            .values("nominee_id")
            .distinct()
            .count()
        )

    @cached_property
    def events(self) -> dict[str, int]:
        from qinghe.events.models import Event, Registration

        start, end = selectors.year_bounds(self.year)
        row = Registration.objects.filter(
            event__state__in=(Event.State.PUBLISHED, Event.State.FINISHED),
            event__starts_at__gte=start,
            event__starts_at__lt=end,
            event__type__in=(Event.Type.STUDY_TOUR, Event.Type.SHARING),
        ).aggregate(
            tour=Count(
                "user_id",
                filter=Q(event__type=Event.Type.STUDY_TOUR, attended_at__isnull=False),
                distinct=True,
            ),
            sessions=Count("event_id", distinct=True),
        )
        held = Event.objects.filter(
            state__in=(Event.State.PUBLISHED, Event.State.FINISHED),
            starts_at__gte=start,
            starts_at__lt=end,
            type__in=(Event.Type.STUDY_TOUR, Event.Type.SHARING),
        ).count()
        return {"sessions": held, "tour_participants": int(row["tour"] or 0)}

    @cached_property
    def cards(self) -> dict[str, Any]:
        from qinghe.cards.selectors import card_counts

        return card_counts(year=self.year)

    @cached_property
    def services(self) -> dict[str, Any]:
        from qinghe.stations.selectors import service_counts

        return service_counts(year=self.year)

    @cached_property
    def fairs(self) -> dict[str, int]:
        from qinghe.fairs.selectors import fairs_counts_for_plan

        return fairs_counts_for_plan(self.year)

    @cached_property
    def live(self) -> dict[str, int]:
        from qinghe.live.selectors import live_counts_for_plan

        return live_counts_for_plan(self.year)

    @cached_property
    def video(self) -> int:
        from qinghe.video.selectors import video_counts_for_plan

        return video_counts_for_plan(self.year)

    @cached_property
    def subsidies(self) -> dict[str, Any]:
        from qinghe.policies.selectors import subsidy_figures

        return subsidy_figures(year=self.year)


def _share(part: int, whole: int) -> float:
    return round(100 * part / whole, 1) if whole else 0.0


@dataclass(frozen=True)
class Indicator:
    code: str
    measure: int
    name: str
    owner: str
    source: str
    unit: str
    value: Callable[[Measured], Value]
    # The YearTarget field holding this indicator's goal for the year, if it has one.
    target_field: str = ""
    # The list behind the figure (view name and query string); the list applies the viewer's
    # own scope.
    link: str = ""
    link_query: str = ""
    # Figures that count the year so far (reset in January) rather than a state "as of now".
    cumulative: bool = False


MEASURES: dict[int, str] = {
    1: "一库：鹤山籍学子数据库",
    2: "一对一：联络服务",
    3: "一盟：青鹤联盟",
    4: "一平台：云招聘",
    5: "一批优质岗位",
    6: "一批实习基地与实习岗位",
    7: "一系列招聘活动",
    8: "一堂家乡教育课",
    9: "一站式服务与鹤才青年卡",
    10: "一揽子政策",
}

INDICATORS: tuple[Indicator, ...] = (
    # 1. the talent database
    Indicator("natives", 1, "在库鹤山籍学子", HR_BUREAU, "人才库中有鹤山籍依据（身份证号或户籍）的学子人数（当前，不含已合并记录）", "人", lambda m: m.talents["natives"], link="talents:list", link_query="native_evidence=any"),
    Indicator("natives_with_destination", 1, "有毕业去向记录的比例", HR_BUREAU, "在库鹤山籍学子中，至少有一条毕业去向记录（调查导入、本人填报或平台录用）的比例", "%", lambda m: _share(m.talents["with_destination"], m.talents["natives"])),
    Indicator("natives_confirmed", 1, "近一年本人确认的比例", HR_BUREAU, "在库鹤山籍学子中，近 365 天内本人确认过信息的比例", "%", lambda m: _share(m.talents["confirmed"], m.talents["natives"])),
    # 2. one-to-one liaison
    Indicator("contact_term_rate", 2, "本学期已联系上的比例", HR_BUREAU, "已分配服务专员的学子中，本学期（9 月或 3 月起）至少一次联络结果为“联系上”的比例", "%", lambda m: m.contact["rate"], link="outreach:figures"),
    Indicator("contact_overdue", 2, "逾期未跟进", HR_BUREAU, "约定跟进日期已过、仍未跟进的学子人数（当前）", "人", lambda m: m.contact["overdue"], link="outreach:figures"),
    # 3. the alliance
    Indicator("alliance_members", 3, "联盟会员", LEAGUE, "至少加入一个活跃分会的学子人数（当前）", "人", lambda m: m.alliance["members"], link="alliance:figures"),
    Indicator("alliance_chapters", 3, "联盟分会", LEAGUE, "活跃的分会数（当前）", "个", lambda m: m.alliance["chapters"], link="alliance:figures"),
    Indicator("alliance_universities", 3, "覆盖院校", LEAGUE, "会员就读院校与高校分会所在院校（当前）", "所", lambda m: m.alliance["universities"], link="alliance:figures"),
    Indicator("alliance_cities", 3, "覆盖城市", LEAGUE, "会员院校所在城市与分会所在城市（当前）", "个", lambda m: m.alliance["cities"], link="alliance:figures"),
    Indicator("ambassadors", 3, "在任高校引才大使", ORG_DEPT, "本年度评选当选、任期未满的大使人数", "人", lambda m: m.ambassadors, link="alliance:ambassador_rounds"),
    # 4. the cloud recruiting platform
    Indicator("cloud_fairs", 4, "云招聘会", HR_BUREAU, "本年度举办（已发布或已结束）的线上招聘会场次", "场", lambda m: m.fairs["fairs"], cumulative=True),
    Indicator("cloud_streams", 4, "直播带岗", HR_BUREAU, "本年度已结束的直播带岗场次", "场", lambda m: m.live["streams"], cumulative=True),
    Indicator("cloud_interviews", 4, "视频面试", HR_BUREAU, "本年度在平台视频面试间进行（已到面试时间）的面试场次，含招聘会叫号和预约的视频面试", "场", lambda m: m.video, cumulative=True),
    Indicator("cloud_applications", 4, "经云平台投递", HR_BUREAU, "本年度招聘会期间投向展位岗位的简历，加上直播中一键投递的简历", "份", lambda m: m.fairs["applications"] + m.live["applications"], cumulative=True),
    # 5. quality jobs
    Indicator("quality_jobs", 5, "优质岗位", HR_BUREAU, "本年认定且未撤销的优质岗位数（优质岗位认定时间在本年）", "个", lambda m: m.progress["quality_jobs"], target_field="quality_jobs", link="jobs:staff_list", link_query="quality=1", cumulative=True),
    Indicator("native_hires", 5, "鹤山籍学子录用", HR_BUREAU, "平台录用写入的毕业去向记录中，有鹤山籍依据的人数（录用时间在本年）", "人", lambda m: m.progress["native_hires"], target_field="native_hires", link="recruitment:staff_applications", cumulative=True),
    # 6. internship bases and posts
    Indicator("internship_bases", 6, "认定实习基地", HR_BUREAU, "认定有效期与本年有交集、未撤销的实习基地所属企业数", "家", lambda m: m.progress["internship_bases"], target_field="internship_bases", link="enterprises:base_list", cumulative=True),
    Indicator("internship_posts", 6, "实习岗位", HR_BUREAU, "本年发布的实习、见习岗位招收人数之和（企业已认证）", "个", lambda m: m.progress["internship_posts"], target_field="internship_posts", link="jobs:staff_list", link_query="kind=internship", cumulative=True),
    # 7. recruitment events
    Indicator("recruitment_events", 7, "招聘活动", HR_BUREAU, "本年开始、已发布或已结束的招聘会、云招聘、直播带岗、宣讲会、企业高校行场数", "场", lambda m: m.progress["recruitment_events"], target_field="recruitment_events", link="events:manage", cumulative=True),
    # 8. hometown education
    Indicator("hometown_sessions", 8, "研学与分享会", f"{LEAGUE}、{EDU_BUREAU}", "本年开始、已发布或已结束的研学活动与人才分享会场数", "场", lambda m: m.events["sessions"], link="events:manage", cumulative=True),
    Indicator("study_tour_participants", 8, "研学参加学子", f"{LEAGUE}、{EDU_BUREAU}", "本年研学活动现场签到的学子人数", "人", lambda m: m.events["tour_participants"], cumulative=True),
    # 9. one-stop service and the card
    Indicator("cards_issued", 9, "鹤才青年卡发卡", STATIONS, "本年审核通过发放的鹤才青年卡张数（卡片事件“审核通过”）", "张", lambda m: m.cards["issued"], link="cards:manage", cumulative=True),
    Indicator("services_delivered", 9, "驿站服务人次", STATIONS, "本年受理的服务申请、专窗办结的取号、预约的健康体检之和", "人次", lambda m: sum(m.services["by_type"].values()), cumulative=True),
    Indicator("average_wait", 9, "专窗平均等候", STATIONS, "本年专窗取号到办结的平均分钟数（无办结记录时为无数据）", "分钟", lambda m: m.services["average_wait_minutes"]),
    # 10. policies
    Indicator("subsidy_applications", 10, "补贴申请", HR_BUREAU, "本年提交、未撤回的补贴申请件数", "件", lambda m: m.subsidies["applications"], link="policies:staff_applications", cumulative=True),
    Indicator("subsidy_approved", 10, "补贴批准", HR_BUREAU, "本年提交、已批准的补贴申请件数", "件", lambda m: m.subsidies["approved"], link="policies:staff_applications", cumulative=True),
    Indicator("subsidy_paid", 10, "补贴发放金额", HR_BUREAU, "本年发放记录的金额之和（元）", "元", lambda m: float(m.subsidies["paid_total"]), link="policies:figures", cumulative=True),
)  # fmt: skip

BY_CODE: dict[str, Indicator] = {i.code: i for i in INDICATORS}


def measure_all(m: Measured) -> dict[str, Value]:
    return {i.code: i.value(m) for i in INDICATORS}
