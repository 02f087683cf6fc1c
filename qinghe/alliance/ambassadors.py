"""高校引才大使: the yearly nomination round, the vote, the term, and what an ambassador does.

- League staff open a round for a year, choosing appointment or a vote by the members.
- A chapter's active member nominates themselves; a chapter's leader nominates a member.
- Staff shortlist (or not) each nomination. In appointment mode staff then appoint; in vote
  mode staff open the vote and each active member of a chapter casts one vote among that
  chapter's shortlisted candidates (held by the database: one vote per member, chapter, round).
- Closing the round appoints the chapter's winner (most votes; a tie goes to the earlier
  nomination, and the counts are kept in the audit row) and ends the rest.
- An appointment makes the student an ambassador (role) until 31 December of the round's year;
  ``end_ambassador_terms`` (daily) ends terms that are over and gives back the student role.

Every write is audited and messages the people it concerns, in the same transaction."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Count, Q, QuerySet
from django.urls import reverse
from django.utils import timezone

from qinghe.accounts.models import User
from qinghe.core.audit import audit_record
from qinghe.core.errors import ApplicationError, NotFound, PermissionDenied
from qinghe.core.roles import Role
from qinghe.notifications.models import Category, Channel
from qinghe.notifications.services import make_key, notify, notify_bulk
from qinghe.talents.consent import consent_granted_by_talent
from qinghe.talents.models import Consent, PhoneNumber, Talent

from .models import (
    ActivityReport,
    AmbassadorRound,
    Chapter,
    Membership,
    Nomination,
    Vote,
)
from .selectors import chapter_members, is_alliance_staff, is_leader, is_member_role

CHANNELS = (Channel.INBOX,)


def _require_staff(actor: User) -> None:
    if not is_alliance_staff(actor):
        raise PermissionDenied("只有团市委工作人员可以管理大使评选")


def _is_active_member(user: User, chapter: Chapter) -> bool:
    return Membership.objects.filter(
        user=user, chapter=chapter, status=Membership.Status.ACTIVE
    ).exists()


def _say(user: User, subject: str, body: str, key: str, url: str) -> None:
    notify(
        user=user,
        channels=CHANNELS,
        category=Category.SYSTEM,
        subject=subject[:60],
        body=body,
        key=key,
        data={"url": url},
    )


# ---- reads ----------------------------------------------------------------------------------


def round_current() -> AmbassadorRound | None:
    """The open round (nominating or voting), if any."""
    return (
        AmbassadorRound.objects.exclude(state=AmbassadorRound.State.CLOSED)
        .order_by("-year")
        .first()
    )


def round_get(*, round_id: int) -> AmbassadorRound:
    found = AmbassadorRound.objects.filter(pk=round_id).first()
    if found is None:
        raise NotFound("未找到该评选")
    return found


def round_nominations(*, round: AmbassadorRound) -> QuerySet[Nomination]:
    return (
        Nomination.objects.filter(round=round)
        .select_related("chapter", "nominee", "nominated_by")
        .annotate(vote_count=Count("votes"))
        .order_by("chapter__name", "created_at", "id")
    )


def nomination_get_for_staff(*, viewer: User, nomination_id: int) -> Nomination:
    if not is_alliance_staff(viewer):
        raise NotFound("未找到该提名")
    found = Nomination.objects.filter(pk=nomination_id).select_related("round", "chapter").first()
    if found is None:
        raise NotFound("未找到该提名")
    return found


def current_terms(*, user: User, today: dt.date | None = None) -> QuerySet[Nomination]:
    today = today or timezone.localdate()
    return Nomination.objects.filter(
        nominee=user, state=Nomination.State.APPOINTED, term_ends_on__gte=today
    ).select_related("chapter", "round")


def ballot_for(*, user: User) -> list[dict[str, Any]]:
    """The chapters where the user may vote in the round now voting, with the candidates and
    the user's vote (if cast)."""
    current = round_current()
    if current is None or current.state != AmbassadorRound.State.VOTING:
        return []
    chapters = Chapter.objects.filter(
        memberships__user=user,
        memberships__status=Membership.Status.ACTIVE,
        nominations__round=current,
        nominations__state=Nomination.State.SHORTLISTED,
    ).distinct()
    out = []
    for chapter in chapters:
        vote = Vote.objects.filter(round=current, chapter=chapter, voter=user).first()
        out.append(
            {
                "chapter": chapter,
                "candidates": list(
                    Nomination.objects.filter(
                        round=current, chapter=chapter, state=Nomination.State.SHORTLISTED
                    ).select_related("nominee")
                ),
                "voted_for": vote.nomination_id if vote else None,
            }
        )
    return out


@dataclass
class MemberContact:
    name: str
    school: str
    graduation_year: int | None
    phone: str  # only for members who consented to liaison contact, else ""


def members_for_ambassador(*, viewer: User, chapter_id: int) -> tuple[Chapter, list[MemberContact]]:
    """The ambassador's own chapter's members: names, school and graduation year; phones only
    of members whose liaison consent is in force. Audited (who read how many phones)."""
    term = current_terms(user=viewer).filter(chapter_id=chapter_id).first()
    if term is None:
        raise NotFound("未找到该分会")
    chapter = term.chapter
    rows = chapter_members(chapter=chapter)
    talents = dict(
        Talent.objects.filter(
            user_id__in=[r.membership.user_id for r in rows], merged_into__isnull=True
        ).values_list("user_id", "pk")
    )
    consented = consent_granted_by_talent(talents.values(), Consent.Purpose.LIAISON)
    phones: dict[int, str] = {}
    for number in PhoneNumber.objects.filter(
        talent_id__in=[tid for tid in talents.values() if consented.get(tid)],
        is_current=True,
        is_wrong=False,
    ).order_by("first_seen", "id"):
        phones[number.talent_id] = number.number
    out = []
    shown = 0
    for r in rows:
        tid = talents.get(r.membership.user_id)
        phone = phones.get(tid, "") if tid else ""
        shown += bool(phone)
        out.append(MemberContact(r.name, r.school, r.graduation_year, phone))
    audit_record(
        action="alliance.ambassador_members_view",
        actor=viewer,
        target=chapter,
        summary=f"大使查看{chapter.name}会员名单（显示手机号 {shown} 个）",
        count=shown,
    )
    return chapter, out


@dataclass
class YearRecord:
    year: int
    members_recruited: int
    platform_events: int  # events of their chapter on the platform, held in the year
    platform_attendance: int  # check-ins at those events
    reported_events: int  # activities held elsewhere, reported by the ambassador
    reported_attendance: int

    @property
    def events_held(self) -> int:
        return self.platform_events + self.reported_events

    @property
    def attendance(self) -> int:
        return self.platform_attendance + self.reported_attendance


def ambassador_record(*, user: User, year: int) -> YearRecord:
    """An ambassador's year: students who joined on their invitation or with their approval;
    the events of the chapters they served that year held on the platform (published or
    finished, over by now, ending in the year) with their check-ins, read from the events app;
    and the activities held elsewhere that they reported."""
    from qinghe.events.models import Event, Registration

    recruited = (
        Membership.objects.filter(joined_at__year=year, status=Membership.Status.ACTIVE)
        .filter((Q(invited_by=user) | Q(decided_by=user)) & ~Q(user=user))
        .count()
    )
    served = Nomination.objects.filter(
        nominee=user, round__year=year, state=Nomination.State.APPOINTED
    ).values("chapter__organisation_id")
    held = Event.objects.filter(
        organiser_id__in=served,
        state__in=(Event.State.PUBLISHED, Event.State.FINISHED),
        ends_at__year=year,
        ends_at__lte=timezone.now(),
    )
    checked_in = Registration.objects.filter(event__in=held, attended_at__isnull=False).count()
    reports = ActivityReport.objects.filter(ambassador=user, held_on__year=year)
    return YearRecord(
        year=year,
        members_recruited=recruited,
        platform_events=held.count(),
        platform_attendance=checked_in,
        reported_events=reports.count(),
        reported_attendance=sum(reports.values_list("attendance", flat=True)),
    )


# ---- writes ---------------------------------------------------------------------------------


@transaction.atomic
def round_open(*, actor: User, year: int, mode: str) -> AmbassadorRound:
    _require_staff(actor)
    if mode not in AmbassadorRound.Mode.values:
        raise ValidationError({"mode": "请选择产生方式"})
    if not 2000 <= year <= 2100:
        raise ValidationError({"year": "请填写正确的年度"})
    if round_current() is not None:
        raise ApplicationError("已有进行中的评选，请先结束")
    if AmbassadorRound.objects.filter(year=year).exists():
        raise ValidationError({"year": f"{year} 年度的评选已举办过"})
    created = AmbassadorRound.objects.create(year=year, mode=mode, opened_by=actor)
    audit_record(
        action="alliance.round_open",
        actor=actor,
        target=created,
        summary=f"发起 {year} 年度高校引才大使评选（{created.get_mode_display()}）",
    )
    return created


@transaction.atomic
def nominate(
    *, actor: User, chapter: Chapter, nominee: User | None = None, statement: str = ""
) -> Nomination:
    """Self-nomination (nominee omitted) by an active member, or a leader's nomination of an
    active member of their chapter."""
    current = round_current()
    if current is None or current.state != AmbassadorRound.State.NOMINATING:
        raise ApplicationError("目前没有接受提名的大使评选")
    nominee = nominee or actor
    if not is_member_role(actor):
        raise PermissionDenied("只有学子可以提名")
    if nominee.pk != actor.pk and not is_leader(user=actor, chapter=chapter):
        raise PermissionDenied("只有分会负责人可以提名其他会员")
    if not chapter.is_active or not _is_active_member(nominee, chapter):
        raise ApplicationError("被提名人须为该分会的在会会员")
    statement = (statement or "").strip()
    if len(statement) > 500:
        raise ValidationError({"statement": "推荐理由不能超过 500 字"})
    try:
        with transaction.atomic():
            nomination = Nomination.objects.create(
                round=current,
                chapter=chapter,
                nominee=nominee,
                nominated_by=actor,
                statement=statement,
            )
    except IntegrityError as exc:
        raise ApplicationError("该会员已在本分会被提名") from exc
    audit_record(
        action="alliance.nominate",
        actor=actor,
        target=nomination,
        summary=f"提名{chapter.name} {current.year} 年度大使"
        + ("（自荐）" if nominee.pk == actor.pk else ""),
    )
    if nominee.pk != actor.pk:
        _say(
            nominee,
            f"你被提名为{chapter.name}大使候选人",
            f"{chapter.name}负责人提名你为 {current.year} 年度高校引才大使候选人，工作人员审核后公布入围名单。",
            make_key("nominated", nomination.pk),
            reverse("alliance:ambassador_nominate"),
        )
    return nomination


@transaction.atomic
def shortlist(*, actor: User, nomination: Nomination, keep: bool) -> Nomination:
    _require_staff(actor)
    nomination = (
        Nomination.objects.select_for_update()
        .select_related("round", "chapter", "nominee")
        .get(pk=nomination.pk)
    )
    if nomination.round.state != AmbassadorRound.State.NOMINATING:
        raise ApplicationError("评选已进入投票或已结束，不能再调整入围名单")
    if nomination.state not in (
        Nomination.State.NOMINATED,
        Nomination.State.SHORTLISTED,
        Nomination.State.NOT_SHORTLISTED,
    ):
        raise ApplicationError(f"该提名{nomination.get_state_display()}")
    target = Nomination.State.SHORTLISTED if keep else Nomination.State.NOT_SHORTLISTED
    if nomination.state == target:
        raise ApplicationError(f"该提名已是“{nomination.get_state_display()}”")
    nomination.state = target
    nomination.decided_by = actor
    nomination.decided_at = timezone.now()
    nomination.save(update_fields=["state", "decided_by", "decided_at", "updated_at"])
    audit_record(
        action="alliance.shortlist" if keep else "alliance.not_shortlisted",
        actor=actor,
        target=nomination,
        summary=f"{'入围' if keep else '未入围'}：{nomination.chapter.name} {nomination.nominee}",
    )
    _say(
        nomination.nominee,
        f"大使评选：你{'已入围' if keep else '未入围'}",
        f"你在{nomination.chapter.name}的 {nomination.round.year} 年度大使提名{'已入围' if keep else '未入围'}。",
        make_key("shortlist", nomination.pk, target),
        reverse("alliance:ambassador_nominate"),
    )
    return nomination


def _appoint(nomination: Nomination, *, actor: User, data: dict[str, Any] | None = None) -> None:
    year = nomination.round.year
    nomination.state = Nomination.State.APPOINTED
    nomination.decided_by = actor
    nomination.decided_at = timezone.now()
    nomination.term_ends_on = dt.date(year, 12, 31)
    nomination.save(
        update_fields=["state", "decided_by", "decided_at", "term_ends_on", "updated_at"]
    )
    nominee = nomination.nominee
    if nominee.role == Role.STUDENT:
        User.objects.filter(pk=nominee.pk).update(role=Role.AMBASSADOR)
    audit_record(
        action="alliance.appoint",
        actor=actor,
        target=nomination,
        summary=f"任命 {year} 年度{nomination.chapter.name}大使：{nominee}",
        data=data,
    )
    _say(
        nominee,
        f"你当选 {year} 年度高校引才大使",
        f"恭喜！你当选{nomination.chapter.name} {year} 年度高校引才大使，任期至 {year} 年 12 月 31 日。",
        make_key("appointed", nomination.pk),
        reverse("alliance:ambassador_home"),
    )


@transaction.atomic
def appoint(*, actor: User, nomination: Nomination) -> Nomination:
    _require_staff(actor)
    nomination = (
        Nomination.objects.select_for_update()
        .select_related("round", "chapter", "nominee")
        .get(pk=nomination.pk)
    )
    if nomination.round.mode != AmbassadorRound.Mode.APPOINT:
        raise ApplicationError("本次评选由会员投票产生，请在投票结束后结束评选")
    if nomination.round.state == AmbassadorRound.State.CLOSED:
        raise ApplicationError("评选已结束")
    if nomination.state != Nomination.State.SHORTLISTED:
        raise ApplicationError("只能任命入围的候选人")
    _appoint(nomination, actor=actor)
    return nomination


@transaction.atomic
def voting_open(*, actor: User, round: AmbassadorRound) -> AmbassadorRound:
    _require_staff(actor)
    locked = AmbassadorRound.objects.select_for_update().get(pk=round.pk)
    if locked.mode != AmbassadorRound.Mode.VOTE:
        raise ApplicationError("本次评选由工作人员任命，无需投票")
    if locked.state != AmbassadorRound.State.NOMINATING:
        raise ApplicationError(f"评选{locked.get_state_display()}，不能开始投票")
    chapters = list(
        Chapter.objects.filter(
            nominations__round=locked, nominations__state=Nomination.State.SHORTLISTED
        ).distinct()
    )
    if not chapters:
        raise ApplicationError("还没有入围的候选人")
    locked.state = AmbassadorRound.State.VOTING
    locked.save(update_fields=["state", "updated_at"])
    voters = list(
        Membership.objects.filter(chapter__in=chapters, status=Membership.Status.ACTIVE)
        .values_list("user_id", flat=True)
        .distinct()
    )
    notify_bulk(
        user_ids=voters,
        channels=CHANNELS,
        category=Category.SYSTEM,
        subject=f"{locked.year} 年度高校引才大使投票开始",
        body="你所在分会的大使候选人已公布，每位会员可投一票。",
        key=make_key("vote-open", locked.pk),
        data={"url": reverse("alliance:ambassador_vote")},
    )
    audit_record(
        action="alliance.voting_open",
        actor=actor,
        target=locked,
        summary=f"{locked.year} 年度大使评选开始投票",
        count=len(voters),
    )
    return locked


@transaction.atomic
def vote_cast(*, voter: User, nomination: Nomination) -> Vote:
    nomination = Nomination.objects.select_related("round", "chapter").get(pk=nomination.pk)
    current = nomination.round
    if current.state != AmbassadorRound.State.VOTING:
        raise ApplicationError("投票尚未开始或已结束")
    if nomination.state != Nomination.State.SHORTLISTED:
        raise ApplicationError("只能投给入围的候选人")
    if not _is_active_member(voter, nomination.chapter):
        raise PermissionDenied("只有该分会的在会会员可以投票")
    try:
        with transaction.atomic():
            vote = Vote.objects.create(
                round=current, chapter=nomination.chapter, voter=voter, nomination=nomination
            )
    except IntegrityError as exc:
        raise ApplicationError("你已在本分会投过票，每位会员只能投一票") from exc
    audit_record(
        action="alliance.vote",
        actor=voter,
        target=nomination,
        summary=f"为{nomination.chapter.name}大使候选人投票",
    )
    return vote


@transaction.atomic
def round_close(*, actor: User, round: AmbassadorRound) -> dict[str, Any]:
    """Ends the round. In vote mode the chapter's candidate with most votes is appointed (tie:
    the earlier nomination); every other open nomination ends unappointed. Returns the
    results by chapter (also kept in the audit row)."""
    _require_staff(actor)
    locked = AmbassadorRound.objects.select_for_update().get(pk=round.pk)
    if locked.state == AmbassadorRound.State.CLOSED:
        raise ApplicationError("评选已结束")
    if locked.mode == AmbassadorRound.Mode.VOTE and locked.state != AmbassadorRound.State.VOTING:
        raise ApplicationError("请先开始投票，投票结束后再结束评选")
    results: dict[str, Any] = {}
    open_states = (Nomination.State.NOMINATED, Nomination.State.SHORTLISTED)
    if locked.mode == AmbassadorRound.Mode.VOTE:
        counts = Counter(Vote.objects.filter(round=locked).values_list("nomination_id", flat=True))
        by_chapter: dict[int, list[Nomination]] = {}
        for n in (
            Nomination.objects.filter(round=locked, state=Nomination.State.SHORTLISTED)
            .select_related("chapter", "nominee", "round")
            .order_by("created_at", "id")
        ):
            by_chapter.setdefault(n.chapter_id, []).append(n)
        for candidates in by_chapter.values():
            winner = max(candidates, key=lambda n: (counts[n.pk], -candidates.index(n)))
            tally = {str(n.nominee): counts[n.pk] for n in candidates}
            results[winner.chapter.name] = {"当选": str(winner.nominee), "票数": tally}
            _appoint(winner, actor=actor, data={"票数": tally})
    ended = Nomination.objects.filter(round=locked, state__in=open_states)
    for n in ended.select_related("nominee", "chapter"):
        _say(
            n.nominee,
            f"{locked.year} 年度大使评选结果",
            f"{locked.year} 年度高校引才大使评选已结束，你在{n.chapter.name}的提名未当选。感谢参与！",
            make_key("not-appointed", n.pk),
            reverse("alliance:ambassador_nominate"),
        )
    ended.update(state=Nomination.State.NOT_APPOINTED, updated_at=timezone.now())
    locked.state = AmbassadorRound.State.CLOSED
    locked.closed_at = timezone.now()
    locked.save(update_fields=["state", "closed_at", "updated_at"])
    audit_record(
        action="alliance.round_close",
        actor=actor,
        target=locked,
        summary=f"{locked.year} 年度大使评选结束",
        data={"results": results},
    )
    return results


@transaction.atomic
def terms_end(*, today: dt.date | None = None) -> int:
    """Ends every ambassador term that is over; a student with no other current term becomes
    a student again. Run daily by the schedule; running it twice changes nothing more."""
    today = today or timezone.localdate()
    over = list(
        Nomination.objects.select_for_update()
        .filter(state=Nomination.State.APPOINTED, term_ends_on__lt=today)
        .select_related("nominee", "chapter", "round")
    )
    for n in over:
        n.state = Nomination.State.ENDED
        n.save(update_fields=["state", "updated_at"])
        audit_record(
            action="alliance.term_end",
            target=n,
            summary=f"{n.round.year} 年度{n.chapter.name}大使任期届满：{n.nominee}",
        )
        still = Nomination.objects.filter(
            nominee=n.nominee, state=Nomination.State.APPOINTED, term_ends_on__gte=today
        ).exists()
        if not still and n.nominee.role == Role.AMBASSADOR:
            User.objects.filter(pk=n.nominee_id).update(role=Role.STUDENT)
        _say(
            n.nominee,
            "大使任期届满",
            f"你的 {n.round.year} 年度{n.chapter.name}高校引才大使任期已届满，感谢你为家乡引才所做的一切！",
            make_key("term-end", n.pk),
            reverse("alliance:mine"),
        )
    return len(over)


@transaction.atomic
def report_create(
    *,
    actor: User,
    chapter: Chapter,
    held_on: dt.date,
    title: str,
    attendance: int,
    description: str = "",
) -> ActivityReport:
    if not current_terms(user=actor).filter(chapter=chapter).exists():
        raise PermissionDenied("只有本分会的在任大使可以报告活动")
    title = (title or "").strip()
    errors: dict[str, str] = {}
    if not title:
        errors["title"] = "请填写活动名称"
    elif len(title) > 120:
        errors["title"] = "活动名称不能超过 120 字"
    if attendance < 0 or attendance > 100000:
        errors["attendance"] = "参加人数须在 0 到 100000 之间"
    if held_on > timezone.localdate():
        errors["held_on"] = "只能报告已经举办的活动"
    if len(description or "") > 3000:
        errors["description"] = "活动简述不能超过 3000 字"
    if errors:
        raise ValidationError(errors)
    report = ActivityReport.objects.create(
        ambassador=actor,
        chapter=chapter,
        held_on=held_on,
        title=title,
        attendance=attendance,
        description=(description or "").strip(),
    )
    audit_record(
        action="alliance.activity_report",
        actor=actor,
        target=report,
        summary=f"大使报告活动：{title}（{attendance} 人）",
    )
    return report
