"""Applying (with the separate consent to share), what an enterprise sees of its applicants, the
stage transitions (data-driven, with messages), hires that write the talent's destination, and
the enterprise's own stages."""

from __future__ import annotations

import datetime as dt
import json
import time
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test import Client
from django.utils import timezone

from qinghe.core.errors import ApplicationError, NotFound, PermissionDenied
from qinghe.core.models import AuditLog
from qinghe.core.roles import Role
from qinghe.enterprises.models import Enterprise
from qinghe.enterprises.tests.factories import make_posting
from qinghe.jobs.models import Posting
from qinghe.notifications.models import OutboxMessage
from qinghe.plan.selectors import native_hires_in_year, placed_interns, year_progress
from qinghe.plan.views import PLAN_FIGURES_SECONDS
from qinghe.recruitment import pipeline
from qinghe.recruitment import selectors as sel
from qinghe.recruitment.models import Application, ApplicationEvent, PipelineStage
from qinghe.recruitment.services import applications
from qinghe.recruitment.services.applications import application_transition
from qinghe.recruitment.services.stages import default_stage, stage_create, stage_update
from qinghe.talents.models import Consent, Destination, Talent
from qinghe.testing.recruiting import (
    X_PHONE,
    YEAR,
    apply_to,
    claim_talent,
    last_outbox_id,
    outbox_rows,
)
from qinghe.testing.world import World

pytestmark = pytest.mark.django_db


@pytest.fixture
def x_talent(world: World) -> Talent:
    return claim_talent(world.x, name="李晓彤", seq="102", phone=X_PHONE)


@pytest.fixture
def y_talent(world: World) -> Talent:
    return claim_talent(world.y, name="区嘉敏", seq="202", phone="13512340002")


def client_for(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def state() -> tuple[Any, ...]:
    """Everything applying or moving writes."""
    return (
        sorted(Application.objects.values_list("pk", "stage__code", "hired_at", "withdrawn_at")),
        ApplicationEvent.objects.count(),
        Consent.objects.count(),
        Destination.objects.count(),
        sorted(Talent.objects.values_list("pk", "status", "returned_home")),
        AuditLog.objects.exclude(action__in=["login", "logout", "view"]).count(),
    )


# --- applying ------------------------------------------------------------------------------------


def test_the_posting_page_shows_exactly_what_will_be_shared_and_the_consent_to_tick(
    world: World, x_talent: Talent
) -> None:
    page = client_for(world.x).get(f"/jobs/{world.posting_a.pk}/apply/")
    body = page.content.decode()
    # The sign-up phone is pre-selected (test_share_choice.py covers the choice).
    assert page.context["phone_default"] == "account"
    assert page.context["shared"] == {
        "name": "李晓彤",
        "gender": "女",
        "phone": world.x.phone,
        "email": "xuezi@example.cn",
        "educations": [
            {
                "university": "华南理工大学",
                "major": "软件工程",
                "level": "本科",
                "enrolment_year": YEAR - 4,
                "graduation_year": YEAR,
                "double_first_class": False,
            }
        ],
        "destinations": [],
    }
    assert "同意向【鹤山市雅图仕印刷有限公司】提供以上信息（用途：招聘）" in body
    assert x_talent.id_number not in body and x_talent.id_number[-4:] not in body
    assert 'name="consent"' in body and "required" in body


def test_applying_records_the_consent_the_application_the_event_and_the_audit_entry(
    world: World, x_talent: Talent, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(world.x).post(
            f"/jobs/{world.posting_a.pk}/apply/", {"consent": "1", "cover_letter": "熟悉 Python"}
        )
    application = Application.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/jobs/applications/{application.pk}/"
    consent = Consent.objects.get()
    assert (consent.talent_id, consent.purpose, consent.enterprise_id, consent.granted) == (
        x_talent.pk,
        "share_enterprise",
        world.a.organisation_id,
        True,
    )
    assert (
        application.consent_id,
        application.enterprise_id,
        application.applicant_id,
        application.stage.code,
        application.cover_letter,
    ) == (consent.pk, world.a.pk, world.x.pk, "applied", "熟悉 Python")
    snapshot = application.shared_snapshot
    assert set(snapshot) == {
        "name",
        "gender",
        "phone",
        "email",
        "educations",
        "destinations",
        "shared_at",
        "purpose",
    }
    assert (snapshot["name"], snapshot["phone"], snapshot["purpose"]) == ("李晓彤", X_PHONE, "招聘")
    assert x_talent.id_number not in json.dumps(snapshot)
    event = ApplicationEvent.objects.get()
    assert (event.action, event.from_stage_id, event.to_stage.code, event.message_sent) == (
        "apply",
        None,
        "applied",
        True,
    )
    assert event.message == "你已成功投递“软件开发工程师”，企业将尽快查看。"
    mine, theirs = (
        f"/jobs/applications/{application.pk}/",
        f"/jobs/mine/applicants/{application.pk}/",
    )
    assert outbox_rows() == [
        ("xuezi", "inbox", "recruitment.applied", mine),
        ("xuezi", "email", "recruitment.applied", mine),
        ("qiye", "inbox", "recruitment.new_application", theirs),
        ("qiye", "email", "recruitment.new_application", theirs),
    ]
    assert (
        AuditLog.objects.filter(action="create", target_type="recruitment.application").count() == 1
    )


def test_the_shared_snapshot_is_encrypted_at_rest(world: World, x_talent: Talent) -> None:
    application = apply_to(world.x, world.posting_a)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT CAST(shared_snapshot AS TEXT) FROM jobs_application WHERE id = %s",
            [application.pk],
        )
        stored = cursor.fetchone()[0]
    assert X_PHONE not in stored and "李晓彤" not in stored and '"sealed"' in stored
    assert Application.objects.get().shared_snapshot["phone"] == X_PHONE


def test_without_the_consent_box_nothing_is_created(world: World, x_talent: Talent) -> None:
    before = state()
    response = client_for(world.x).post(
        f"/jobs/{world.posting_a.pk}/apply/", {"cover_letter": "x"}, follow=True
    )
    assert state() == before
    assert [str(m) for m in response.context["messages"]] == [
        "请勾选“同意向【鹤山市雅图仕印刷有限公司】提供以上信息（用途：招聘）”后再投递"
    ]
    api = client_for(world.x).post(
        f"/api/v1/jobs/{world.posting_a.pk}/apply",
        json.dumps({"consent": False}),
        content_type="application/json",
    )
    assert api.status_code == 400
    assert state() == before


def test_an_expired_posting_takes_no_application_even_before_the_expiry_job_ran(
    world: World, x_talent: Talent
) -> None:
    yesterday = timezone.localdate() - dt.timedelta(days=1)
    posting = make_posting(world.a, title="过期岗位", closing_date=yesterday)
    assert posting.state == Posting.State.PUBLISHED
    before = state()
    with pytest.raises(ApplicationError, match="不再接收投递"):
        apply_to(world.x, posting)
    response = client_for(world.x).post(f"/jobs/{posting.pk}/apply/", {"consent": "1"})
    assert response.status_code == 302 and response["Location"] == f"/jobs/{posting.pk}/"
    api = client_for(world.x).post(
        f"/api/v1/jobs/{posting.pk}/apply",
        json.dumps({"consent": True}),
        content_type="application/json",
    )
    assert api.status_code == 400
    assert api.json() == {"detail": "该岗位已截止、已关闭或企业未通过认证，不再接收投递"}
    assert state() == before


def test_closed_postings_and_unverified_enterprises_take_no_application(
    world: World, x_talent: Talent
) -> None:
    closed = make_posting(world.a, title="已关闭岗位", state=Posting.State.CLOSED)
    before = state()
    with pytest.raises(ApplicationError):
        apply_to(world.x, closed)
    Enterprise.objects.filter(pk=world.a.pk).update(state=Enterprise.State.PENDING)
    with pytest.raises(ApplicationError):
        apply_to(world.x, world.posting_a)
    assert state() == before


def test_a_second_application_to_the_same_posting_is_refused(
    world: World, x_talent: Talent
) -> None:
    apply_to(world.x, world.posting_a)
    before = state()
    with pytest.raises(ApplicationError, match="你已投递过该岗位"):
        apply_to(world.x, world.posting_a)
    assert state() == before


def test_a_student_below_the_minimum_level_is_refused(world: World) -> None:
    claim_talent(world.x, name="李晓彤", seq="102", phone=X_PHONE, level="junior")
    before = state()
    with pytest.raises(ApplicationError, match="该岗位要求本科及以上学历"):
        apply_to(world.x, world.posting_a)
    assert state() == before


def test_a_student_without_a_claimed_record_is_sent_to_claim_it(world: World) -> None:
    page = client_for(world.y).get(f"/jobs/{world.posting_a.pk}/")
    assert "去认领档案" in page.content.decode() and page.context["has_talent"] is False
    before = state()
    response = client_for(world.y).post(f"/jobs/{world.posting_a.pk}/apply/", {"consent": "1"})
    assert (response.status_code, response["Location"]) == (302, "/me/claim/")
    assert state() == before


def test_staff_and_enterprises_cannot_apply(world: World, personas: Any) -> None:
    for user in (world.hr_a, personas[Role.HR_STAFF]):
        with pytest.raises(PermissionDenied):
            applications.application_apply(actor=user, posting=world.posting_a, consent=True)
    assert Application.objects.count() == 0


# --- what each side sees -------------------------------------------------------------------------


def test_an_enterprise_sees_only_its_own_applicants(
    world: World, x_talent: Talent, y_talent: Talent
) -> None:
    to_a = apply_to(world.x, world.posting_a)
    to_b = apply_to(world.y, world.posting_b)
    a_list = client_for(world.hr_a).get("/jobs/mine/applicants/").context["page"]
    assert [a.pk for a in a_list.object_list] == [to_a.pk]
    assert client_for(world.hr_a).get(f"/jobs/mine/applicants/{to_b.pk}/").status_code == 404
    assert client_for(world.hr_b).get(f"/jobs/mine/applicants/{to_a.pk}/").status_code == 404
    api = client_for(world.hr_b).get("/api/v1/jobs/mine/applicants").json()
    assert [a["id"] for a in api] == [to_b.pk]
    detail = client_for(world.hr_a).get(f"/jobs/mine/applicants/{to_a.pk}/")
    assert detail.status_code == 200
    body = detail.content.decode()
    assert X_PHONE in body and "李晓彤" in body
    assert x_talent.id_number not in body


def test_a_student_sees_only_their_own_applications(
    world: World, x_talent: Talent, y_talent: Talent
) -> None:
    mine = apply_to(world.x, world.posting_a)
    theirs = apply_to(world.y, world.posting_a)
    page = client_for(world.x).get("/jobs/applications/").context["page"]
    assert [a.pk for a in page.object_list] == [mine.pk]
    assert client_for(world.x).get(f"/jobs/applications/{theirs.pk}/").status_code == 404
    assert client_for(world.x).get(f"/api/v1/jobs/applications/{theirs.pk}").status_code == 404
    assert [a["id"] for a in client_for(world.y).get("/api/v1/jobs/applications").json()] == [
        theirs.pk
    ]


def test_a_student_who_withdraws_the_sharing_consent_is_never_shown_to_the_enterprise(
    world: World, x_talent: Talent, personas: Any
) -> None:
    application = apply_to(world.x, world.posting_a)
    hr = client_for(world.hr_a)
    assert hr.get(f"/jobs/mine/applicants/{application.pk}/").status_code == 200
    response = client_for(world.x).post(
        "/me/consent/",
        {"purpose": "share_enterprise", "granted": "0", "enterprise": str(world.a.organisation_id)},
    )
    assert response.status_code == 302
    assert list(hr.get("/jobs/mine/applicants/").context["page"].object_list) == []
    assert hr.get(f"/jobs/mine/applicants/{application.pk}/").status_code == 404
    assert hr.get("/api/v1/jobs/mine/applicants").json() == []
    assert hr.get(f"/api/v1/jobs/mine/applicants/{application.pk}").status_code == 404
    assert X_PHONE not in hr.get(f"/jobs/mine/{world.posting_a.pk}/").content.decode()
    before = state()
    moved = hr.post(
        f"/api/v1/jobs/mine/applicants/{application.pk}/move",
        json.dumps({"stage": "screening"}),
        content_type="application/json",
    )
    assert moved.status_code == 404 and state() == before
    with pytest.raises(NotFound):
        application_transition(
            actor=world.hr_a, application=application, stage=default_stage("screening")
        )
    assert state() == before
    # The student still sees the application, and why the enterprise no longer does.
    own = client_for(world.x).get(f"/jobs/applications/{application.pk}/").content.decode()
    assert "你已撤回向鹤山市雅图仕印刷有限公司提供个人信息的授权" in own
    # HR bureau staff still follow the application, marked as no longer shared.
    staff = client_for(personas[Role.HR_STAFF]).get("/jobs/staff/applications/")
    assert [a.pk for a in staff.context["page"].object_list] == [application.pk]
    assert "已撤回授权" in staff.content.decode()


def test_the_student_timeline_hides_the_enterprises_internal_notes(
    world: World, x_talent: Talent
) -> None:
    application = apply_to(world.x, world.posting_a)
    application_transition(
        actor=world.hr_a,
        application=application,
        stage=default_stage("screening"),
        note="学历背景一般，备选",
    )
    student = sel.application_timeline(application=application, audience="student")
    enterprise = sel.application_timeline(application=application, audience="enterprise")
    assert [(e.title, e.reason) for e in student] == [("投递：已投递", ""), ("已投递 → 筛选", "")]
    assert [(e.title, e.reason) for e in enterprise] == [
        ("投递：已投递", ""),
        ("已投递 → 筛选", "学历背景一般，备选"),
    ]
    body = client_for(world.x).get(f"/jobs/applications/{application.pk}/").content.decode()
    assert "学历背景一般" not in body


# --- the pipeline --------------------------------------------------------------------------------


def test_the_default_pipeline_is_data() -> None:
    rows = list(
        PipelineStage.objects.filter(enterprise__isnull=True)
        .order_by("position")
        .values_list("code", "name", "is_terminal", "counts_as_hire", "notify_student")
    )
    assert rows == [
        ("applied", "已投递", False, False, True),
        ("screening", "筛选", False, False, False),
        ("interview", "面试", False, False, True),
        ("offer", "录用", False, True, True),
        ("onboarded", "入职", True, False, False),
        ("rejected", "未通过", True, False, True),
        ("withdrawn", "撤回", True, False, False),
    ]
    assert {kind: sorted(rule.by) for kind, rule in pipeline.ENTRY_RULES.items()} == {
        "applied": [],
        "screening": ["enterprise"],
        "interview": ["enterprise"],
        "offer": ["enterprise"],
        "onboarded": ["enterprise"],
        "rejected": ["enterprise"],
        "withdrawn": ["student"],
        "custom": ["enterprise"],
    }


def test_entering_a_stage_that_notifies_queues_the_student_s_message_in_the_outbox(
    world: World, x_talent: Talent
) -> None:
    application = apply_to(world.x, world.posting_a)
    start = last_outbox_id()
    application_transition(
        actor=world.hr_a, application=application, stage=default_stage("screening")
    )
    assert outbox_rows(after=start) == []  # 筛选 does not notify
    application_transition(
        actor=world.hr_a, application=application, stage=default_stage("rejected")
    )
    mine = f"/jobs/applications/{application.pk}/"
    assert outbox_rows(after=start) == [
        ("xuezi", "inbox", "recruitment.stage_changed", mine),
        ("xuezi", "email", "recruitment.stage_changed", mine),
    ]
    message = OutboxMessage.objects.filter(pk__gt=start, channel="email").get()
    assert message.body.splitlines()[0] == "感谢你投递“软件开发工程师”，很遗憾这次未能通过。"
    event = ApplicationEvent.objects.filter(application=application).last()
    assert event is not None and (event.action, event.message_sent) == ("move", True)


def test_refused_moves_change_nothing(world: World, x_talent: Talent) -> None:
    application = apply_to(world.x, world.posting_a)
    before = state()
    for actor, code, message in (
        (world.hr_a, "withdrawn", "只有学生本人可以撤回投递"),
        (world.x, "offer", "学生只能撤回投递"),
        (world.hr_a, "applied", "申请已处于“已投递”阶段"),
    ):
        with pytest.raises(ApplicationError, match=message):
            application_transition(
                actor=actor,
                application=application,
                stage=default_stage(code),
                note="理由充分",
            )
    with pytest.raises(PermissionDenied):
        application_transition(
            actor=world.hr_b, application=application, stage=default_stage("screening")
        )
    assert state() == before
    application_transition(
        actor=world.hr_a, application=application, stage=default_stage("rejected")
    )
    before = state()
    with pytest.raises(ApplicationError, match="申请已结束（未通过），不能再变更阶段"):
        application_transition(
            actor=world.hr_a, application=application, stage=default_stage("screening")
        )
    with pytest.raises(ApplicationError, match="申请已结束"):
        applications.application_withdraw(actor=world.x, application=application, reason="改变主意")
    assert state() == before


def test_the_student_withdraws_with_a_reason_kept(world: World, x_talent: Talent) -> None:
    application = apply_to(world.x, world.posting_a)
    before = state()
    with pytest.raises(ValidationError):
        applications.application_withdraw(actor=world.x, application=application, reason="")
    assert state() == before
    response = client_for(world.x).post(
        f"/jobs/applications/{application.pk}/withdraw/", {"reason": "已接受其他单位录用"}
    )
    assert response.status_code == 302
    application.refresh_from_db()
    assert (application.stage.code, application.withdrawn_at is not None) == ("withdrawn", True)
    event = ApplicationEvent.objects.filter(application=application).last()
    assert event is not None and (event.action, event.note, event.actor_id) == (
        "withdraw",
        "已接受其他单位录用",
        world.x.pk,
    )


# --- hires ---------------------------------------------------------------------------------------


def test_a_hire_writes_exactly_one_destination_and_updates_status_and_the_plans_counts(
    world: World, x_talent: Talent, personas: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    application = apply_to(world.x, world.posting_a)
    staff = client_for(personas[Role.HR_STAFF])

    def targets_count() -> int:
        lines = staff.get(f"/jobs/targets/?year={YEAR}").context["lines"]
        return next(line.count for line in lines if line.code == "native_hires")

    assert (native_hires_in_year(year=YEAR).count(), targets_count()) == (0, 0)
    assert Talent.objects.get(pk=x_talent.pk).status == Talent.Status.GRADUATING
    response = client_for(world.hr_a).post(
        f"/jobs/mine/applicants/{application.pk}/move/",
        {"stage": str(default_stage("offer").pk), "note": "面试通过"},
    )
    assert response.status_code == 302
    destination = Destination.objects.get()
    assert (
        destination.talent_id,
        destination.kind,
        destination.employer,
        destination.employer_uscc,
        destination.region_text,
        destination.area,
        destination.industry_id,
        destination.year,
        destination.source,
        destination.source_ref,
    ) == (
        x_talent.pk,
        "employed",
        "鹤山市雅图仕印刷有限公司",
        world.a.uscc,
        "广东省江门市鹤山市沙坪街道",
        "heshan",
        world.a.industry_id,
        YEAR,
        "staff",
        f"application:{application.pk}",
    )
    application.refresh_from_db()
    assert application.destination_id == destination.pk and application.hired_at is not None
    talent = Talent.objects.get(pk=x_talent.pk)
    assert (talent.status, talent.returned_home) == ("employed_heshan", True)
    assert targets_count() == 0  # the plan page's counts are kept for at most 60 s
    later = time.time() + PLAN_FIGURES_SECONDS + 1
    monkeypatch.setattr(time, "time", lambda: later)  # the fragments cache's clock
    assert (native_hires_in_year(year=YEAR).count(), targets_count()) == (1, 1)
    # Onboarding after the offer is the same hire: no second destination.
    application_transition(
        actor=world.hr_a, application=application, stage=default_stage("onboarded")
    )
    assert Destination.objects.count() == 1
    assert [line.count for line in year_progress(year=YEAR) if line.code == "native_hires"] == [1]


def test_a_declined_offer_removes_the_destination_the_hire_wrote(
    world: World, x_talent: Talent
) -> None:
    application = apply_to(world.x, world.posting_a)
    application_transition(actor=world.hr_a, application=application, stage=default_stage("offer"))
    assert Talent.objects.get(pk=x_talent.pk).status == "employed_heshan"
    applications.application_withdraw(actor=world.x, application=application, reason="选择读研")
    application.refresh_from_db()
    assert (application.hired_at, application.destination_id, Destination.objects.count()) == (
        None,
        None,
        0,
    )
    talent = Talent.objects.get(pk=x_talent.pk)
    assert (talent.status, talent.returned_home) == ("graduating", False)
    assert native_hires_in_year(year=YEAR).count() == 0


def test_a_hire_cannot_be_moved_back_and_nothing_changes(world: World, x_talent: Talent) -> None:
    application = apply_to(world.x, world.posting_a)
    application_transition(actor=world.hr_a, application=application, stage=default_stage("offer"))
    before = state()
    with pytest.raises(ApplicationError, match="已录用的申请只能继续推进"):
        application_transition(
            actor=world.hr_a, application=application, stage=default_stage("screening")
        )
    assert state() == before


def test_an_internship_hire_is_a_placement_not_an_employment_destination(
    world: World, x_talent: Talent
) -> None:
    internship = make_posting(world.a, title="暑期实习生", kind=Posting.Kind.INTERNSHIP)
    application = apply_to(world.x, internship)
    application_transition(actor=world.hr_a, application=application, stage=default_stage("offer"))
    application.refresh_from_db()
    assert application.hired_at is not None and application.destination_id is None
    assert Destination.objects.count() == 0
    assert placed_interns(enterprise_id=world.a.pk, year=YEAR) == 1
    assert native_hires_in_year(year=YEAR).count() == 0
    assert Talent.objects.get(pk=x_talent.pk).status == "graduating"


# --- an enterprise's own stages ------------------------------------------------------------------


def test_an_enterprise_adds_renames_and_deactivates_its_own_stage(
    world: World, x_talent: Talent
) -> None:
    hr = client_for(world.hr_a)
    screening = default_stage("screening")
    response = hr.post(
        "/jobs/mine/stages/",
        {
            "name": "笔试",
            "after": str(screening.pk),
            "notify_student": "1",
            "message_template": "请参加“【岗位名称】”笔试（【企业名称】）。",
        },
    )
    assert response.status_code == 302
    stage = PipelineStage.objects.get(enterprise=world.a)
    assert stage.message_template == "请参加“【岗位名称】”笔试（【企业名称】）。"
    assert (stage.code, stage.kind, stage.position, stage.counts_as_hire, stage.is_terminal) == (
        "custom-1",
        "custom",
        21,
        False,
        False,
    )
    assert [s.name for s in sel.stages_for(enterprise=world.a)] == [
        "已投递",
        "筛选",
        "笔试",
        "面试",
        "录用",
        "入职",
        "未通过",
        "撤回",
    ]
    assert "笔试" not in [s.name for s in sel.stages_for(enterprise=world.b)]
    application = apply_to(world.x, world.posting_a)
    application_transition(actor=world.hr_a, application=application, stage=stage)
    last = ApplicationEvent.objects.filter(application=application).last()
    assert last is not None
    assert last.message == "请参加“软件开发工程师”笔试（鹤山市雅图仕印刷有限公司）。"
    hr.post(
        f"/jobs/mine/stages/{stage.pk}/",
        {"name": "在线笔试", "notify_student": "1", "message_template": "请参加笔试。"},
    )
    stage.refresh_from_db()
    assert (stage.name, stage.is_active) == ("在线笔试", False)
    assert "在线笔试" not in [s.name for s in sel.stages_for(enterprise=world.a)]


def test_a_stage_message_typed_with_the_old_english_placeholders_is_stored_in_chinese(
    world: World,
) -> None:
    stage = stage_create(
        actor=world.hr_a,
        enterprise=world.a,
        name="笔试",
        after=default_stage("screening"),
        notify_student=True,
        message_template="请参加“{posting}”笔试（{enterprise}）。",
    )
    stage.refresh_from_db()
    assert stage.message_template == "请参加“【岗位名称】”笔试（【企业名称】）。"
    assert [s.message_template for s in sel.stages_for(enterprise=None) if s.notify_student] == [
        "你已成功投递“【岗位名称】”，企业将尽快查看。",
        "“【岗位名称】”邀请你参加面试，请留意面试安排。",
        "恭喜！你已被“【企业名称】”录用（【岗位名称】）。",
        "感谢你投递“【岗位名称】”，很遗憾这次未能通过。",
    ]


def test_enterprise_b_cannot_touch_enterprise_as_stage_and_nothing_changes(world: World) -> None:
    stage = stage_create(
        actor=world.hr_a, enterprise=world.a, name="体检", after=default_stage("offer")
    )
    before = list(PipelineStage.objects.values_list("pk", "name", "is_active"))
    response = client_for(world.hr_b).post(
        f"/jobs/mine/stages/{stage.pk}/", {"name": "改名", "is_active": "1"}
    )
    assert response.status_code == 404
    api = client_for(world.hr_b).put(
        f"/api/v1/jobs/mine/stages/{stage.pk}",
        json.dumps({"name": "改名"}),
        content_type="application/json",
    )
    assert api.status_code == 404
    with pytest.raises(PermissionDenied):
        stage_update(
            actor=world.hr_b,
            stage=stage,
            name="改名",
            notify_student=False,
            message_template="",
            is_active=True,
        )
    default = default_stage("screening")
    assert (
        client_for(world.hr_a).post(f"/jobs/mine/stages/{default.pk}/", {"name": "x"}).status_code
        == 404
    )
    assert list(PipelineStage.objects.values_list("pk", "name", "is_active")) == before


# --- the API -------------------------------------------------------------------------------------


def test_the_api_applies_moves_and_answers_like_the_pages(world: World, x_talent: Talent) -> None:
    student = client_for(world.x)
    preview = student.get(f"/api/v1/jobs/{world.posting_a.pk}/apply").json()
    assert (preview["consent_text"], preview["shared"]["phone"], preview["application_id"]) == (
        "同意向【鹤山市雅图仕印刷有限公司】提供以上信息（用途：招聘）",
        X_PHONE,
        None,
    )
    applied = student.post(
        f"/api/v1/jobs/{world.posting_a.pk}/apply",
        json.dumps({"consent": True, "cover_letter": "你好"}),
        content_type="application/json",
    )
    assert applied.status_code == 200
    body = applied.json()
    assert (body["stage_code"], body["shared"]["name"], [e["title"] for e in body["timeline"]]) == (
        "applied",
        "李晓彤",
        ["投递：已投递"],
    )
    hr = client_for(world.hr_a)
    moved = hr.post(
        f"/api/v1/jobs/mine/applicants/{body['id']}/move",
        json.dumps({"stage": "offer", "note": "通过"}),
        content_type="application/json",
    )
    assert moved.status_code == 200
    assert (moved.json()["stage_code"], moved.json()["destination_written"]) == ("offer", True)
    assert "id_number" not in moved.json()["shared"]
    stages = hr.get("/api/v1/jobs/mine/stages").json()
    assert [s["code"] for s in stages] == [
        "applied",
        "screening",
        "interview",
        "offer",
        "onboarded",
        "rejected",
        "withdrawn",
    ]


def test_the_openapi_schema_documents_the_pipeline_operations(client_as: Any) -> None:
    paths = client_as(Role.HR_STAFF).get("/api/v1/openapi.json").json()["paths"]
    expected = {
        "/api/v1/jobs/{posting_id}/apply": {"get", "post"},
        "/api/v1/jobs/applications": {"get"},
        "/api/v1/jobs/applications/{application_id}": {"get"},
        "/api/v1/jobs/applications/{application_id}/withdraw": {"post"},
        "/api/v1/jobs/interviews/{interview_id}/confirm": {"post"},
        "/api/v1/jobs/interviews/{interview_id}/reschedule-request": {"post"},
        "/api/v1/jobs/mine/applicants": {"get"},
        "/api/v1/jobs/mine/applicants/{application_id}": {"get"},
        "/api/v1/jobs/mine/applicants/{application_id}/move": {"post"},
        "/api/v1/jobs/mine/applicants/{application_id}/invite": {"post"},
        "/api/v1/jobs/mine/interviews/{interview_id}/reschedule": {"post"},
        "/api/v1/jobs/mine/interviews/{interview_id}/result": {"post"},
        "/api/v1/jobs/mine/{posting_id}/slots": {"get", "post"},
        "/api/v1/jobs/mine/stages": {"get", "post"},
        "/api/v1/jobs/mine/stages/{stage_id}": {"put"},
        "/api/v1/jobs/staff/applications": {"get"},
        "/api/v1/jobs/staff/applications/{application_id}": {"get"},
    }
    assert {path: set(paths[path]) for path in expected} == expected
    assert (
        paths["/api/v1/jobs/{posting_id}/apply"]["post"]["summary"]
        == "投递岗位（同时单独同意向该企业提供个人信息，consent 须为 true）"
    )


def test_the_applicants_list_runs_the_same_number_of_queries_for_more_applicants(
    world: World, django_assert_max_num_queries: Any
) -> None:
    from qinghe.enterprises.tests.factories import make_user

    hr = client_for(world.hr_a)
    for n in range(2):
        user = make_user(f"s{n}")
        claim_talent(user, name=f"学生{n}", seq=f"3{n}1", phone=f"1351234100{n}")
        apply_to(user, world.posting_a)
    with django_assert_max_num_queries(30) as few:
        hr.get("/jobs/mine/applicants/")
    for n in range(2, 8):
        user = make_user(f"s{n}")
        claim_talent(user, name=f"学生{n}", seq=f"3{n}1", phone=f"1351234100{n}")
        apply_to(user, world.posting_a)
    with django_assert_max_num_queries(len(few.captured_queries)):
        page = hr.get("/jobs/mine/applicants/")
    assert len(page.context["page"].object_list) == 8
