"""Dependants' cards (家属卡) for the tiers that allow them (tiers.json ``dependants``).

The holder of an active card applies for a spouse or a child with materials (typed by content,
encrypted at rest, as for the main card). Station staff review and HR staff approve (the
approver is not the reviewer); the card gets its own number (``HD…``, from the main cards'
counter) and the main card's validity. It lives and dies with the main card
(``follow_main_card``, called from the main card's workflow effects in the same transaction):

    main card suspended  -> dependants suspended      reinstated -> reinstated
    main card lost       -> dependants voided         expired    -> expired (pending: voided)
    renewed / employer changed -> dependants' validity follows

Every move is audited, writes a DependantEvent and messages the holder. Its e-card is signed
like the main card's with ``dep`` (the relation) in the payload; the online check also requires
the main card to be active. Reads here are scoped to the holder or to the staff who may see the
main card."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.utils import timezone
from stdnum.cn import ric

from qinghe.accounts.models import User
from qinghe.core.audit import audit_record
from qinghe.core.crypto import blind_index
from qinghe.core.errors import ApplicationError, NotFound, PermissionDenied
from qinghe.core.masking import mask_name
from qinghe.core.workflow import Move, Step, Workflow, table, transition
from qinghe.notifications.models import Category
from qinghe.notifications.services import make_key, notify

from . import materials, tiers, tokens
from .models import Card, DependantCard, DependantEvent, DependantMaterial
from .selectors import ECard, card_list_for_staff
from .services import MESSAGE_CHANNELS, _next_number
from .services import _party as card_party

HOLDER, STATION, HR, SYSTEM = "holder", "station", "hr", "system"
MAKER_CHECKER = "maker_checker"
MAIN_ACTIVE = "main_active"
D = DependantCard.State
CURRENT = (D.SUBMITTED, D.REVIEWED, D.ACTIVE, D.SUSPENDED)
PENDING = (D.SUBMITTED, D.REVIEWED)
URL = "/cards/dependants/"

TRANSITIONS = table(
    Move("review", "初审通过", frozenset({D.SUBMITTED}), D.REVIEWED, frozenset({STATION, HR})),
    Move(
        "reject",
        "不予通过",
        frozenset({D.SUBMITTED, D.REVIEWED}),
        D.REJECTED,
        frozenset({STATION, HR}),
        needs_reason=True,
    ),
    Move(
        "approve",
        "审批发卡",
        frozenset({D.REVIEWED}),
        D.ACTIVE,
        frozenset({HR}),
        checks=frozenset({MAKER_CHECKER, MAIN_ACTIVE}),
    ),
    Move("suspend", "随主卡暂停", frozenset({D.ACTIVE}), D.SUSPENDED, frozenset({SYSTEM})),
    Move("reinstate", "随主卡恢复", frozenset({D.SUSPENDED}), D.ACTIVE, frozenset({SYSTEM})),
    Move("follow", "随主卡更新有效期", frozenset({D.ACTIVE}), D.ACTIVE, frozenset({SYSTEM})),
    Move("void", "作废", frozenset(CURRENT), D.VOIDED, frozenset({HOLDER, SYSTEM})),
    Move(
        "expire", "随主卡到期", frozenset({D.ACTIVE, D.SUSPENDED}), D.EXPIRED, frozenset({SYSTEM})
    ),
)
# Moves that change what a dependant's card proves: tokens signed before go stale.
SERIAL_MOVES = frozenset({"approve", "suspend", "reinstate", "follow", "void", "expire"})

# What a main card's move does to its dependants' cards: (action, the states it applies to).
FOLLOW: dict[str, list[tuple[str, tuple[str, ...]]]] = {
    "suspend": [("suspend", (D.ACTIVE,))],
    "reinstate": [("reinstate", (D.SUSPENDED,))],
    "report_lost": [("void", CURRENT)],
    "expire": [("expire", (D.ACTIVE, D.SUSPENDED)), ("void", PENDING)],
    "renew": [("follow", (D.ACTIVE,))],
    "report_change": [("follow", (D.ACTIVE,))],
}


# ---- the workflow -----------------------------------------------------------------------------


def _party(actor: User | None, dep: DependantCard) -> str | None:
    party = card_party(actor, dep.card)
    return {"holder": HOLDER, "station": STATION, "hr": HR, "system": SYSTEM}.get(party or "")


def _guard(step: Step[DependantCard]) -> None:
    dep, checks = step.row, step.move.checks
    if MAKER_CHECKER in checks and step.actor is not None and step.actor.pk == dep.reviewed_by_id:
        raise PermissionDenied("初审人不能审批同一张卡（审核与审批须由两人完成）")
    if MAIN_ACTIVE in checks:
        main = dep.card
        if main.state != Card.State.ACTIVE or main.valid_until is None:
            raise ApplicationError("主卡不在有效状态，不能发放家属卡")
        if main.valid_until < timezone.localdate(step.now):
            raise ApplicationError("主卡已过有效期，不能发放家属卡")


def _apply(step: Step[DependantCard]) -> list[str]:
    dep, action, now = step.row, step.move.action, step.now
    changed: list[str] = []
    if action == "review":
        dep.reviewed_by, dep.reviewed_at = step.actor, now
        changed += ["reviewed_by", "reviewed_at"]
    elif action == "reject":
        dep.reason = step.reason[:300]
        changed.append("reason")
    elif action == "approve":
        today = timezone.localdate(now)
        dep.approved_by, dep.approved_at = step.actor, now
        dep.number = _next_number(today, prefix="HD")
        dep.valid_from, dep.valid_until = today, dep.card.valid_until
        changed += ["approved_by", "approved_at", "number", "valid_from", "valid_until"]
    elif action == "follow":
        dep.valid_until = dep.card.valid_until
        changed.append("valid_until")
    if action in SERIAL_MOVES:
        dep.status_serial += 1
        changed.append("status_serial")
    return changed


def _event(step: Step[DependantCard]) -> DependantEvent:
    return DependantEvent.objects.create(
        dependant=step.row,
        action=step.move.action,
        from_state=step.old,
        to_state=step.new,
        actor=step.actor,
        note=step.reason[:300],
        at=step.now,
    )


def _label(dep: DependantCard) -> str:
    return f"{dep.get_relation_display()}{dep.name}的家属卡"


MESSAGES: dict[str, tuple[str, str]] = {
    "review": ("家属卡初审通过", "{label}申请已通过人才驿站初审，等待人社局审批。"),
    "reject": ("家属卡申请未通过", "{label}申请未通过：{reason}"),
    "approve": ("家属卡已发放", "{label}已发放，卡号 {number}，有效期至 {until}（与主卡相同）。"),
    "suspend": ("家属卡随主卡暂停", "你的主卡已暂停，{label}（{number}）同时暂停使用。"),
    "reinstate": ("家属卡已恢复", "你的主卡已恢复，{label}（{number}）同时恢复使用。"),
    "follow": ("家属卡有效期已更新", "{label}有效期随主卡更新至 {until}。"),
    "void": ("家属卡已作废", "{label}{number}已作废。{why}"),
    "expire": ("家属卡已到期", "你的主卡已到期，{label}（{number}）同时失效。"),
}


def _effects(step: Step[DependantCard]) -> None:
    dep = step.row
    subject, body = MESSAGES[step.move.action]
    why = "原因：主卡已挂失或到期。" if step.actor is None else ""
    text = body.format(
        label=_label(dep),
        reason=step.reason,
        number=dep.number or "",
        until=f"{dep.valid_until:%Y-%m-%d}" if dep.valid_until else "",
        why=why,
    )
    count = DependantEvent.objects.filter(dependant=dep).count()
    notify(
        user=dep.card.holder,
        channels=MESSAGE_CHANNELS,
        category=Category.SYSTEM,
        subject=subject,
        body=text,
        key=make_key("dependant", dep.pk, f"{step.move.action}:{count}"),
        template=f"cards.dependant_{step.move.action}",
        data={"url": URL, "dependant": dep.pk},
    )


WORKFLOW: Workflow[DependantCard] = Workflow(
    name="dependant_card",
    model=DependantCard,
    moves=TRANSITIONS,
    party=_party,
    event=_event,
    summary=lambda step: f"家属卡{step.row.number or f'申请 #{step.row.pk}'}：{step.move.label}",
    refused="这张家属卡当前为“{state}”，不能{label}",
    denied="无权办理这张家属卡的该项业务",
    select_related=("card", "card__holder"),
    guard=_guard,
    apply=_apply,
    effects=_effects,
)


def dependant_transition(
    *,
    dependant: DependantCard,
    action: str,
    actor: User | None,
    reason: str = "",
    now: dt.datetime | None = None,
) -> DependantCard:
    return transition(WORKFLOW, row=dependant, action=action, actor=actor, reason=reason, now=now)


def follow_main_card(*, card: Card, action: str, now: dt.datetime) -> int:
    """Moves the main card's dependants' cards after its own move (inside its transaction)."""
    moved = 0
    for dep_action, states in FOLLOW.get(action, []):
        ids = list(
            DependantCard.objects.filter(card=card, state__in=states).values_list("pk", flat=True)
        )
        for pk in ids:
            dependant_transition(
                dependant=DependantCard(pk=pk), action=dep_action, actor=None, now=now
            )
            moved += 1
    return moved


# ---- the application ------------------------------------------------------------------------


@dataclass
class DependantData:
    relation: str
    name: str
    id_number: str
    uploads: list[materials.Upload] = field(default_factory=list)


REQUIRED = (DependantMaterial.Kind.RELATION, DependantMaterial.Kind.ID_DOC)


def _check(data: DependantData, card: Card, today: dt.date) -> dict[str, Any]:
    scheme = tiers.scheme()
    allowed = scheme.dependant_relations(card.tier)
    errors: dict[str, str] = {}
    if not allowed:
        raise ApplicationError(f"{scheme.tier_name(card.tier)}不含家属卡")
    if data.relation not in allowed:
        errors["relation"] = "请选择与你的关系（配偶或子女）"
    name = (data.name or "").strip()
    if not name:
        errors["name"] = "请填写家属姓名"
    elif len(name) > 64:
        errors["name"] = "姓名不能超过 64 字"
    number = (data.id_number or "").strip().upper()
    birth: dt.date | None = None
    if not ric.is_valid(number):
        errors["id_number"] = "身份证号不正确"
    else:
        birth = ric.get_birth_date(number)
    if birth is not None and data.relation == DependantCard.Relation.CHILD:
        age = today.year - birth.year - ((today.month, today.day) < (birth.month, birth.day))
        if age >= scheme.child_max_age:
            errors["id_number"] = f"子女家属卡面向未满 {scheme.child_max_age} 周岁的子女"
    labels = dict(DependantMaterial.Kind.choices)
    kinds = {u.kind for u in data.uploads}
    for kind in REQUIRED:
        if kind not in kinds:
            errors[kind] = f"请上传{labels[kind]}"
    for upload in data.uploads:
        if upload.kind not in labels:
            errors["materials"] = "未知的材料类型"
            continue
        try:
            materials.check(upload, label=str(labels[upload.kind]))
        except ValidationError as exc:
            errors.update({k: v[0] for k, v in exc.message_dict.items()})
    if errors:
        raise ValidationError(errors)
    return {"name": name, "id_number": number}


@transaction.atomic
def dependant_apply(
    *, user: User, data: DependantData, now: dt.datetime | None = None
) -> DependantCard:
    """The holder of an active card applies for a dependant's card, for station review."""
    now = now or timezone.now()
    card = Card.objects.select_for_update().filter(holder=user, state=Card.State.ACTIVE).first()
    if card is None:
        raise ApplicationError("持有效的鹤才青年卡才能申请家属卡")
    cleaned = _check(data, card, timezone.localdate(now))
    index = blind_index(cleaned["id_number"], purpose="dependant-card")
    current = DependantCard.objects.filter(card=card, state__in=CURRENT)
    if current.filter(id_index=index).exists():
        raise ApplicationError("这位家属已有办理中或有效的家属卡")
    if (
        data.relation == DependantCard.Relation.SPOUSE
        and current.filter(relation=DependantCard.Relation.SPOUSE).exists()
    ):
        raise ApplicationError("配偶的家属卡只能办理一张")
    try:
        with transaction.atomic():
            dep = DependantCard.objects.create(
                card=card,
                relation=data.relation,
                name=cleaned["name"],
                id_number=cleaned["id_number"],
                id_index=index,
            )
    except IntegrityError as exc:
        raise ApplicationError("这位家属已有办理中或有效的家属卡") from exc
    stored: list[str] = []
    try:
        for upload in data.uploads:
            content_type, ext = materials.check(upload, label=upload.kind)
            name, digest = materials.store(upload.data, card_id=f"d{dep.pk}", ext=ext)
            stored.append(name)
            DependantMaterial.objects.create(
                dependant=dep,
                kind=upload.kind,
                file_name=(upload.file_name or "")[-120:],
                content_type=content_type,
                size=len(upload.data),
                sha256=digest,
                stored_name=name,
            )
    except Exception:
        for name in stored:
            materials.delete(name)
        raise
    DependantEvent.objects.create(
        dependant=dep, action="apply", to_state=dep.state, actor=user, at=now
    )
    audit_record(
        action="create",
        actor=user,
        target=dep,
        summary=f"申请家属卡（{dep.get_relation_display()}，主卡 {card.number}）",
        data={"materials": sorted(kinds_of(data))},
    )
    notify(
        user=user,
        channels=MESSAGE_CHANNELS,
        category=Category.SYSTEM,
        subject="家属卡申请已提交",
        body=f"{_label(dep)}申请已提交，人才驿站将尽快初审。",
        key=make_key("dependant", dep.pk, "apply"),
        template="cards.dependant_apply",
        data={"url": URL, "dependant": dep.pk},
    )
    return dep


def kinds_of(data: DependantData) -> set[str]:
    return {u.kind for u in data.uploads}


# ---- reads ------------------------------------------------------------------------------------


def dependants_for_holder(*, viewer: User) -> QuerySet[DependantCard]:
    return DependantCard.objects.filter(card__holder=viewer).select_related("card")


def dependant_get_for_holder(*, viewer: User, dependant_id: int) -> DependantCard:
    dep = dependants_for_holder(viewer=viewer).filter(pk=dependant_id).first()
    if dep is None:
        raise NotFound("没有这张家属卡")
    return dep


def dependants_for_staff(*, viewer: User, state: str = "") -> QuerySet[DependantCard]:
    qs = DependantCard.objects.filter(card__in=card_list_for_staff(viewer=viewer)).select_related(
        "card"
    )
    return qs.filter(state=state) if state else qs


def dependant_get_for_staff(*, viewer: User, dependant_id: int) -> DependantCard:
    dep = dependants_for_staff(viewer=viewer).filter(pk=dependant_id).first()
    if dep is None:
        raise NotFound("没有这张家属卡")
    return dep


def ecard_for_dependant(
    *, viewer: User, dependant_id: int, now: dt.datetime | None = None
) -> ECard | None:
    """A fresh display token for one of the viewer's active dependants' cards (the holder shows
    it, or forwards the page's QR to the dependant), None when the card is not in force."""
    now = now or timezone.now()
    dep = dependant_get_for_holder(viewer=viewer, dependant_id=dependant_id)
    main = dep.card
    if (
        dep.state != D.ACTIVE
        or main.state != Card.State.ACTIVE
        or dep.valid_until is None
        or dep.valid_until < timezone.localdate(now)
    ):
        return None
    assert dep.number and dep.valid_from
    token, expires = tokens.sign(
        tokens.CardClaims(
            number=dep.number,
            tier=main.tier,
            valid_from=dep.valid_from,
            valid_until=dep.valid_until,
            serial=dep.status_serial,
            masked_name=mask_name(dep.name),
            dependant=dep.relation,
        ),
        now=now,
    )
    return ECard(token=token, expires_at=expires, card=main, dependant=dep)
