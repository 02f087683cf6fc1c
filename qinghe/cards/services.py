"""Writes for the 鹤才青年卡: the application (a create), every later move through the one
``card_transition`` on the workflow engine (qinghe/cards/workflow.py), the periodic jobs that
suspend and expire cards, and partners' benefit uses.

Every move is audited by the engine, writes a CardEvent, and messages the holder through
``notify()`` in the same transaction (a rollback sends nothing). A refusal raises before
anything is written."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from stdnum.cn import uscc

from qinghe.accounts.models import Organisation, User
from qinghe.core.audit import audit_record
from qinghe.core.errors import ApplicationError, PermissionDenied
from qinghe.core.masking import mask_name
from qinghe.core.roles import Role
from qinghe.core.workflow import Step, Workflow, transition
from qinghe.notifications.models import Category, Channel
from qinghe.notifications.services import make_key, notify
from qinghe.stations.models import Station
from qinghe.talents.models import Destination, Talent
from qinghe.talents.selectors import talent_for_student

from . import materials, tiers
from .models import BenefitUse, Card, CardEvent, CardMaterial, CardNumberCounter
from .selectors import CardCheck, card_check, facts_for, station_of_staff
from .workflow import (
    CHANGE_IN_TIME,
    HOLDER,
    HR,
    MAKER_CHECKER,
    NOT_PRINTED,
    PRINTED,
    RENEWAL_WINDOW,
    SERIAL_MOVES,
    STATION,
    SYSTEM,
    TRANSITIONS,
)

MESSAGE_CHANNELS = (Channel.INBOX, Channel.SMS)
CHANGE_REPORT_DAYS = 10
RENEWAL_OPENS_DAYS = 30
REQUIRED_MATERIALS = (
    CardMaterial.Kind.CONTRACT,
    CardMaterial.Kind.EMPLOYER_FORM,
    CardMaterial.Kind.DEGREE,
)
CARD_URL = "/cards/"


CURRENT_STATES = (
    Card.State.SUBMITTED,
    Card.State.REVIEWED,
    Card.State.ACTIVE,
    Card.State.SUSPENDED,
    Card.State.LOST,
)


def _today(now: dt.datetime) -> dt.date:
    return timezone.localdate(now)


# ---- the application ----------------------------------------------------------------------


@dataclass
class ApplyData:
    employer: str
    employer_since: dt.date | None
    contract_end: dt.date | None
    requested_tier: str
    employer_uscc: str = ""
    has_qualification: bool = False
    uploads: list[materials.Upload] = field(default_factory=list)


def _station_for(talent: Talent) -> Station | None:
    """The station of the talent's town, else the centre."""
    if talent.town_id:
        station = Station.objects.filter(
            kind=Station.Kind.TOWN, town_id=talent.town_id, is_active=True
        ).first()
        if station is not None:
            return station
    return Station.objects.filter(kind=Station.Kind.CENTRE, is_active=True).first()


def _check_application(data: ApplyData, talent: Talent, today: dt.date) -> dict[str, Any]:
    errors: dict[str, str] = {}
    employer = (data.employer or "").strip()
    if not employer:
        errors["employer"] = "请填写工作单位"
    elif len(employer) > 200:
        errors["employer"] = "工作单位不能超过 200 字"
    code = (data.employer_uscc or "").strip().upper()
    if code and not uscc.is_valid(code):
        errors["employer_uscc"] = "统一社会信用代码不正确"
    if data.employer_since is None:
        errors["employer_since"] = "请填写入职日期"
    elif data.employer_since > today:
        errors["employer_since"] = "入职日期不能晚于今天"
    if data.contract_end is None:
        errors["contract_end"] = "请填写劳动合同截止日期"
    elif data.contract_end <= today:
        errors["contract_end"] = "劳动合同已到期，请上传续签后的合同"
    scheme = tiers.scheme()
    if talent.birth_date is not None:
        age = today.year - talent.birth_date.year
        if (today.month, today.day) < (talent.birth_date.month, talent.birth_date.day):
            age -= 1
        if age > scheme.max_age:
            errors["requested_tier"] = f"鹤才青年卡面向 {scheme.max_age} 周岁及以下的青年人才"
    eligible = {
        t.code for t, _ in tiers.eligible(facts_for(talent, qualification=data.has_qualification))
    }
    if scheme.tier(data.requested_tier) is None:
        errors["requested_tier"] = "请选择申请类别"
    elif data.requested_tier not in eligible and "requested_tier" not in errors:
        errors["requested_tier"] = "你的学历或资格不符合该类别的条件"
    kinds = {u.kind for u in data.uploads}
    labels = dict(CardMaterial.Kind.choices)
    for kind in REQUIRED_MATERIALS:
        if kind not in kinds:
            errors[kind] = f"请上传{labels[kind]}"
    if data.has_qualification and CardMaterial.Kind.QUALIFICATION not in kinds:
        errors[CardMaterial.Kind.QUALIFICATION] = "请上传职业资格（技能等级）证书"
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
    return {"employer": employer, "employer_uscc": code}


@transaction.atomic
def card_apply(*, user: User, data: ApplyData, now: dt.datetime | None = None) -> Card:
    """A card application with its materials (stored encrypted), for station review."""
    now = now or timezone.now()
    if user.role not in (Role.STUDENT, Role.AMBASSADOR):
        raise PermissionDenied("只有学子本人可以申请鹤才青年卡")
    talent = talent_for_student(user=user)
    if talent is None:
        raise ApplicationError("请先在“我的档案”认领或建立你的档案，再申请鹤才青年卡")
    # Serialise one person's applications: a second one waits and then finds the first.
    User.objects.select_for_update().filter(pk=user.pk).first()
    if Card.objects.filter(holder=user, state__in=CURRENT_STATES).exists():
        raise ApplicationError("你已有一张办理中或有效的鹤才青年卡")
    cleaned = _check_application(data, talent, _today(now))
    assert data.employer_since is not None and data.contract_end is not None  # checked above
    try:
        with transaction.atomic():
            card = Card.objects.create(
                holder=user,
                talent=talent,
                station=_station_for(talent),
                name=talent.name,
                employer=cleaned["employer"],
                employer_uscc=cleaned["employer_uscc"],
                employer_since=data.employer_since,
                contract_end=data.contract_end,
                has_qualification=data.has_qualification,
                requested_tier=data.requested_tier,
            )
    except IntegrityError as exc:  # a concurrent application won the race
        raise ApplicationError("你已有一张办理中或有效的鹤才青年卡") from exc
    stored: list[str] = []
    try:
        for upload in data.uploads:
            content_type, ext = materials.check(upload, label=upload.kind)
            name, digest = materials.store(upload.data, card_id=card.pk, ext=ext)
            stored.append(name)
            CardMaterial.objects.create(
                card=card,
                kind=upload.kind,
                file_name=(upload.file_name or "")[-120:],
                content_type=content_type,
                size=len(upload.data),
                sha256=digest,
                stored_name=name,
            )
    except Exception:
        # Nothing of the application is kept: its rows roll back, its files go here.
        for name in stored:
            materials.delete(name)
        raise
    CardEvent.objects.create(card=card, action="apply", to_state=card.state, actor=user, at=now)
    audit_record(
        action="create",
        actor=user,
        target=card,
        summary=f"申请鹤才青年卡（{tiers.scheme().tier_name(card.requested_tier)}）",
        data={"materials": sorted({u.kind for u in data.uploads})},
    )
    _message(
        card,
        key_part="apply",
        subject="鹤才青年卡申请已提交",
        body=("你的鹤才青年卡申请已提交，人才驿站将尽快初审。"),
    )
    return card


# ---- the workflow's hooks ---------------------------------------------------------------------


def _party(actor: User | None, card: Card) -> str | None:
    if actor is None:
        return SYSTEM
    if actor.pk == card.holder_id:
        return HOLDER
    if actor.role in (Role.HR_STAFF, Role.SYSADMIN):
        return HR
    if actor.role == Role.STATION_STAFF:
        own = station_of_staff(actor)
        if own is not None and (
            own.kind == Station.Kind.CENTRE or card.station_id in (None, own.pk)
        ):
            return STATION
    return None


def _date_param(step: Step[Card], name: str, label: str) -> dt.date:
    value = step.params.get(name)
    if not isinstance(value, dt.date):
        raise ValidationError({name: f"请填写{label}"})
    return value


def _validate(step: Step[Card]) -> None:
    action, today = step.move.action, _today(step.now)
    if action == "report_change":
        employer = str(step.params.get("employer") or "").strip()
        if not employer:
            raise ValidationError({"employer": "请填写新的工作单位"})
        code = str(step.params.get("employer_uscc") or "").strip().upper()
        if code and not uscc.is_valid(code):
            raise ValidationError({"employer_uscc": "统一社会信用代码不正确"})
        since = _date_param(step, "employer_since", "入职新单位的日期")
        if since > today:
            raise ValidationError({"employer_since": "入职日期不能晚于今天"})
        end = _date_param(step, "contract_end", "新劳动合同截止日期")
        if end <= today:
            raise ValidationError({"contract_end": "劳动合同截止日期须晚于今天"})
    elif action == "renew":
        end = _date_param(step, "contract_end", "劳动合同截止日期")
        if end <= today:
            raise ValidationError({"contract_end": "劳动合同截止日期须晚于今天"})
    elif action == "approve":
        tier = str(step.params.get("tier") or step.row.requested_tier)
        facts = facts_for(step.row.talent, qualification=step.row.has_qualification)
        if tier not in {t.code for t, _ in tiers.eligible(facts)}:
            raise ValidationError({"tier": "申请人不符合该类别的条件"})


def _guard(step: Step[Card]) -> None:
    card, checks, today = step.row, step.move.checks, _today(step.now)
    if MAKER_CHECKER in checks:
        if step.actor is not None and step.actor.pk == card.reviewed_by_id:
            raise PermissionDenied("初审人不能审批同一张卡（审核与审批须由两人完成）")
        if card.contract_end <= today:
            raise ApplicationError("申请人的劳动合同已到期，不能发卡")
    if NOT_PRINTED in checks and card.printed_at is not None:
        raise ApplicationError("这张卡的实体卡已登记制卡")
    if PRINTED in checks:
        if card.printed_at is None:
            raise ApplicationError("实体卡尚未制卡")
        if card.handed_over_at is not None:
            raise ApplicationError("实体卡已登记领取")
    if CHANGE_IN_TIME in checks:
        since: dt.date = step.params["employer_since"]
        if (today - since).days > CHANGE_REPORT_DAYS:
            raise ApplicationError(
                f"工作单位变更须在 {CHANGE_REPORT_DAYS} 天内报告，已逾期，请带劳动合同到人才驿站办理"
            )
    if RENEWAL_WINDOW in checks:
        assert card.valid_until is not None
        opens = card.valid_until - dt.timedelta(days=RENEWAL_OPENS_DAYS)
        if today < opens:
            raise ApplicationError(
                f"续期自 {opens:%Y-%m-%d} 起开放（有效期届满前 {RENEWAL_OPENS_DAYS} 天）"
            )
        new_end = tiers.validity_end(
            start=card.valid_until + dt.timedelta(days=1), contract_end=step.params["contract_end"]
        )
        if new_end <= card.valid_until:
            raise ApplicationError("新的劳动合同截止日期须晚于卡的现有效期")


def _next_number(today: dt.date, prefix: str = "HC") -> str:
    """The next number of the year; dependants' cards (``HD``) share the counter, so a number
    is never given twice whichever table it is in."""
    counter, _ = CardNumberCounter.objects.get_or_create(year=today.year)
    counter = CardNumberCounter.objects.select_for_update().get(pk=counter.pk)
    counter.last += 1
    counter.save(update_fields=["last"])
    return f"{prefix}{today.year}{counter.last:06d}"


def _apply(step: Step[Card]) -> list[str]:
    card, action, today, now = step.row, step.move.action, _today(step.now), step.now
    changed: list[str] = []
    if action == "review":
        card.reviewed_by, card.reviewed_at = step.actor, now
        changed += ["reviewed_by", "reviewed_at"]
    elif action == "reject":
        card.reason = step.reason[:300]
        changed.append("reason")
    elif action == "approve":
        card.approved_by, card.approved_at = step.actor, now
        card.tier = str(step.params.get("tier") or card.requested_tier)
        card.number = _next_number(today)
        card.valid_from = today
        card.valid_until = tiers.validity_end(start=today, contract_end=card.contract_end)
        changed += ["approved_by", "approved_at", "tier", "number", "valid_from", "valid_until"]
    elif action == "print":
        card.printed_at = now
        changed.append("printed_at")
    elif action == "hand_over":
        card.handed_over_at = now
        changed.append("handed_over_at")
    elif action == "report_change":
        card.employer = str(step.params["employer"]).strip()[:200]
        card.employer_uscc = str(step.params.get("employer_uscc") or "").strip().upper()
        card.employer_since = step.params["employer_since"]
        card.contract_end = step.params["contract_end"]
        assert card.valid_until is not None
        card.valid_until = min(card.valid_until, card.contract_end)
        changed += ["employer", "employer_uscc", "employer_since", "contract_end", "valid_until"]
    elif action == "renew":
        assert card.valid_until is not None
        card.contract_end = step.params["contract_end"]
        card.valid_until = tiers.validity_end(
            start=card.valid_until + dt.timedelta(days=1), contract_end=card.contract_end
        )
        card.renewals += 1
        changed += ["contract_end", "valid_until", "renewals"]
    elif action == "reissue":
        card.number = _next_number(today)
        card.reissues += 1
        card.printed_at = card.handed_over_at = None
        changed += ["number", "reissues", "printed_at", "handed_over_at"]
    elif action == "suspend":
        card.suspended_at = now
        changed.append("suspended_at")
    elif action == "reinstate":
        card.suspended_at = None
        changed.append("suspended_at")
    if action in SERIAL_MOVES:
        card.status_serial += 1
        changed.append("status_serial")
    return changed


def _event(step: Step[Card]) -> CardEvent:
    data: dict[str, Any] = {"serial": step.row.status_serial}
    if step.row.number:
        data["number"] = step.row.number
    if step.move.action == "reissue":
        data["old_number"] = step.params.get("_old_number", "")
    return CardEvent.objects.create(
        card=step.row,
        action=step.move.action,
        from_state=step.old,
        to_state=step.new,
        actor=step.actor,
        note=step.reason[:300],
        data=data,
        at=step.now,
    )


def _summary(step: Step[Card]) -> str:
    card = step.row
    return f"鹤才青年卡{card.number or f'申请 #{card.pk}'}：{step.move.label}"


MESSAGES: dict[str, tuple[str, str]] = {
    "review": ("鹤才青年卡初审通过", "你的鹤才青年卡申请已通过人才驿站初审，等待人社局审批。"),
    "reject": ("鹤才青年卡申请未通过", "你的鹤才青年卡申请未通过：{reason}"),
    "approve": (
        "鹤才青年卡已发放",
        "你的鹤才青年卡（{tier}）已发放，卡号 {number}，有效期至 {until}。电子卡已可使用。",
    ),
    "print": ("鹤才青年卡实体卡已制好", "你的实体卡（卡号 {number}）已制好，请到人才驿站领取。"),
    "hand_over": ("鹤才青年卡实体卡已领取", "你的实体卡（卡号 {number}）已登记领取。"),
    "report_change": (
        "工作单位变更已登记",
        "你的工作单位已变更为“{employer}”，卡有效期至 {until}。",
    ),
    "renew": ("鹤才青年卡已续期", "你的鹤才青年卡已续期，有效期至 {until}。"),
    "report_lost": (
        "鹤才青年卡已挂失",
        "卡号 {number} 已挂失作废，电子卡同时失效。请到人才驿站补办新卡。",
    ),
    "reissue": ("鹤才青年卡已补办", "已为你补办新卡，新卡号 {number}，有效期至 {until}。"),
    "suspend": (
        "鹤才青年卡已暂停",
        "你的工作单位变更超过 10 天未报告，卡号 {number} 已暂停使用。请到人才驿站办理恢复。",
    ),
    "reinstate": ("鹤才青年卡已恢复", "你的鹤才青年卡（卡号 {number}）已恢复使用。"),
    "expire": ("鹤才青年卡已到期", "你的鹤才青年卡（卡号 {number}）已到期失效。"),
}


def _message(card: Card, *, key_part: str, subject: str, body: str) -> None:
    notify(
        user=card.holder,
        channels=MESSAGE_CHANNELS,
        category=Category.SYSTEM,
        subject=subject,
        body=body,
        key=make_key("card", card.pk, key_part),
        template=f"cards.{key_part.split(':')[0]}",
        data={"url": CARD_URL, "card": card.pk},
    )


def _effects(step: Step[Card]) -> None:
    card = step.row
    subject, body = MESSAGES[step.move.action]
    text = body.format(
        reason=step.reason,
        tier=tiers.scheme().tier_name(card.tier),
        number=card.number or "",
        until=f"{card.valid_until:%Y-%m-%d}" if card.valid_until else "",
        employer=card.employer,
    )
    event_count = CardEvent.objects.filter(card=card).count()
    _message(card, key_part=f"{step.move.action}:{event_count}", subject=subject, body=text)
    from .dependants import follow_main_card  # dependants build on this module

    follow_main_card(card=card, action=step.move.action, now=step.now)


CARD_WORKFLOW: Workflow[Card] = Workflow(
    name="card",
    model=Card,
    moves=TRANSITIONS,
    party=_party,
    event=_event,
    summary=_summary,
    refused="这张卡当前为“{state}”，不能{label}",
    denied="无权办理这张卡的该项业务",
    select_related=("holder", "talent"),
    validate=_validate,
    guard=_guard,
    apply=_apply,
    effects=_effects,
)


def card_transition(
    *,
    card: Card,
    action: str,
    actor: User | None,
    reason: str = "",
    now: dt.datetime | None = None,
    **params: Any,
) -> Card:
    """Moves a card by ``action`` (see workflow.TRANSITIONS)."""
    if action == "reissue":
        params["_old_number"] = card.number or ""
    return transition(
        CARD_WORKFLOW, row=card, action=action, actor=actor, reason=reason, now=now, **params
    )


# ---- periodic jobs ----------------------------------------------------------------------------


def cards_expire(*, now: dt.datetime | None = None) -> int:
    """Expires every active or suspended card whose last valid day has passed (daily)."""
    now = now or timezone.now()
    due = Card.objects.filter(
        state__in=[Card.State.ACTIVE, Card.State.SUSPENDED], valid_until__lt=_today(now)
    ).values_list("pk", flat=True)
    done = 0
    for pk in list(due):
        card_transition(card=Card(pk=pk), action="expire", actor=None, now=now)
        done += 1
    return done


def unreported_changes(*, now: dt.datetime) -> list[int]:
    """Active cards whose holder's record shows a new employer (a job that started after the
    card's employer, more than 10 days ago) that the holder has not reported."""
    cutoff = _today(now) - dt.timedelta(days=CHANGE_REPORT_DAYS)
    result: list[int] = []
    cards = Card.objects.filter(state=Card.State.ACTIVE).only(
        "pk", "talent_id", "employer", "employer_since"
    )
    for card in cards.iterator():
        newer = Destination.objects.filter(
            talent_id=card.talent_id,
            kind=Destination.Kind.EMPLOYED,
            start_date__gt=card.employer_since,
            start_date__lt=cutoff,
        ).exclude(employer=card.employer)
        if newer.exists():
            result.append(card.pk)
    return result


def cards_suspend_unreported(*, now: dt.datetime | None = None) -> int:
    """Suspends cards with an employer change not reported within 10 days (daily)."""
    now = now or timezone.now()
    done = 0
    for pk in unreported_changes(now=now):
        card_transition(card=Card(pk=pk), action="suspend", actor=None, now=now)
        done += 1
    return done


# ---- partners -----------------------------------------------------------------------------


@transaction.atomic
def benefit_use_log(
    *, actor: User, token: str, benefit: str, now: dt.datetime | None = None
) -> BenefitUse:
    """A partner logs a benefit it gave on a card it has just verified online."""
    now = now or timezone.now()
    if actor.role != Role.PARTNER or actor.organisation_id is None:
        raise PermissionDenied("只有合作单位账号可以登记权益使用")
    partner = Organisation.objects.get(pk=actor.organisation_id)
    check: CardCheck = card_check(token=token, now=now)
    if not check.valid or check.card is None:
        raise ApplicationError(f"电子卡无效：{check.reason}")
    card = Card.objects.select_for_update().get(pk=check.card.pk)
    dependant = check.dependant
    scheme = tiers.scheme()
    offered = (
        scheme.dependant_benefits_of(card.tier) if dependant else scheme.benefits_of(card.tier)
    )
    if benefit not in {b.code for b in offered}:
        raise ValidationError({"benefit": "该卡的类别不含这项权益"})
    use = BenefitUse.objects.create(
        card=card,
        partner=partner,
        benefit=benefit,
        card_number=(dependant.number if dependant else card.number) or "",
        masked_name=mask_name(dependant.name if dependant else card.name),
        dependant=dependant,
        logged_by=actor,
        used_at=now,
    )
    audit_record(
        action="create",
        actor=actor,
        target=use,
        summary=f"{partner.name}登记权益使用：{scheme.benefit_name(benefit)}（卡号 {use.card_number}）",
    )
    _message(
        card,
        key_part=f"benefit:{use.pk}",
        subject="鹤才青年卡权益使用",
        body=(
            f"{'你的' + dependant.get_relation_display() + '的家属卡' if dependant else '你的鹤才青年卡'}"
            f"于 {timezone.localtime(now):%Y-%m-%d %H:%M} 在{partner.name}使用了“{scheme.benefit_name(benefit)}”。"
        ),
    )
    return use
