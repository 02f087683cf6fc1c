"""The workflow engine (qinghe.core.workflow) on its own: an allowed move, refusals that change
nothing, the row lock, the saved fields, the hooks' order, and an interview-shaped table with
a move that stays in its state and arguments that reach the hooks."""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any
from unittest import mock

import pytest
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import QuerySet

from qinghe.accounts.models import User
from qinghe.core.errors import ApplicationError, PermissionDenied
from qinghe.core.models import AuditLog
from qinghe.core.roles import Role
from qinghe.core.workflow import Move, Step, Workflow, table, transition
from qinghe.enterprises.models import Enterprise, EnterpriseEvent, InternshipBase
from qinghe.enterprises.tests.factories import make_base, make_enterprise, make_hr, make_reference

pytestmark = pytest.mark.django_db

B = InternshipBase.State
NOW = dt.datetime(2026, 6, 1, 9, 30, tzinfo=dt.UTC)


def _note_event(step: Step[InternshipBase]) -> EnterpriseEvent:
    return EnterpriseEvent.objects.create(
        enterprise=step.row.enterprise,
        internship_base=step.row,
        action=step.move.action,
        from_state=step.old,
        to_state=step.new,
        note=step.reason,
        actor=step.actor,
    )


def _apply(step: Step[InternshipBase]) -> list[str]:
    if "result" in step.params:
        step.row.decision_note = f"结果：{step.params['result']}"
        return ["decision_note"]
    if "starts" in step.params:
        step.row.requested_from = step.params["starts"]
        return ["requested_from"]
    return []


def _guard(step: Step[InternshipBase]) -> None:
    if "capacity" in step.move.checks and step.row.capacity < 1:
        raise ApplicationError("没有名额")


def _validate(step: Step[InternshipBase]) -> None:
    if step.move.action == "complete" and step.params.get("result") not in {"通过", "未通过"}:
        raise ValidationError({"result": "请选择面试结果"})


effects: list[tuple[str, str, str]] = []

# Interview-shaped: "applied" stands for scheduled; reschedule stays where it is.
MOVES = table(
    Move("reschedule", "改期", frozenset({B.APPLIED}), B.APPLIED, frozenset({"staff"})),
    Move(
        "complete",
        "填写结果",
        frozenset({B.APPLIED}),
        B.CERTIFIED,
        frozenset({"staff"}),
        checks=frozenset({"capacity"}),
    ),
    Move(
        "cancel",
        "取消",
        frozenset({B.APPLIED}),
        B.REJECTED,
        frozenset({"staff", "enterprise"}),
        needs_reason=True,
        denied="只能取消自己的安排",
    ),
)

WORKFLOW: Workflow[InternshipBase] = Workflow(
    name="test",
    model=InternshipBase,
    moves=MOVES,
    party=lambda actor, row: getattr(actor, "test_party", None),
    select_related=("enterprise",),
    refused="当前为“{state}”，不能{label}",
    validate=_validate,
    guard=_guard,
    apply=_apply,
    event=_note_event,
    summary=lambda step: f"测试 {step.label(step.old)} → {step.label(step.new)}",
    effects=lambda step: effects.append((step.move.action, step.old, step.new)),
)


@pytest.fixture
def base(db: Any) -> InternshipBase:
    ref = make_reference()
    return make_base(make_enterprise(ref, name="鹤山市雅图仕印刷有限公司", n=1))


@pytest.fixture
def staff(db: Any) -> User:
    user = make_hr(make_enterprise(make_reference(), name="占位企业", n=2).organisation, "wf_u")
    user.test_party = "staff"  # type: ignore[attr-defined]
    return user


def snapshot(base: InternshipBase) -> tuple[Any, ...]:
    row = InternshipBase.objects.get(pk=base.pk)
    return (
        row.state,
        row.decision_note,
        row.requested_from,
        row.updated_at,
        EnterpriseEvent.objects.filter(internship_base=base).count(),
        AuditLog.objects.filter(target_type="enterprises.internshipbase").count(),
    )


def test_the_table_refuses_a_duplicate_action() -> None:
    move = Move("a", "甲", frozenset({"x"}), "y", frozenset({"staff"}))
    with pytest.raises(ValueError, match="duplicate action 'a'"):
        table(move, move)


def test_moves_from_lists_a_partys_buttons_in_table_order() -> None:
    assert [m.action for m in WORKFLOW.moves_from(B.APPLIED, by="staff")] == [
        "reschedule",
        "complete",
        "cancel",
    ]
    assert [m.action for m in WORKFLOW.moves_from(B.APPLIED, by="enterprise")] == ["cancel"]
    assert WORKFLOW.moves_from(B.CERTIFIED, by="staff") == []


def test_an_allowed_move_saves_only_its_fields_and_writes_event_audit_and_effects(
    base: InternshipBase, staff: User
) -> None:
    effects.clear()
    saved: list[list[str]] = []
    original = InternshipBase.save

    def spy(self: InternshipBase, *args: Any, **kwargs: Any) -> None:
        saved.append(kwargs["update_fields"])
        original(self, *args, **kwargs)

    with mock.patch.object(InternshipBase, "save", spy):
        row = transition(WORKFLOW, row=base, action="complete", actor=staff, now=NOW, result="通过")
    assert saved == [["state", "decision_note", "updated_at"]]
    fresh = InternshipBase.objects.get(pk=base.pk)
    assert (row.state, fresh.state, fresh.decision_note) == (B.CERTIFIED, B.CERTIFIED, "结果：通过")
    event = EnterpriseEvent.objects.get(internship_base=base)
    assert (event.action, event.from_state, event.to_state, event.actor_id) == (
        "complete",
        B.APPLIED,
        B.CERTIFIED,
        staff.pk,
    )
    audit = AuditLog.objects.get(target_type="enterprises.internshipbase", target_id=str(base.pk))
    assert (audit.action, audit.summary, audit.actor_id, audit.data) == (
        "transition",
        "测试 待审核 → 已认定",
        staff.pk,
        {"action": "complete", "from": B.APPLIED, "to": B.CERTIFIED},
    )
    assert effects == [("complete", B.APPLIED, B.CERTIFIED)]


def test_a_move_may_stay_in_its_state_and_its_arguments_reach_the_hooks(
    base: InternshipBase, staff: User
) -> None:
    for day in (dt.date(2026, 7, 1), dt.date(2026, 7, 8)):
        transition(WORKFLOW, row=base, action="reschedule", actor=staff, starts=day)
    fresh = InternshipBase.objects.get(pk=base.pk)
    assert (fresh.state, fresh.requested_from) == (B.APPLIED, dt.date(2026, 7, 8))
    assert (
        list(
            EnterpriseEvent.objects.filter(internship_base=base)
            .order_by("id")
            .values_list("action", "from_state", "to_state")
        )
        == [("reschedule", B.APPLIED, B.APPLIED)] * 2
    )


def test_the_row_is_locked_before_it_is_read(base: InternshipBase, staff: User) -> None:
    calls: list[tuple[Any, ...]] = []
    original = QuerySet.select_for_update

    def spy(self: QuerySet[Any], *args: Any, **kwargs: Any) -> QuerySet[Any]:
        calls.append((self.model, kwargs.get("of")))
        return original(self, *args, **kwargs)

    with mock.patch.object(QuerySet, "select_for_update", spy):
        transition(WORKFLOW, row=base, action="reschedule", actor=staff, starts=NOW.date())
    assert calls == [(InternshipBase, ("self",))]


REFUSALS = [
    # (what, action, actor's party, state, extra arguments, error, message)
    ("unknown action", "approve", "staff", B.APPLIED, {}, ApplicationError, "未知的操作"),
    ("no party", "reschedule", None, B.APPLIED, {}, PermissionDenied, "无权进行该操作"),
    (
        "wrong party",
        "reschedule",
        "enterprise",
        B.APPLIED,
        {},
        PermissionDenied,
        "无权进行该操作",
    ),
    ("reason required", "cancel", "enterprise", B.APPLIED, {}, ValidationError, "请填写原因"),
    ("bad argument", "complete", "staff", B.APPLIED, {"result": "?"}, ValidationError, "请选择"),
    (
        "not from this state",
        "complete",
        "staff",
        B.REVOKED,
        {"result": "通过"},
        ApplicationError,
        "当前为“已撤销”，不能填写结果",
    ),
]


@pytest.mark.parametrize(
    ("what", "action", "party", "state", "params", "error", "message"),
    REFUSALS,
    ids=[r[0] for r in REFUSALS],
)
def test_a_refused_move_changes_nothing(
    what: str,
    action: str,
    party: str | None,
    state: str,
    params: dict[str, Any],
    error: type[Exception],
    message: str,
    base: InternshipBase,
    staff: User,
) -> None:
    effects.clear()
    InternshipBase.objects.filter(pk=base.pk).update(state=state)
    staff.test_party = party  # type: ignore[attr-defined]
    before = snapshot(base)
    with pytest.raises(error) as caught:
        transition(WORKFLOW, row=base, action=action, actor=staff, **params)
    text = caught.value.message if isinstance(caught.value, ApplicationError) else str(caught.value)
    assert message in text
    assert snapshot(base) == before
    assert effects == []


def test_a_guard_refusal_changes_nothing(base: InternshipBase, staff: User) -> None:
    InternshipBase.objects.filter(pk=base.pk).update(capacity=0)
    before = snapshot(base)
    with pytest.raises(ApplicationError, match="^没有名额$"):
        transition(WORKFLOW, row=base, action="complete", actor=staff, result="通过")
    assert snapshot(base) == before


def test_a_moves_own_denied_text_is_used(base: InternshipBase) -> None:
    nobody = make_hr(base.enterprise.organisation, "wf_nobody")
    with pytest.raises(PermissionDenied, match="^只能取消自己的安排$"):
        transition(WORKFLOW, row=base, action="cancel", actor=nobody, reason="有事")


def test_a_failure_after_the_save_rolls_everything_back(base: InternshipBase, staff: User) -> None:
    """The event, the audit row and the new status are one transaction with the effects."""
    before = snapshot(base)

    def boom(step: Step[InternshipBase]) -> None:
        raise RuntimeError("outbox down")

    failing = dataclasses.replace(WORKFLOW, effects=boom)
    with pytest.raises(RuntimeError), transaction.atomic():
        transition(failing, row=base, action="complete", actor=staff, result="通过")
    assert snapshot(base) == before


def test_enterprise_verification_runs_on_the_engine(staff: User, personas: Any) -> None:
    from qinghe.enterprises import services

    ref = make_reference()
    pending = make_enterprise(ref, name="鹤山市双合纺织服饰有限公司", n=3, state="pending")
    assert services.ENTERPRISE_WORKFLOW.moves is services.ENTERPRISE_TRANSITIONS
    done = services.enterprise_transition(
        actor=personas[Role.HR_STAFF], enterprise=pending, action="verify"
    )
    assert (done.state, done.verified_by_id) == (
        Enterprise.State.VERIFIED,
        personas[Role.HR_STAFF].pk,
    )
