"""The posting workflow: the transition table, the rules of publishing, expiry, and the
certification of quality jobs."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.utils import timezone

from qinghe.core.errors import ApplicationError, PermissionDenied
from qinghe.core.models import AuditLog
from qinghe.core.roles import Role
from qinghe.enterprises.tests.factories import make_posting
from qinghe.jobs import services
from qinghe.jobs.models import Posting, PostingEvent
from qinghe.jobs.selectors import PostingFilter, open_postings, posting_search
from qinghe.jobs.services import PostingData
from qinghe.jobs.workflow import ENTERPRISE, POSTING_TRANSITIONS, STAFF, SYSTEM, moves_from
from qinghe.testing.world import World

pytestmark = pytest.mark.django_db

S = Posting.State


def snapshot(posting: Posting) -> tuple[Any, ...]:
    row = Posting.objects.get(pk=posting.pk)
    return (
        row.state,
        row.submitted_at,
        row.published_at,
        row.review_note,
        row.is_quality,
        PostingEvent.objects.filter(posting=posting).count(),
        AuditLog.objects.filter(target_type="jobs.posting", target_id=str(posting.pk)).count(),
    )


def test_the_transition_table_reads_as_the_issue_says() -> None:
    table = {
        action: (sorted(t.sources), t.target, sorted(t.by), t.needs_reason)
        for action, t in POSTING_TRANSITIONS.items()
    }
    assert table == {
        "submit": (["draft"], "review", [ENTERPRISE], False),
        "withdraw": (["review"], "draft", [ENTERPRISE], False),
        "approve": (["review"], "published", [STAFF], False),
        "reject": (["review"], "draft", [STAFF], True),
        "revise": (["published"], "draft", [ENTERPRISE], False),
        "close": (["published"], "closed", [ENTERPRISE, STAFF], False),
        "expire": (["published"], "expired", [SYSTEM], False),
    }
    assert [m.action for m in moves_from("draft", by=ENTERPRISE)] == ["submit"]
    assert [m.action for m in moves_from("review", by=STAFF)] == ["approve", "reject"]
    assert [m.action for m in moves_from("closed", by=STAFF)] == []


ACTOR_FOR = {
    "submit": "hr_a",
    "withdraw": "hr_a",
    "approve": "staff",
    "reject": "staff",
    "close": "hr_a",
    "revise": "hr_a",
}


@pytest.mark.parametrize("action", sorted(ACTOR_FOR))
@pytest.mark.parametrize("state", [s for s in S.values])
def test_every_move_from_every_state_is_allowed_exactly_by_the_table(
    action: str, state: str, world: World, personas: Any
) -> None:
    posting = make_posting(world.a, title="数控车床操作工", state=state)
    actor = world.hr_a if ACTOR_FOR[action] == "hr_a" else personas[Role.HR_STAFF]
    before = snapshot(posting)
    allowed = state in POSTING_TRANSITIONS[action].sources
    if allowed:
        services.posting_transition(
            actor=actor, posting=posting, action=action, note="信息不全，请补充"
        )
        assert Posting.objects.get(pk=posting.pk).state == POSTING_TRANSITIONS[action].target
        event = PostingEvent.objects.get(posting=posting, action=action)
        assert (event.from_state, event.to_state, event.actor_id) == (
            state,
            POSTING_TRANSITIONS[action].target,
            actor.pk,
        )
    else:
        with pytest.raises(ApplicationError, match="^岗位当前为"):
            services.posting_transition(
                actor=actor, posting=posting, action=action, note="信息不全，请补充"
            )
        assert snapshot(posting) == before


def test_an_unverified_enterprise_cannot_submit_and_nothing_changes(world: World) -> None:
    draft = make_posting(world.c, title="服装设计师", state=S.DRAFT)
    before = snapshot(draft)
    with pytest.raises(ApplicationError, match="企业尚未通过人社局认证，不能提交或发布岗位"):
        services.posting_submit(actor=world.hr_c, posting=draft)
    assert snapshot(draft) == before


def test_staff_cannot_publish_a_posting_of_an_enterprise_whose_verification_was_revoked(
    world: World, personas: Any
) -> None:
    from qinghe.enterprises.services import enterprise_transition

    enterprise_transition(
        actor=personas[Role.HR_STAFF], enterprise=world.a, action="reject", reason="经营异常"
    )
    before = snapshot(world.review_a)
    with pytest.raises(ApplicationError, match="企业尚未通过人社局认证"):
        services.posting_approve(actor=personas[Role.HR_STAFF], posting=world.review_a)
    assert snapshot(world.review_a) == before
    # and its published posting disappears from the students' search at once
    assert not open_postings().filter(pk=world.posting_a.pk).exists()


def test_submitting_requires_the_facts_students_ask_about(world: World) -> None:
    draft = make_posting(world.a, title="跟单文员", state=S.DRAFT, facts=False, closing_date=None)
    Posting.objects.filter(pk=draft.pk).update(closing_date=None)
    before = snapshot(draft)
    with pytest.raises(ValidationError) as caught:
        services.posting_submit(actor=world.hr_a, posting=draft)
    assert caught.value.message_dict == {
        "working_hours": ["发布前须写明工作时间"],
        "housing": ["发布前须写明住宿"],
        "meals": ["发布前须写明餐食"],
        "social_insurance": ["发布前须写明社会保险"],
        "leave": ["发布前须写明休假"],
        "safety": ["发布前须写明劳动安全"],
        "closing_date": ["发布前须填写截止日期"],
    }
    assert snapshot(draft) == before


def test_another_enterprise_cannot_move_a_posting(world: World) -> None:
    before = snapshot(world.draft_a)
    with pytest.raises(PermissionDenied):
        services.posting_submit(actor=world.hr_b, posting=world.draft_a)
    assert snapshot(world.draft_a) == before


def test_a_student_cannot_move_a_posting(world: World) -> None:
    before = snapshot(world.posting_a)
    with pytest.raises(PermissionDenied):
        services.posting_close(actor=world.x, posting=world.posting_a)
    assert snapshot(world.posting_a) == before


def test_the_full_path_draft_review_published_closed_with_events_and_audit(
    world: World, personas: Any
) -> None:
    staff = personas[Role.HR_STAFF]
    posting = services.posting_create(
        actor=world.hr_a,
        enterprise=world.a,
        data=PostingData(
            kind="internship",
            title="印刷工艺实习生",
            description="在导师带领下参与色彩管理项目。",
            town=world.ref.shaping,
            headcount=10,
            salary_min=2500,
            salary_max=3000,
            closing_date=timezone.localdate() + dt.timedelta(days=20),
            working_hours="8:30–17:30",
            housing="免费宿舍",
            meals="午餐免费",
            social_insurance="实习意外险",
            leave="周末双休",
            safety="不安排危险作业",
        ),
    )
    services.posting_submit(actor=world.hr_a, posting=posting)
    services.posting_reject(actor=staff, posting=posting, note="请写明实习补贴发放方式")
    posting.refresh_from_db()
    assert (posting.state, posting.review_note) == ("draft", "请写明实习补贴发放方式")
    services.posting_submit(actor=world.hr_a, posting=posting)
    services.posting_approve(actor=staff, posting=posting)
    services.posting_close(actor=world.hr_a, posting=posting)
    assert list(
        PostingEvent.objects.filter(posting=posting)
        .order_by("id")
        .values_list("action", "to_state")
    ) == [
        ("create", "draft"),
        ("submit", "review"),
        ("reject", "draft"),
        ("submit", "review"),
        ("approve", "published"),
        ("close", "closed"),
    ]
    assert AuditLog.objects.filter(action="transition", target_id=str(posting.pk)).count() == 5


def test_only_drafts_can_be_edited(world: World) -> None:
    data = PostingData(kind="job", title="改名", description="x" * 20, town=world.ref.shaping)
    with pytest.raises(ApplicationError, match="只有草稿可以修改"):
        services.posting_update(actor=world.hr_a, posting=world.posting_a, data=data)
    assert Posting.objects.get(pk=world.posting_a.pk).title == "软件开发工程师"


def test_editing_a_draft_recomputes_search_tokens_and_the_majors_flag(world: World) -> None:
    data = PostingData(
        kind="job",
        title="化工工艺工程师",
        description="负责反应釜工艺控制。",
        town=world.ref.hecheng,
        categories=[world.ref.chemistry],
    )
    changed = services.posting_update(actor=world.hr_a, posting=world.draft_a, data=data)
    assert changed == [
        "title",
        "description",
        "town",
        "min_level",
        "salary_min",
        "salary_max",
        "closing_date",
        "working_hours",
        "housing",
        "meals",
        "social_insurance",
        "leave",
        "safety",
        "required_categories",
    ]
    draft = Posting.objects.get(pk=world.draft_a.pk)
    assert " 化工 " in draft.search_tokens and " 印前 " not in draft.search_tokens
    assert draft.majors_unrestricted is False


# --- expiry --------------------------------------------------------------------------------------


def test_a_posting_past_its_closing_date_takes_no_applications_even_before_the_job_runs(
    world: World,
) -> None:
    today = timezone.localdate()
    posting = make_posting(world.a, title="会计", closing_date=today - dt.timedelta(days=1))
    assert posting.state == "published"
    assert posting.accepts_applications(today=today) is False
    assert posting.accepts_applications(today=today - dt.timedelta(days=1)) is True
    assert not posting_search(viewer=world.x, filters=PostingFilter(q="会计")).exists()
    # and the job, when it runs, records the move
    moved = services.postings_expire()
    assert moved == 1
    posting.refresh_from_db()
    assert (posting.state, posting.closed_at is not None) == ("expired", True)
    event = PostingEvent.objects.get(posting=posting, action="expire")
    assert (event.from_state, event.to_state, event.actor) == ("published", "expired", None)


def test_expiry_uses_the_time_it_is_given(world: World) -> None:
    today = timezone.localdate()
    make_posting(world.a, title="A", closing_date=today + dt.timedelta(days=5))
    make_posting(world.a, title="B", closing_date=today + dt.timedelta(days=10))
    later = timezone.now() + dt.timedelta(days=7)
    assert services.postings_expire(now=later) == 1
    assert set(Posting.objects.filter(state="expired").values_list("title", flat=True)) == {"A"}
    assert services.postings_expire(now=later) == 0  # idempotent


def test_expire_refuses_a_posting_not_yet_due(world: World) -> None:
    with pytest.raises(ApplicationError, match="岗位尚未到截止日期"):
        services.posting_transition(actor=None, posting=world.posting_a, action="expire")


def test_the_management_command_and_the_task_expire_postings(world: World) -> None:
    from io import StringIO

    from qinghe.jobs.tasks import expire_postings

    today = timezone.localdate()
    make_posting(world.a, title="A", closing_date=today - dt.timedelta(days=1))
    out = StringIO()
    call_command("expire_postings", stdout=out)
    assert out.getvalue().strip() == "expired postings: 1"
    make_posting(world.a, title="B", closing_date=today - dt.timedelta(days=2))
    result = expire_postings.enqueue()  # the immediate backend in tests
    assert result.return_value == 1


# --- quality jobs --------------------------------------------------------------------------------


ALL_ATTESTED = ["contract", "insurance", "growth", "industry"]


def test_staff_certify_a_quality_job_against_the_criteria_and_it_is_audited(
    client_as: Any, world: World
) -> None:
    response = client_as(Role.HR_STAFF).post(
        f"/jobs/staff/{world.posting_a.pk}/certify/",
        {"criteria": ALL_ATTESTED, "note": "电话核实社保"},
    )
    assert response.status_code == 302
    posting = Posting.objects.get(pk=world.posting_a.pk)
    assert posting.quality_certified_by is not None
    assert (posting.is_quality, posting.quality_certified_by.username, posting.quality_note) == (
        True,
        "renshe",
        "电话核实社保",
    )
    assert posting.quality_criteria == sorted(["facts", "full_time", "salary", *ALL_ATTESTED])
    entry = AuditLog.objects.get(action="update", target_id=str(posting.pk))
    assert (entry.actor_label, entry.summary, entry.data["quality"]) == (
        "renshe",
        "认定优质岗位：鹤山市雅图仕印刷有限公司 软件开发工程师",
        True,
    )
    assert PostingEvent.objects.filter(posting=posting, action="certify_quality").count() == 1


def test_quality_certification_lists_the_unmet_criteria_and_changes_nothing(
    world: World, personas: Any
) -> None:
    low_pay = make_posting(world.a, title="普工", salary_min=4200, salary_max=5000)
    before = snapshot(low_pay)
    with pytest.raises(ApplicationError) as caught:
        services.posting_certify_quality(
            actor=personas[Role.HR_STAFF], posting=low_pay, criteria=["contract", "insurance"]
        )
    assert caught.value.extra["unmet"] == [
        "月薪下限不低于 5000 元，且岗位写明薪酬范围",
        "有明确的培养计划与晋升通道（导师带教、岗位序列或职称晋升）",
        "属于鹤山重点产业或紧缺岗位，或企业为重点企业",
    ]
    assert snapshot(low_pay) == before


def test_internships_and_unpublished_postings_are_not_quality_jobs(
    world: World, personas: Any
) -> None:
    staff = personas[Role.HR_STAFF]
    internship = make_posting(world.a, title="实习生", kind="internship")
    with pytest.raises(ApplicationError, match="面向高校毕业生的全职岗位"):
        services.posting_certify_quality(actor=staff, posting=internship, criteria=ALL_ATTESTED)
    with pytest.raises(ApplicationError, match="只有已发布的岗位可以认定为优质岗位"):
        services.posting_certify_quality(actor=staff, posting=world.draft_a, criteria=ALL_ATTESTED)
    assert not Posting.objects.filter(is_quality=True).exists()


def test_only_hr_bureau_staff_certify_and_revoke(world: World, personas: Any) -> None:
    before = snapshot(world.posting_a)
    for role in (Role.LIAISON, Role.EDU_STAFF, Role.AUDITOR):
        with pytest.raises(PermissionDenied):
            services.posting_certify_quality(
                actor=personas[role], posting=world.posting_a, criteria=ALL_ATTESTED
            )
    assert snapshot(world.posting_a) == before
    services.posting_certify_quality(
        actor=personas[Role.HR_STAFF], posting=world.posting_a, criteria=ALL_ATTESTED
    )
    with pytest.raises(PermissionDenied):
        services.posting_revoke_quality(
            actor=world.hr_a, posting=world.posting_a, reason="自己撤销"
        )
    services.posting_revoke_quality(
        actor=personas[Role.HR_STAFF], posting=world.posting_a, reason="企业欠缴社保"
    )
    posting = Posting.objects.get(pk=world.posting_a.pk)
    assert posting.is_quality is False
    assert AuditLog.objects.filter(action="update", target_id=str(posting.pk)).count() == 2


def test_recommendations_follow_postings_as_they_open_and_close(
    world: World, personas: Any, monkeypatch: Any, django_capture_on_commit_callbacks: Any
) -> None:
    from qinghe.matching import tasks as matching_tasks

    calls: list[tuple[str, int]] = []

    class Recorder:
        def __init__(self, name: str) -> None:
            self.name = name

        def enqueue(self, pk: int) -> None:
            calls.append((self.name, pk))

    monkeypatch.setattr(matching_tasks, "posting_published", Recorder("published"))
    monkeypatch.setattr(matching_tasks, "posting_closed", Recorder("closed"))
    staff = personas[Role.HR_STAFF]
    with django_capture_on_commit_callbacks(execute=True):
        services.posting_approve(actor=staff, posting=world.review_a)
    with django_capture_on_commit_callbacks(execute=True):
        services.posting_transition(actor=world.hr_a, posting=world.review_a, action="close")
    assert calls == [("published", world.review_a.pk), ("closed", world.review_a.pk)]
