"""The yearly ambassador round: nomination, shortlist, vote or appointment, the term, and what
an ambassador may see and do."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from qinghe.accounts.models import User
from qinghe.alliance import ambassadors as amb
from qinghe.alliance import services
from qinghe.alliance.models import AmbassadorRound, Membership, Nomination, Vote
from qinghe.core.errors import ApplicationError, PermissionDenied
from qinghe.core.models import AuditLog
from qinghe.core.roles import Role
from qinghe.notifications.models import OutboxMessage
from qinghe.talents.models import Consent, PhoneNumber, Talent

from .conftest import World, make_student

pytestmark = pytest.mark.django_db


def member(world: World, username: str, chapter: Any, *, leader: bool = False, **kw: Any) -> User:
    user = make_student(username, **kw)
    Membership.objects.create(
        chapter=chapter,
        user=user,
        slot=chapter.slot,
        status="active",
        role="leader" if leader else "member",
        joined_at=dt.datetime(2026, 3, 1, tzinfo=dt.UTC),
    )
    return user


def snapshot() -> tuple[Any, ...]:
    return (
        list(AmbassadorRound.objects.values_list("pk", "state")),
        list(Nomination.objects.order_by("pk").values_list("pk", "state")),
        Vote.objects.count(),
        list(User.objects.order_by("pk").values_list("pk", "role")),
        AuditLog.objects.count(),
        OutboxMessage.objects.count(),
    )


def test_a_vote_round_from_nomination_to_term_end(alliance: World) -> None:
    lead = member(alliance, "lead", alliance.uni, leader=True)
    a = member(alliance, "cand_a", alliance.uni)
    b = member(alliance, "cand_b", alliance.uni)
    voters = [member(alliance, f"v{i}", alliance.uni) for i in range(3)]
    outsider = member(alliance, "outsider", alliance.city)
    with pytest.raises(ApplicationError):
        amb.nominate(actor=a, chapter=alliance.uni)  # no round yet
    r = amb.round_open(actor=alliance.league, year=2026, mode="vote")
    na = amb.nominate(actor=a, chapter=alliance.uni, statement="组织过三次返乡见习")
    nb = amb.nominate(actor=lead, chapter=alliance.uni, nominee=b)
    assert (
        OutboxMessage.objects.get(user=b).subject == "你被提名为青鹤联盟·华南理工大学分会大使候选人"
    )
    before = snapshot()
    with pytest.raises(PermissionDenied):
        amb.nominate(actor=a, chapter=alliance.uni, nominee=b)  # not a leader
    with pytest.raises(ApplicationError):
        amb.nominate(actor=outsider, chapter=alliance.uni)  # not a member there
    with pytest.raises(ApplicationError):
        amb.nominate(actor=a, chapter=alliance.uni)  # twice
    with pytest.raises(ApplicationError):
        amb.voting_open(actor=alliance.league, round=r)  # nobody shortlisted
    assert snapshot() == before
    amb.shortlist(actor=alliance.league, nomination=na, keep=True)
    amb.shortlist(actor=alliance.league, nomination=nb, keep=True)
    amb.voting_open(actor=alliance.league, round=r)
    # every active member of the chapter is told (6 members incl. the leader)
    assert OutboxMessage.objects.filter(subject="2026 年度高校引才大使投票开始").count() == 6
    for v in voters[:2]:
        amb.vote_cast(voter=v, nomination=nb)
    amb.vote_cast(voter=voters[2], nomination=na)
    before = snapshot()
    with pytest.raises(ApplicationError) as exc:
        amb.vote_cast(voter=voters[0], nomination=na)
    assert str(exc.value) == "你已在本分会投过票，每位会员只能投一票"
    with pytest.raises(PermissionDenied):
        amb.vote_cast(voter=outsider, nomination=na)
    assert snapshot() == before
    assert amb.ballot_for(user=voters[0])[0]["voted_for"] == nb.pk
    results = amb.round_close(actor=alliance.league, round=r)
    assert results == {
        "青鹤联盟·华南理工大学分会": {
            "当选": "学子cand_b",
            "票数": {"学子cand_a": 1, "学子cand_b": 2},
        }
    }
    nb.refresh_from_db()
    na.refresh_from_db()
    assert (nb.state, nb.term_ends_on, na.state) == (
        "appointed",
        dt.date(2026, 12, 31),
        "not_appointed",
    )
    assert User.objects.get(pk=b.pk).role == Role.AMBASSADOR
    close_log = AuditLog.objects.get(action="alliance.round_close")
    assert close_log.data["results"] == results
    # voters are kept, so the count can be checked by anyone auditing
    assert sorted(Vote.objects.filter(nomination=nb).values_list("voter__username", flat=True)) == [
        "v0",
        "v1",
    ]
    # the term ends after the year, once
    assert amb.terms_end(today=dt.date(2026, 12, 31)) == 0
    assert amb.terms_end(today=dt.date(2027, 1, 1)) == 1
    assert amb.terms_end(today=dt.date(2027, 1, 1)) == 0
    assert User.objects.get(pk=b.pk).role == Role.STUDENT
    assert Nomination.objects.get(pk=nb.pk).state == "ended"


def test_a_tie_goes_to_the_earlier_nomination(alliance: World) -> None:
    a = member(alliance, "ta", alliance.city)
    b = member(alliance, "tb", alliance.city)
    r = amb.round_open(actor=alliance.league, year=2026, mode="vote")
    na, nb = (
        amb.nominate(actor=a, chapter=alliance.city),
        amb.nominate(actor=b, chapter=alliance.city),
    )
    for n in (na, nb):
        amb.shortlist(actor=alliance.league, nomination=n, keep=True)
    amb.voting_open(actor=alliance.league, round=r)
    amb.vote_cast(voter=a, nomination=nb)
    amb.vote_cast(voter=b, nomination=na)
    amb.round_close(actor=alliance.league, round=r)
    assert list(Nomination.objects.order_by("pk").values_list("state", flat=True)) == [
        "appointed",
        "not_appointed",
    ]


def test_appointment_mode(alliance: World) -> None:
    a = member(alliance, "ap_a", alliance.school)
    r = amb.round_open(actor=alliance.league, year=2026, mode="appoint")
    n = amb.nominate(actor=a, chapter=alliance.school)
    before = snapshot()
    with pytest.raises(ApplicationError):
        amb.appoint(actor=alliance.league, nomination=n)  # not shortlisted
    with pytest.raises(PermissionDenied):
        amb.appoint(actor=a, nomination=n)
    with pytest.raises(ApplicationError):
        amb.voting_open(actor=alliance.league, round=r)
    with pytest.raises(ApplicationError):
        amb.round_open(actor=alliance.league, year=2027, mode="vote")  # one open round
    assert snapshot() == before
    amb.shortlist(actor=alliance.league, nomination=n, keep=True)
    amb.appoint(actor=alliance.league, nomination=n)
    assert User.objects.get(pk=a.pk).role == Role.AMBASSADOR
    assert OutboxMessage.objects.filter(user=a, subject="你当选 2026 年度高校引才大使").count() == 1
    amb.round_close(actor=alliance.league, round=r)
    with pytest.raises(ValidationError):
        amb.round_open(actor=alliance.league, year=2026, mode="vote")


def test_the_ambassador_sees_phones_only_of_consenting_members(alliance: World) -> None:
    ambassador = member(alliance, "amb", alliance.uni)
    yes = member(alliance, "yes", alliance.uni, university=alliance.scut, graduation_year=2027)
    no = member(alliance, "no", alliance.uni, university=alliance.scut, graduation_year=2026)
    for user, granted, phone in ((yes, True, "13911112222"), (no, False, "13933334444")):
        talent = Talent.objects.get(user=user)
        PhoneNumber.objects.create(
            talent=talent, number=phone, number_index=phone, source="student"
        )
        Consent.objects.create(
            talent=talent, purpose="liaison", granted=granted, notice_version="v1"
        )
    r = amb.round_open(actor=alliance.league, year=2026, mode="appoint")
    n = amb.nominate(actor=ambassador, chapter=alliance.uni)
    amb.shortlist(actor=alliance.league, nomination=n, keep=True)
    amb.appoint(actor=alliance.league, nomination=n)
    ambassador.refresh_from_db()
    client = Client()
    client.force_login(ambassador)
    page = client.get(f"/alliance/ambassador/{alliance.uni.pk}/members/")
    rows = {row.name: (row.school, row.graduation_year, row.phone) for row in page.context["rows"]}
    assert rows["梁yes"] == ("华南理工大学", 2027, "13911112222")
    assert rows["梁no"] == ("华南理工大学", 2026, "")
    assert "13933334444" not in page.content.decode()
    log = AuditLog.objects.get(action="alliance.ambassador_members_view")
    assert (log.actor_id, log.count) == (ambassador.pk, 1)
    # another chapter: 404
    assert client.get(f"/alliance/ambassador/{alliance.city.pk}/members/").status_code == 404
    # a report, then the year's record
    r2 = client.post(
        f"/alliance/ambassador/{alliance.uni.pk}/reports/",
        {"held_on": "2026-04-02", "title": "返乡见习分享会", "attendance": "35"},
    )
    assert r2.status_code == 302
    bad = client.post(
        f"/alliance/ambassador/{alliance.uni.pk}/reports/",
        {"held_on": "2099-01-01", "title": "未来活动", "attendance": "3"},
        follow=True,
    )
    assert "只能报告已经举办的活动" in bad.content.decode()
    # the ambassador invites; the student accepts: one member recruited this year
    invitee = make_student("invitee", phone="13955556666")
    m = services.membership_invite(actor=ambassador, chapter=alliance.uni, phone="13955556666")
    assert m is not None
    services.invitation_respond(user=invitee, membership=m, accept=True)
    year = m.created_at.year
    record = amb.ambassador_record(user=ambassador, year=year)
    assert (record.members_recruited, record.events_held, record.attendance) == (
        1,
        1 if year == 2026 else 0,
        35 if year == 2026 else 0,
    )
    assert r.year == 2026


def test_pages_for_students_and_staff(alliance: World, client_as: Any) -> None:
    staff = client_as(Role.LEAGUE_STAFF)
    r = staff.post("/alliance/ambassadors/rounds/", {"year": "2026", "mode": "vote"})
    rnd = AmbassadorRound.objects.get()
    assert r["Location"] == f"/alliance/ambassadors/rounds/{rnd.pk}/"
    bad = staff.post("/alliance/ambassadors/rounds/", {"year": "2026", "mode": "vote"}, follow=True)
    assert "已有进行中的评选，请先结束" in bad.content.decode()
    Membership.objects.create(
        chapter=alliance.uni, user=alliance.student, slot="university", status="active"
    )
    student = client_as(Role.STUDENT)
    student.post(
        "/alliance/ambassadors/nominate/", {"chapter": alliance.uni.pk, "statement": "愿为家乡引才"}
    )
    n = Nomination.objects.get()
    assert (n.nominee_id, n.statement) == (alliance.student.pk, "愿为家乡引才")
    r = student.post("/alliance/ambassadors/nominate/", {"chapter": alliance.city.pk}, follow=True)
    assert "请选择你所在的分会" in r.content.decode()
    assert Nomination.objects.count() == 1
    staff.post(f"/alliance/ambassadors/nominations/{n.pk}/shortlist/", {"keep": "1"})
    staff.post(f"/alliance/ambassadors/rounds/{rnd.pk}/voting/")
    student.post("/alliance/ambassadors/vote/", {"nomination": n.pk})
    assert Vote.objects.filter(voter=alliance.student).count() == 1
    assert student.post(f"/alliance/ambassadors/nominations/{n.pk}/appoint/").status_code == 403
    staff.post(f"/alliance/ambassadors/rounds/{rnd.pk}/close/")
    assert Nomination.objects.get().state == "appointed"
    call_command("end_ambassador_terms")  # within the year: nothing ends
    assert Nomination.objects.get().state == "appointed"


def _event_form(organiser_id: int, *, title: str) -> dict[str, str]:
    start = timezone.localtime() + dt.timedelta(days=20)

    def at(d: dt.datetime) -> str:
        return d.strftime("%Y-%m-%dT%H:%M")

    return {
        "type": "sharing",
        "title": title,
        "description": "学长学姐分享返乡就业经历。",
        "organiser": str(organiser_id),
        "place": "华南理工大学 31 号楼",
        "starts_at": at(start),
        "ends_at": at(start + dt.timedelta(hours=2)),
        "registration_opens_at": at(start - dt.timedelta(days=10)),
        "registration_closes_at": at(start - dt.timedelta(days=1)),
        "cancel_deadline": at(start - dt.timedelta(days=2)),
        "audience": "open",
        "capacity": "50",
    }


def test_a_serving_ambassador_proposes_a_chapter_event_and_its_check_ins_count_in_the_year(
    alliance: World,
) -> None:
    from qinghe.events.models import Event, Registration
    from qinghe.events.services import event_transition
    from qinghe.events.tests.factories import make_event

    year = timezone.localdate().year
    ambassador = member(alliance, "amb", alliance.uni)
    client = Client()
    client.force_login(ambassador)
    form = _event_form(alliance.uni.organisation_id, title="返乡就业分享会")
    # a student who is not (yet) an ambassador proposes nothing
    before = Event.objects.count()
    assert client.get("/events/manage/new/").status_code == 403
    assert client.post("/events/manage/new/", form).status_code == 403
    assert Event.objects.count() == before

    amb.round_open(actor=alliance.league, year=year, mode="appoint")
    n = amb.nominate(actor=ambassador, chapter=alliance.uni)
    amb.shortlist(actor=alliance.league, nomination=n, keep=True)
    amb.appoint(actor=alliance.league, nomination=n)
    ambassador.refresh_from_db()
    assert ambassador.role == Role.AMBASSADOR

    page = client.get("/events/manage/new/")
    assert page.status_code == 200
    choices = [c[0].value for c in page.context["form"].fields["organiser"].choices if c[0]]
    assert choices == [alliance.uni.organisation_id]
    # another chapter's name is refused and nothing is created
    other = client.post(
        "/events/manage/new/", _event_form(alliance.city.organisation_id, title="冒名活动")
    )
    assert other.status_code == 200
    assert "organiser" in other.context["form"].errors
    assert Event.objects.count() == before

    made = client.post("/events/manage/new/", form)
    event = Event.objects.get(title="返乡就业分享会")
    assert made["Location"] == f"/events/manage/{event.pk}/"
    assert (event.organiser_id, event.state, event.created_by_id) == (
        alliance.uni.organisation_id,
        Event.State.DRAFT,
        ambassador.pk,
    )
    assert client.post(f"/events/manage/{event.pk}/submit/").status_code == 302
    event.refresh_from_db()
    assert event.state == Event.State.REVIEW
    assert OutboxMessage.objects.filter(
        user=alliance.league, subject="活动待审核：返乡就业分享会"
    ).exists()
    event_transition(actor=alliance.league, event=event, action="publish")
    assert OutboxMessage.objects.filter(
        user=ambassador, body__contains="你申请的活动“返乡就业分享会”已发布"
    ).exists()

    # The year's record reads the events app: the chapter's event held this year with its
    # check-ins; the future one and another chapter's do not count.
    now = timezone.localtime()
    # held this year and over by now (noon on 1 January, or three hours ago early that day)
    ago = min(now - dt.timedelta(hours=3), now.replace(month=1, day=1, hour=12, minute=0))
    held = make_event(
        alliance.uni.organisation, now=ago - dt.timedelta(days=5), starts_at=ago,
        title="分会迎新会", state=Event.State.FINISHED,
    )  # fmt: skip
    elsewhere = make_event(
        alliance.city.organisation, now=ago - dt.timedelta(days=5), starts_at=ago,
        title="广州分会聚会", state=Event.State.FINISHED,
    )  # fmt: skip
    held.ends_at = ago + dt.timedelta(minutes=30)
    held.save(update_fields=["ends_at"])
    for i, attended in enumerate((True, True, False)):
        Registration.objects.create(
            event=held, user=make_student(f"r{i}"), status="confirmed",
            registered_at=ago - dt.timedelta(days=1), attended_at=ago if attended else None,
        )  # fmt: skip
    Registration.objects.create(
        event=elsewhere, user=make_student("r9"), status="confirmed",
        registered_at=ago - dt.timedelta(days=1), attended_at=ago,
    )  # fmt: skip
    record = amb.ambassador_record(user=ambassador, year=year)
    assert (record.platform_events, record.platform_attendance) == (1, 2)
    assert (record.reported_events, record.events_held, record.attendance) == (0, 1, 2)
    # the ambassador manages their chapter's events only
    assert client.get(f"/events/manage/{held.pk}/").status_code == 200
    assert client.get(f"/events/manage/{elsewhere.pk}/").status_code == 404
