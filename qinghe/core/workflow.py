"""One workflow engine: a status table as data, and one ``transition`` that moves a row.

A ``Workflow`` names its model, its status field and its moves (``Move``: action, the states it
leaves from, the state it goes to, which parties may make it, whether a reason is required).
The few things that differ between workflows are hooks on the definition:

- ``party(actor, row)``: which party the actor is for this row (or None; it may raise
  ``PermissionDenied`` itself), checked against ``Move.by``;
- ``validate(step)``: checks of the caller's arguments (before the state is looked at);
- ``guard(step)``: rules of the row beyond its state (e.g. "the enterprise is verified");
- ``apply(step)``: sets the fields that change with the move, returns their names;
- ``event(step)``: writes the workflow's event row;
- ``summary(step)`` / ``audit_data(step)``: the audit entry;
- ``effects(step)``: side effects, called inside the same transaction after the event and audit
  rows — ``notify()`` writes its outbox rows here, and work that must see the commit is queued
  with ``transaction.on_commit``.

``transition`` runs them in one order, inside one ``transaction.atomic``: look up the move
(unknown: ApplicationError), lock the row with ``select_for_update``, party, reason,
``validate``, state (not a source of the move: the workflow's Chinese refusal), ``guard``, then
set the status and ``apply``, ``save(update_fields=...)``, event, audit, ``effects``. A refusal
raises before anything is written, so a refused move changes nothing.

A move may leave and reach the same state (an interview rescheduled again), and a caller's
extra arguments (``params``) reach every hook, so a status table with results (interviews:
scheduled / rescheduled / cancelled / completed / no-show) fits without changes here."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.utils import timezone

from .audit import audit_record
from .errors import ApplicationError, PermissionDenied

if TYPE_CHECKING:
    from qinghe.accounts.models import User

M = TypeVar("M", bound=models.Model)


@dataclass(frozen=True)
class Move:
    """One row of a transition table."""

    action: str
    label: str
    sources: frozenset[str]
    target: str
    by: frozenset[str]
    needs_reason: bool = False
    # Shown when the actor's party may not make this move (else the workflow's ``denied``).
    denied: str = ""
    # Names of the workflow's own rules that apply to this move (read by its ``guard``).
    checks: frozenset[str] = frozenset()


def table(*moves: Move) -> dict[str, Move]:
    """A transition table keyed by action, in the order given (the order of buttons)."""
    result: dict[str, Move] = {}
    for move in moves:
        if move.action in result:
            raise ValueError(f"duplicate action {move.action!r}")
        result[move.action] = move
    return result


@dataclass
class Step(Generic[M]):
    """One move under way: what every hook is given."""

    workflow: Workflow[M]
    row: M
    move: Move
    actor: User | None
    party: str | None
    old: str
    reason: str
    now: dt.datetime
    params: Mapping[str, Any]

    @property
    def new(self) -> str:
        return self.move.target

    def label(self, state: str) -> str:
        """The display label of a state of this workflow's status field."""
        choices = dict(self.row._meta.get_field(self.workflow.state_field).flatchoices)  # type: ignore[union-attr]
        return str(choices.get(state, state))


def _nothing(step: Step[Any]) -> None:
    return None


def _no_fields(step: Step[Any]) -> list[str]:
    return []


def _default_audit_data(step: Step[Any]) -> dict[str, Any]:
    return {"action": step.move.action, "from": step.old, "to": step.new}


@dataclass(frozen=True)
class Workflow(Generic[M]):
    """A status table as data plus the hooks described in the module's docstring."""

    name: str
    model: type[M]
    moves: Mapping[str, Move]
    party: Callable[[User | None, M], str | None]
    event: Callable[[Step[M]], Any]
    summary: Callable[[Step[M]], str]
    # "岗位当前为“{state}”，不能{label}": the refusal of a move from a state it does not leave.
    refused: str
    denied: str = "无权进行该操作"
    state_field: str = "state"
    reason_field: str = "reason"
    reason_required: str = "请填写原因"
    select_related: tuple[str, ...] = ()
    # Fields saved with every move besides the status (TimeStampedModel's).
    touch: tuple[str, ...] = ("updated_at",)
    validate: Callable[[Step[M]], None] = _nothing
    guard: Callable[[Step[M]], None] = _nothing
    apply: Callable[[Step[M]], Iterable[str]] = _no_fields
    audit_data: Callable[[Step[M]], dict[str, Any]] = _default_audit_data
    effects: Callable[[Step[M]], None] = _nothing
    audit_action: str = "transition"

    def moves_from(self, state: str, *, by: str) -> list[Move]:
        """The moves a party may make from a state (for buttons on pages)."""
        return [m for m in self.moves.values() if state in m.sources and by in m.by]


@transaction.atomic
def transition(
    workflow: Workflow[M],
    *,
    row: M,
    action: str,
    actor: User | None,
    reason: str = "",
    now: dt.datetime | None = None,
    **params: Any,
) -> M:
    """Moves ``row`` by ``action`` (see the module's docstring). Returns the saved row."""
    move = workflow.moves.get(action)
    if move is None:
        raise ApplicationError("未知的操作")
    locked = (
        workflow.model._default_manager.select_for_update(of=("self",))
        .select_related(*workflow.select_related)
        .get(pk=row.pk)
    )
    party = workflow.party(actor, locked)
    if party is None or party not in move.by:
        raise PermissionDenied(move.denied or workflow.denied)
    reason = (reason or "").strip()
    if move.needs_reason and len(reason) < 2:
        raise ValidationError({workflow.reason_field: workflow.reason_required})
    old = getattr(locked, workflow.state_field)
    step = Step(
        workflow=workflow,
        row=locked,
        move=move,
        actor=actor,
        party=party,
        old=old,
        reason=reason,
        now=now or timezone.now(),
        params=params,
    )
    workflow.validate(step)
    if old not in move.sources:
        raise ApplicationError(workflow.refused.format(state=step.label(old), label=move.label))
    workflow.guard(step)
    setattr(locked, workflow.state_field, move.target)
    changed = list(workflow.apply(step))
    update = [workflow.state_field, *changed, *workflow.touch]
    locked.save(update_fields=list(dict.fromkeys(update)))
    workflow.event(step)
    audit_record(
        action=workflow.audit_action,
        actor=actor,
        target=locked,
        summary=workflow.summary(step),
        reason=reason,
        data=workflow.audit_data(step),
    )
    workflow.effects(step)
    return locked
