"""The 工作台 of each role: what to do now and the few figures that matter, each figure a
count of the very list it links to (the same selector with the same filter), so a figure and
its list cannot disagree, and each scoped to the viewer exactly as that list is.

This module only assembles: every count comes from the owning app's selector."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from django.db.models import Exists, OuterRef, Q
from django.urls import reverse
from django.utils import timezone

from qinghe.accounts.models import User
from qinghe.core import fragments
from qinghe.core.roles import Role
from qinghe.talents.models import Talent


@dataclass(frozen=True)
class Figure:
    """One figure of the workbench. ``todo`` (with ``{n}``) turns a non-zero count into an
    item of 现在要做; ``value`` is a count, or a short text (a percentage, a state)."""

    key: str
    label: str
    value: int | str
    url: str
    note: str = ""
    todo: str = ""

    @property
    def is_count(self) -> bool:
        return isinstance(self.value, int)


@dataclass(frozen=True)
class Todo:
    key: str
    text: str
    url: str


@dataclass(frozen=True)
class MissingItem:
    label: str
    url: str


@dataclass(frozen=True)
class Completeness:
    """How complete a student's own record is, and what is missing, each with where to fix it."""

    done: int
    total: int
    missing: list[MissingItem]

    @property
    def percent(self) -> int:
        return round(100 * self.done / self.total) if self.total else 0


@dataclass
class Workbench:
    lead: str
    figures: list[Figure]
    completeness: Completeness | None = None
    notices: list[Todo] = field(default_factory=list)

    def figure(self, key: str) -> Figure:
        return next(f for f in self.figures if f.key == key)

    @property
    def todos(self) -> list[Todo]:
        items = list(self.notices)
        if self.completeness is not None and self.completeness.missing:
            first = self.completeness.missing[0]
            items.append(
                Todo(
                    "completeness",
                    f"完善档案：{first.label}（完整度 {self.completeness.percent}%）",
                    first.url,
                )
            )
        for f in self.figures:
            if f.todo and isinstance(f.value, int) and f.value > 0:
                items.append(Todo(f.key, f.todo.format(n=f.value), f.url))
        return items


def _url(name: str, *, fragment: str = "", **query: Any) -> str:
    url = reverse(name)
    if query:
        url += "?" + urlencode(query)
    return url + (f"#{fragment}" if fragment else "")


# --- everyone --------------------------------------------------------------------------------


def _unread(viewer: User) -> Figure:
    from qinghe.notifications.selectors import inbox_list

    return Figure(
        "unread",
        "未读消息",
        inbox_list(user=viewer, unread=True).count(),
        _url("notifications:inbox", unread="1"),
        todo="阅读 {n} 条未读消息",
    )


# --- the cloud platform (fairs, streams, video interviews) ------------------------------------


def _fairs_running(viewer: User) -> Figure:
    from qinghe.fairs.selectors import fair_list

    return Figure(
        "fairs_running",
        "进行中的云招聘会",
        fair_list(viewer=viewer, show="running").count(),
        _url("fairs:list", show="running"),
        note="进入展厅，看各展位排队人数",
    )


def _streams_upcoming(viewer: User, url_name: str = "live:list") -> Figure:
    from qinghe.live.selectors import streams_for_viewer

    return Figure(
        "streams_upcoming",
        "未结束的直播带岗",
        streams_for_viewer(viewer=viewer, show="upcoming").count(),
        _url(url_name, show="upcoming") if url_name == "live:list" else _url(url_name),
        note="直播中与即将开始的直播",
    )


def _video_open(viewer: User) -> Figure:
    from qinghe.video.models import VideoRoom
    from qinghe.video.selectors import rooms_for_viewer

    return Figure(
        "video_open",
        "待进行的视频面试",
        rooms_for_viewer(viewer=viewer).filter(state=VideoRoom.State.OPEN).count(),
        _url("video:mine"),
        todo="进入 {n} 场待进行的视频面试",
    )


def _queue_notices(viewer: User) -> list[Todo]:
    """A student waiting or called at a booth: where to go now (the booth's page)."""
    from qinghe.fairs.models import ACTIVE_STATES, QueueEntry

    entries = (
        QueueEntry.objects.filter(
            student_id=viewer.pk, state__in=ACTIVE_STATES, booth__fair__state="published"
        )
        .select_related("booth__enterprise")
        .order_by("joined_at", "id")[:3]
    )
    return [
        Todo(
            f"queue_{e.pk}",
            f"{'轮到你了' if e.state == QueueEntry.State.CALLED else '正在排队'}："
            f"{e.booth.enterprise.name}展位",
            reverse("fairs:booth", args=[e.booth_id]),
        )
        for e in entries
    ]


def _booth_notices(viewer: User) -> list[Todo]:
    """Students waiting at the enterprise's own booths: one item per booth, to its queue."""
    from django.db.models import Count

    from qinghe.fairs.selectors import waiting_at_own_booths

    rows = (
        waiting_at_own_booths(viewer=viewer)
        .values("booth_id", "booth__fair__title")
        .annotate(n=Count("id"))
        .order_by("booth_id")
    )
    return [
        Todo(
            f"booth_{r['booth_id']}",
            f"{r['n']} 位学子在本企业展位排队（{r['booth__fair__title']}）",
            reverse("fairs:queue", args=[r["booth_id"]]),
        )
        for r in rows
    ]


def _booths_review(viewer: User) -> Figure:
    from qinghe.fairs.selectors import booths_to_review

    return Figure(
        "booths_review",
        "待审核展位",
        booths_to_review(viewer=viewer).count(),
        _url("fairs:list"),
        note="企业申请的云招聘会展位",
        todo="审核 {n} 个云招聘会展位申请",
    )


# --- students and ambassadors ----------------------------------------------------------------


def student_record(*, viewer: User) -> tuple[Talent | None, Completeness]:
    """The student's own record and how complete it is for recommendations and enterprises:
    one query (the record with an EXISTS or a consent subquery per item)."""
    from qinghe.matching.models import MatchingProfile
    from qinghe.talents.consent import consent_in_force
    from qinghe.talents.models import Consent, Education, PhoneNumber

    profile = MatchingProfile.objects.filter(talent=OuterRef("pk"))
    talent = (
        Talent.objects.filter(user=viewer, merged_into__isnull=True)
        .annotate(
            has_phone=Exists(PhoneNumber.objects.filter(talent=OuterRef("pk"), is_current=True)),
            has_education=Exists(
                Education.objects.filter(
                    talent=OuterRef("pk"), graduation_year__isnull=False
                ).filter(Q(major__isnull=False) | ~Q(major_name=""))
            ),
            has_intentions=Exists(
                profile.filter(
                    Q(expected_salary__isnull=False)
                    | ~Q(skills="")
                    | Q(preferred_towns__isnull=False)
                    | Q(preferred_industries__isnull=False)
                )
            ),
            matching=consent_in_force(Consent.Purpose.MATCHING),
        )
        .first()
    )
    if talent is None:
        return None, Completeness(0, 1, [MissingItem("人才档案（认领或建立）", _url("me:claim"))])
    items = [
        (bool(getattr(talent, "has_phone", False)), "手机号", _url("me:edit")),
        (bool(talent.email), "电子邮箱", _url("me:edit")),
        (bool(talent.hukou_text), "户籍地", _url("me:edit")),
        (
            bool(getattr(talent, "has_education", False)),
            "学历、专业与毕业年份",
            _url("me:education"),
        ),
        (
            bool(getattr(talent, "has_intentions", False)),
            "求职意向",
            _url("matching:preferences"),
        ),
        (
            getattr(talent, "matching", None) is True,
            "岗位匹配授权",
            _url("me:home", fragment="consents"),
        ),
    ]
    return talent, Completeness(
        done=sum(1 for ok, _label, _link in items if ok),
        total=len(items),
        missing=[MissingItem(label, link) for ok, label, link in items if not ok],
    )


def student_workbench(viewer: User) -> Workbench:
    from qinghe.events.selectors import upcoming_registrations
    from qinghe.matching.models import Invitation
    from qinghe.matching.selectors import NEW_RECOMMENDATION_DAYS, new_recommendations
    from qinghe.outreach.models import Consultation
    from qinghe.recruitment.selectors import student_applications

    talent, completeness = student_record(viewer=viewer)
    # 为你推荐 shows nothing without the matching consent: neither does its figure.
    matching = talent is not None and getattr(talent, "matching", None) is True
    new_recs = new_recommendations(talent=talent).count() if talent and matching else 0
    invitations = (
        Invitation.objects.filter(talent=talent, state=Invitation.State.PENDING).count()
        if talent
        else 0
    )
    consultations = Consultation.objects.filter(student=viewer).aggregate(
        open=_count(Q(state=Consultation.State.OPEN)),
        answered=_count(Q(state=Consultation.State.ANSWERED)),
    )
    return Workbench(
        lead="看看新推荐的岗位，关注投递与面试进度。",
        completeness=completeness,
        notices=_queue_notices(viewer),
        figures=[
            Figure(
                "new_recommendations",
                "新推荐岗位",
                new_recs,
                _url("matching:for_me", show="new"),
                note=f"近 {NEW_RECOMMENDATION_DAYS} 天发布、适合你的岗位",
            ),
            Figure(
                "invitations",
                "企业邀请",
                invitations,
                _url("matching:for_me"),
                note="企业看到你的推荐后邀请你投递",
                todo="回复 {n} 个企业的投递邀请",
            ),
            Figure(
                "applications",
                "进行中的投递",
                student_applications(viewer=viewer, show="active").count(),
                _url("recruitment:my_applications", show="active"),
            ),
            Figure(
                "interviews",
                "即将面试",
                student_applications(viewer=viewer, show="interview").count(),
                _url("recruitment:my_applications", show="interview"),
                todo="查看 {n} 个即将进行的面试安排",
            ),
            _unread(viewer),
            Figure(
                "events",
                "已报名活动",
                upcoming_registrations(user=viewer).count(),
                _url("events:mine", show="upcoming"),
                note="尚未结束的活动（含候补）",
            ),
            Figure(
                "consultations_open",
                "咨询待答复",
                int(consultations["open"] or 0),
                _url("outreach:my_consultations"),
            ),
            Figure(
                "consultations_answered",
                "咨询已答复",
                int(consultations["answered"] or 0),
                _url("outreach:my_consultations"),
                note="看看答复，评价后办结",
                todo="查看并评价 {n} 条已答复的咨询",
            ),
            _video_open(viewer),
            _fairs_running(viewer),
            _streams_upcoming(viewer),
        ],
    )


def _count(condition: Q) -> Any:
    from django.db.models import Count

    return Count("id", filter=condition)


# --- enterprise HR ---------------------------------------------------------------------------


def enterprise_workbench(viewer: User) -> Workbench:
    from qinghe.enterprises.models import Enterprise
    from qinghe.enterprises.selectors import enterprise_for_user
    from qinghe.jobs.models import Posting
    from qinghe.jobs.selectors import EXPIRING_DAYS, own_postings
    from qinghe.recruitment.selectors import ApplicantFilter, enterprise_applications

    enterprise = enterprise_for_user(user=viewer)
    notices: list[Todo] = []
    if enterprise is None:
        notices.append(
            Todo("no_enterprise", "账号尚未关联企业：请先登记企业信息", _url("enterprises:mine"))
        )
    elif enterprise.state == Enterprise.State.PENDING:
        notices.append(
            Todo("pending", "企业认证审核中：可先编写岗位草稿", _url("enterprises:mine"))
        )
    elif enterprise.state == Enterprise.State.REJECTED:
        notices.append(
            Todo("rejected", "企业认证未通过：按审核意见修改后重新提交", _url("enterprises:mine"))
        )
    notices += _booth_notices(viewer)
    return Workbench(
        lead="处理新投递，安排面试，留意即将截止的岗位。",
        notices=notices,
        figures=[
            Figure(
                "new_applicants",
                "待处理投递",
                enterprise_applications(viewer=viewer, filters=ApplicantFilter(show="new")).count(),
                _url("recruitment:applicants", show="new"),
                note="新投递、尚未移动阶段",
                todo="处理 {n} 份新投递",
            ),
            Figure(
                "interviews_today",
                "今日面试",
                enterprise_applications(
                    viewer=viewer, filters=ApplicantFilter(show="today")
                ).count(),
                _url("recruitment:applicants", show="today"),
                note="今天有面试的应聘者",
                todo="今天有 {n} 位应聘者面试",
            ),
            Figure(
                "expiring",
                "即将截止岗位",
                own_postings(viewer=viewer, show="expiring").count(),
                _url("jobs:my_list", show="expiring"),
                note=f"{EXPIRING_DAYS} 天内截止的在招岗位",
                todo="{n} 个岗位即将截止：需要时延长截止日期",
            ),
            Figure(
                "returned",
                "退回修改",
                own_postings(viewer=viewer, show="returned").count(),
                _url("jobs:my_list", show="returned"),
                note="人社局审核退回的岗位",
                todo="按审核意见修改 {n} 个退回的岗位",
            ),
            Figure(
                "in_review",
                "审核中岗位",
                own_postings(viewer=viewer, state=Posting.State.REVIEW).count(),
                _url("jobs:my_list", state=Posting.State.REVIEW),
            ),
            Figure(
                "verification",
                "企业认证",
                enterprise.get_state_display() if enterprise else "未登记",
                _url("enterprises:mine"),
            ),
            _video_open(viewer),
            _fairs_running(viewer),
            _streams_upcoming(viewer),
            _unread(viewer),
        ],
    )


# --- liaison ---------------------------------------------------------------------------------


def liaison_workbench(viewer: User) -> Workbench:
    from qinghe.outreach.selectors import consultations_for_staff, workspace

    ws = workspace(liaison=viewer)
    reached = len(ws.students) - len(ws.unreached_term)
    return Workbench(
        lead=f"联系你负责的 {len(ws.students)} 位学子，按时跟进，答复咨询。",
        figures=[
            Figure(
                "due_today",
                "今日跟进",
                len(ws.due_today),
                _url("outreach:workspace", show="due"),
                todo="今天跟进 {n} 位学子",
            ),
            Figure(
                "overdue",
                "逾期跟进",
                len(ws.overdue),
                _url("outreach:workspace", show="overdue"),
                todo="补上 {n} 位学子的逾期跟进",
            ),
            Figure(
                "to_contact",
                "待联络（失联）",
                len(ws.lost),
                _url("outreach:workspace", show="lost"),
                note="从未联系上、久未联系上或号码错误",
                todo="联系 {n} 位失联的学子",
            ),
            Figure(
                "term_rate",
                "本学期联络率",
                f"{ws.term_rate:g}%",
                _url("outreach:workspace", show="unreached"),
                note=f"{ws.term_start:%-m月%-d日}以来已联系上 {reached} / {len(ws.students)} 人",
            ),
            Figure(
                "consultations_open",
                "待答复咨询",
                consultations_for_staff(viewer=viewer, show="open").count(),
                _url("outreach:consultations", show="open"),
                todo="答复 {n} 条咨询",
            ),
            _unread(viewer),
        ],
    )


# --- HR bureau staff and the system administrator --------------------------------------------

DUPLICATE_COUNT_SECONDS = 300


def hr_figures(viewer: User) -> list[Figure]:
    from qinghe.enterprises.models import Enterprise, InternshipBase
    from qinghe.enterprises.selectors import enterprise_list, internship_base_list
    from qinghe.jobs.models import Posting
    from qinghe.jobs.selectors import StaffPostingFilter, staff_postings
    from qinghe.outreach.selectors import consultations_for_staff
    from qinghe.plan.selectors import year_progress
    from qinghe.talents.models import Talent
    from qinghe.talents.selectors import (
        TalentFilter,
        duplicate_group_count,
        import_batch_list,
        talent_list,
    )

    year = timezone.localdate().year
    figures = [
        Figure(
            "postings_review",
            "待审核岗位",
            staff_postings(
                viewer=viewer, filters=StaffPostingFilter(state=Posting.State.REVIEW)
            ).count(),
            _url("jobs:staff_list", state=Posting.State.REVIEW),
            todo="审核 {n} 个岗位",
        ),
        Figure(
            "enterprises_review",
            "待审核企业",
            enterprise_list(viewer=viewer, state=Enterprise.State.PENDING).count(),
            _url("enterprises:review_list", state=Enterprise.State.PENDING),
            todo="审核 {n} 家企业",
        ),
        Figure(
            "bases_review",
            "待认定实习基地",
            internship_base_list(viewer=viewer, state=InternshipBase.State.APPLIED).count(),
            _url("enterprises:base_list", state=InternshipBase.State.APPLIED),
            todo="认定 {n} 个实习基地申请",
        ),
        Figure(
            "imports_attention",
            "需处理的导入",
            import_batch_list(viewer=viewer, show="attention").count(),
            _url("talents:import_list", show="attention"),
            note="有拒绝、暂缓或待跟进行的批次",
        ),
        Figure(
            "conflicts",
            "来源不一致",
            talent_list(viewer=viewer, filters=TalentFilter(conflict="1")).count(),
            _url("talents:list", conflict="1"),
            note="调查表与本人填报不一致，待选定",
            todo="核实 {n} 名学子来源不一致的信息",
        ),
        Figure(
            "self_created",
            "学生自建待核实",
            talent_list(
                viewer=viewer, filters=TalentFilter(verification=Talent.Verification.PENDING)
            ).count(),
            _url("talents:list", verification=Talent.Verification.PENDING),
            todo="核实 {n} 条学生自建档案",
        ),
        Figure(
            "duplicates",
            "疑似重复",
            # ~130 ms of database time at 100k talents: kept (per role) until a record is
            # saved or merged one at a time, at most 5 minutes (an import's bulk writes)
            fragments.kept(
                "duplicate-group-count",
                (fragments.TALENTS,),
                (getattr(viewer, "role", None),),
                lambda: duplicate_group_count(viewer=viewer),
                seconds=DUPLICATE_COUNT_SECONDS,
            ),
            _url("talents:duplicates"),
            note="姓名与手机号或出生日期、院校相同",
            todo="合并 {n} 组疑似重复的档案",
        ),
        Figure(
            "consultations_overdue",
            "超时未答复咨询",
            consultations_for_staff(viewer=viewer, show="overdue").count(),
            _url("outreach:consultations", show="overdue"),
            todo="督办 {n} 条超时未答复的咨询",
        ),
    ]
    for line in year_progress(year=year):
        figures.append(
            Figure(
                f"plan_{line.code}",
                f"{year}年{line.label}",
                f"{line.count} / {line.goal}",
                _url("plan:targets", year=year),
                note=f"完成 {line.percent}%",
            )
        )
    return figures


def hr_workbench(viewer: User) -> Workbench:
    return Workbench(
        lead="审核企业与岗位，处理导入与重复档案，关注年度目标进度。",
        figures=[
            *hr_figures(viewer),
            _booths_review(viewer),
            _streams_upcoming(viewer, "live:manage"),
            _unread(viewer),
        ],
    )


def sysadmin_workbench(viewer: User) -> Workbench:
    from qinghe.notifications.selectors import undelivered_list

    return Workbench(
        lead="确认发送结果未知的消息，其余待办与人社局相同。",
        figures=[
            Figure(
                "undelivered",
                "待确认消息",
                undelivered_list().count(),
                _url("notifications:undelivered"),
                note="发送结果未知的短信、邮件、微信消息",
                todo="确认 {n} 条发送结果未知的消息",
            ),
            *hr_figures(viewer),
            _booths_review(viewer),
            _streams_upcoming(viewer, "live:manage"),
            _unread(viewer),
        ],
    )


# --- education bureau ------------------------------------------------------------------------


def edu_workbench(viewer: User) -> Workbench:
    from qinghe.talents.models import ImportBatch
    from qinghe.talents.selectors import TalentFilter, import_batch_list, talent_list

    year = timezone.localdate().year
    batches = import_batch_list(viewer=viewer)
    return Workbench(
        lead="上传毕业生就业调查表，处理导入中被拒绝或需跟进的行。",
        figures=[
            Figure(
                "imports_attention",
                "需处理的导入",
                import_batch_list(viewer=viewer, show="attention").count(),
                _url("talents:import_list", show="attention"),
                note="你上传的批次中有拒绝、暂缓或待跟进行的",
                todo="处理 {n} 个导入批次中被拒绝或待跟进的行",
            ),
            Figure(
                "imports_running",
                "导入中",
                batches.filter(
                    state__in=(ImportBatch.State.QUEUED, ImportBatch.State.RUNNING)
                ).count(),
                _url("talents:import_list"),
            ),
            Figure(
                "graduates",
                f"{year}届学子",
                talent_list(viewer=viewer, filters=TalentFilter(graduation_year=year)).count(),
                _url("talents:list", graduation_year=year),
            ),
            _unread(viewer),
        ],
    )


# --- Youth League / organisation department --------------------------------------------------


def league_workbench(viewer: User) -> Workbench:
    from qinghe.events.models import Event
    from qinghe.events.selectors import event_manage_list
    from qinghe.outreach.models import Campaign
    from qinghe.outreach.selectors import campaign_list

    return Workbench(
        lead="审核企业提交的活动，办好已发布的活动，向学子推送资讯。",
        figures=[
            Figure(
                "events_review",
                "待审核活动",
                event_manage_list(viewer=viewer, state=Event.State.REVIEW).count(),
                _url("events:manage", state=Event.State.REVIEW),
                todo="审核 {n} 个活动",
            ),
            Figure(
                "events_published",
                "已发布活动",
                event_manage_list(viewer=viewer, state=Event.State.PUBLISHED).count(),
                _url("events:manage", state=Event.State.PUBLISHED),
            ),
            Figure(
                "events_draft",
                "活动草稿",
                event_manage_list(viewer=viewer, state=Event.State.DRAFT).count(),
                _url("events:manage", state=Event.State.DRAFT),
                todo="完成并发布 {n} 个活动草稿",
            ),
            Figure(
                "campaigns",
                "推送草稿",
                campaign_list(viewer=viewer).filter(state=Campaign.State.DRAFT).count(),
                _url("outreach:campaigns"),
            ),
            _booths_review(viewer),
            _streams_upcoming(viewer, "live:manage"),
            _unread(viewer),
        ],
    )


# --- talent station --------------------------------------------------------------------------


def station_workbench(viewer: User) -> Workbench:
    from qinghe.outreach.selectors import consultations_for_staff

    return Workbench(
        lead="答复学子向本驿站点单的咨询。",
        figures=[
            Figure(
                "consultations_open",
                "待答复咨询",
                consultations_for_staff(viewer=viewer, show="open").count(),
                _url("outreach:consultations", show="open"),
                todo="答复 {n} 条咨询",
            ),
            Figure(
                "consultations_overdue",
                "已超时",
                consultations_for_staff(viewer=viewer, show="overdue").count(),
                _url("outreach:consultations", show="overdue"),
                todo="尽快答复 {n} 条已超时的咨询",
            ),
            _unread(viewer),
        ],
    )


# --- auditor ---------------------------------------------------------------------------------


def auditor_workbench(viewer: User) -> Workbench:
    from qinghe.core.models import AuditLog
    from qinghe.core.selectors import audit_list

    today = timezone.localdate()

    def today_count(key: str, label: str, action: str, note: str) -> Figure:
        return Figure(
            key,
            label,
            audit_list(viewer=viewer, action=action, day=today).count(),
            _url("core:audit_list", action=action, day=today.isoformat()),
            note=note,
        )

    return Workbench(
        lead="查看今天的敏感操作：完整信息查看、导出与登录失败。",
        figures=[
            today_count(
                "unmask_today",
                "今日完整信息查看",
                AuditLog.Action.UNMASK,
                "谁查看了完整手机号、身份证号",
            ),
            today_count("export_today", "今日导出", AuditLog.Action.EXPORT, "导出的文件与条数"),
            today_count(
                "login_failed_today",
                "今日登录失败",
                AuditLog.Action.LOGIN_FAILED,
                "可能的撞库或遗忘密码",
            ),
            _unread(viewer),
        ],
    )


def partner_workbench(viewer: User) -> Workbench:
    """A partner organisation (a hospital, a venue) only verifies cards and logs benefit uses."""
    from qinghe.cards.models import BenefitUse

    today = timezone.localdate()
    mine = BenefitUse.objects.filter(partner_id=getattr(viewer, "organisation_id", 0) or 0)
    used = mine.filter(used_at__date=today).count()
    month = mine.filter(used_at__date__gte=today.replace(day=1)).count()
    return Workbench(
        lead="核验鹤才青年卡并登记权益使用：扫描或粘贴持卡人出示的电子卡二维码。",
        figures=[
            Figure(
                "benefits_today",
                "今日登记权益使用",
                used,
                _url("cards:partner"),
                note="本单位今天登记的次数",
            ),
            Figure(
                "benefits_month",
                "本月登记权益使用",
                month,
                _url("cards:partner"),
                note="本单位本月登记的次数",
            ),
            _unread(viewer),
        ],
        notices=[Todo("verify", "核验电子卡", _url("cards:partner"))],
    )


BUILDERS: dict[str, Callable[[User], Workbench]] = {
    Role.PARTNER: partner_workbench,
    Role.STUDENT: student_workbench,
    Role.AMBASSADOR: student_workbench,
    Role.ENTERPRISE_HR: enterprise_workbench,
    Role.LIAISON: liaison_workbench,
    Role.HR_STAFF: hr_workbench,
    Role.SYSADMIN: sysadmin_workbench,
    Role.EDU_STAFF: edu_workbench,
    Role.LEAGUE_STAFF: league_workbench,
    Role.STATION_STAFF: station_workbench,
    Role.AUDITOR: auditor_workbench,
}


def workbench_for(*, viewer: User) -> Workbench:
    """The viewer's workbench (every role has one: tests check BUILDERS covers Role)."""
    return BUILDERS[viewer.role](viewer)
