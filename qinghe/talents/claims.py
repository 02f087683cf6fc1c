"""Claiming a record the city already holds, and taking an ID back from a squatter.

An ID number and a name are printed on survey sheets: knowing them proves nothing. A claim of
an existing record (``TalentClaim``) links the account only after a second factor the real
person has:

- a one-time code sent by SMS to a phone on file for the record (the student picks one of the
  masked numbers, 138****5678), with the sign-up code machinery of
  ``qinghe.accounts.registration`` (purpose ``claim``: 10 minutes, 5 wrong tries, 1 a minute
  and 5 an hour per phone) and a daily limit per account here; or
- staff verification, when no phone is on file or the student cannot receive the code
  (``claim_decide``, offered on the talent page beside the verification decision).

"On file" means a phone a survey or staff recorded (never one a student typed) and, for a
record a student created that is still unverified, the phones of survey rows the import held
back from it (``ImportRow.Outcome.HELD``). A claim of such a squatted record that succeeds
moves the ID to a new record for the owner built from those held rows, unlinks the squatter,
tells them (``notify``) and audits every step.

Until a claim is approved the student sees nothing from the record."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from qinghe.accounts.models import PhoneVerification
from qinghe.accounts.phones import phone_index
from qinghe.accounts.registration import CODE_USED, verification_check, verification_send
from qinghe.accounts.sms import SmsSender
from qinghe.core.audit import audit_record
from qinghe.core.errors import ApplicationError, NotFound, PermissionDenied
from qinghe.core.masking import mask_phone
from qinghe.core.models import AuditLog
from qinghe.core.roles import Role

from . import normalize
from .identity import InvalidValue, parse_name
from .models import ImportBatch, ImportRow, Source, Talent, TalentClaim
from .selectors import can_verify

if TYPE_CHECKING:
    from qinghe.accounts.models import User

CLAIM_CODE_DAILY_LIMIT = 5
CLAIM_SENT_TO_STAFF = (
    "该身份证号已有档案。为保护档案主人的信息，需由工作人员核实你的身份；"
    "核实通过前，你看不到档案中的任何信息。工作人员可能通过服务专员与你联系。"
)
CLAIM_CHOOSE_PHONE = (
    "该身份证号已有档案。为确认是你本人，请选择档案中登记的一个手机号接收验证码；"
    "如果这些号码你都已无法使用，可以申请工作人员核实。"
)
CLAIM_APPROVED = "认领完成：已确认是你本人，档案已关联到你的账号。请逐项核对信息。"
SQUATTER_NOTICE_SUBJECT = "你认领的档案已解除关联"
SQUATTER_NOTICE_BODY = (
    "你此前用身份证号认领并新建的档案，经身份证号本人验证属于他人，已解除与你账号的关联。"
    "如有疑问，请联系服务专员。"
)


def unverified(talent: Talent) -> bool:
    return talent.verification in (Talent.Verification.PENDING, Talent.Verification.REJECTED)


# --------------------------------------------------------------------------------------------
# What is on file


@dataclass(frozen=True)
class HeldRow:
    row: ImportRow
    parsed: normalize.ParsedRow
    cells: list[Any]


def _header(batch: ImportBatch) -> normalize.HeaderMap:
    stored = batch.header_map or {}
    return normalize.HeaderMap(
        names=tuple(stored.get("names") or ()),
        columns={int(k): v for k, v in (stored.get("columns") or {}).items()},
        extra=(),
    )


def held_rows(talent: Talent) -> list[HeldRow]:
    """The survey rows the import held back from this record, parsed again, oldest first."""
    out: list[HeldRow] = []
    rows = talent.held_import_rows.select_related("batch").order_by("batch__created_at", "pk")
    for row in rows:
        try:
            cells = json.loads(row.raw or "[]")
        except ValueError:
            continue
        header = _header(row.batch)
        width = len(cells)
        raw = {name: cells[pos] if pos < width else None for pos, name in header.columns.items()}
        parsed = normalize.parse_row(raw, today=timezone.localdate(row.batch.created_at))
        if isinstance(parsed, normalize.ParsedRow):
            out.append(HeldRow(row=row, parsed=parsed, cells=cells))
    return out


def _same_name(held: str, given: str) -> bool:
    try:
        return parse_name(held) == given
    except InvalidValue:
        return False


def phones_on_file(talent: Talent, name: str) -> list[tuple[str, str]]:
    """(blind index, number) of the phones the city recorded for the person with this ID and
    name: the record's own (not a student's typing) when the record is not a student's
    unverified creation and the name matches it, and those of held survey rows naming them."""
    found: dict[str, str] = {}
    if not unverified(talent) and _same_name(talent.name, name):
        for phone in talent.phones.exclude(source=Source.STUDENT).filter(is_wrong=False):
            found.setdefault(phone.number_index, phone.number)
    for held in held_rows(talent):
        if held.parsed.phone and _same_name(held.parsed.name, name):
            found.setdefault(phone_index(held.parsed.phone), held.parsed.phone)
    return list(found.items())


def name_on_file(talent: Talent, name: str) -> bool:
    """Whether the name matches what the city recorded: the record's name, or for an
    unverified record (whose name the squatter typed) a held survey row's."""
    if not unverified(talent):
        return _same_name(talent.name, name)
    rows = held_rows(talent)
    # Nothing official to compare with: only staff can tell, so the claim goes to them.
    return not rows or any(_same_name(h.parsed.name, name) for h in rows)


# --------------------------------------------------------------------------------------------
# The student's side


def claim_open(*, user: User) -> TalentClaim | None:
    return (
        TalentClaim.objects.filter(user=user, state__in=TalentClaim.OPEN_STATES)
        .select_related("talent")
        .first()
    )


def claim_start(*, user: User, talent: Talent, name: str) -> TalentClaim:
    """Opens a claim of an existing record (the caller holds its row lock and checked the
    name with ``name_on_file``). Links nothing. A phone on file: awaiting the code; none:
    awaiting staff. An earlier open claim of the same account is cancelled."""
    now = timezone.now()
    TalentClaim.objects.filter(user=user, state__in=TalentClaim.OPEN_STATES).update(
        state=TalentClaim.State.CANCELLED, decided_at=now, updated_at=now
    )
    phones = phones_on_file(talent, name)
    claim = TalentClaim.objects.create(
        user=user,
        talent=talent,
        name=name,
        state=TalentClaim.State.AWAITING_CODE if phones else TalentClaim.State.AWAITING_STAFF,
    )
    audit_record(
        action="create",
        actor=user,
        target=claim,
        summary="学生认领已有档案：待短信验证"
        if phones
        else "学生认领已有档案：档案无可用手机号，待工作人员核实",
        data={"claim": "requested", "talent_id": talent.pk, "phones": len(phones)},
    )
    return claim


def claim_phone_choices(*, claim: TalentClaim) -> list[str]:
    """The masked phones the student may pick from (never the numbers)."""
    return [mask_phone(number) for _, number in phones_on_file(claim.talent, claim.name)]


def _code_sends_today(user: User, now: datetime) -> int:
    start = timezone.localtime(now).replace(hour=0, minute=0, second=0, microsecond=0)
    return AuditLog.objects.filter(
        actor=user,
        target_type="talents.talentclaim",
        data__claim="code_sent",
        created_at__gte=start,
    ).count()


def _own_open_claim(user: User, state: str) -> TalentClaim:
    claim = claim_open(user=user)
    if claim is None or claim.state != state:
        raise NotFound("没有待验证的认领申请")
    return claim


def claim_code_send(
    *,
    user: User,
    choice: int,
    now: datetime | None = None,
    sender: SmsSender | None = None,
) -> str:
    """Sends a code to the chosen phone on file; returns the masked number."""
    now = now or timezone.now()
    claim = _own_open_claim(user, TalentClaim.State.AWAITING_CODE)
    phones = phones_on_file(claim.talent, claim.name)
    if not 0 <= choice < len(phones):
        raise ValidationError({"phone": "请选择一个手机号"})
    if _code_sends_today(user, now) >= CLAIM_CODE_DAILY_LIMIT:
        raise ApplicationError(
            f"今天已获取 {CLAIM_CODE_DAILY_LIMIT} 次认领验证码，请明天再试或申请工作人员核实"
        )
    index, number = phones[choice]
    verification_send(phone=number, purpose=PhoneVerification.Purpose.CLAIM, now=now, sender=sender)
    with transaction.atomic():
        TalentClaim.objects.filter(pk=claim.pk).update(phone_index=index, updated_at=now)
        audit_record(
            action="update",
            actor=user,
            target=claim,
            summary=f"认领验证码已发送至档案登记的手机号 {mask_phone(number)}",
            data={"claim": "code_sent", "talent_id": claim.talent_id},
        )
    return mask_phone(number)


def claim_code_confirm(*, user: User, code: str, now: datetime | None = None) -> Talent:
    """Checks the code; right: the claim is approved and the record linked (a squatter's
    claim on the ID resolved in the owner's favour). Wrong: one try counted on the code and
    one refused claim counted against the account's daily limit; nothing else changes."""
    from .services_self import CLAIM_DAILY_LIMIT, claim_attempts_today

    now = now or timezone.now()
    claim = _own_open_claim(user, TalentClaim.State.AWAITING_CODE)
    number = dict(phones_on_file(claim.talent, claim.name)).get(claim.phone_index)
    if number is None:
        raise ValidationError({"code": "请先获取验证码"})
    if claim_attempts_today(user=user, now=now) >= CLAIM_DAILY_LIMIT:
        raise ApplicationError(
            f"今天的认领尝试已达 {CLAIM_DAILY_LIMIT} 次，请明天再试或联系服务专员"
        )
    try:
        verification = verification_check(
            phone=number, code=code, purpose=PhoneVerification.Purpose.CLAIM, now=now
        )
    except ValidationError:
        audit_record(
            action="view",
            actor=user,
            target=user,
            summary="认领档案未成功",
            data={"claim": "refused", "why": "wrong_code"},
        )
        raise
    with transaction.atomic():
        verification = PhoneVerification.objects.select_for_update().get(pk=verification.pk)
        if verification.used_at is not None:
            raise ValidationError({"code": CODE_USED})
        verification.used_at = now
        verification.save(update_fields=["used_at"])
        return _grant(claim=claim, actor=user, method="sms", now=now)


def claim_ask_staff(*, user: User) -> TalentClaim:
    """The student cannot receive a code: staff decide instead."""
    claim = _own_open_claim(user, TalentClaim.State.AWAITING_CODE)
    with transaction.atomic():
        TalentClaim.objects.filter(pk=claim.pk).update(
            state=TalentClaim.State.AWAITING_STAFF, updated_at=timezone.now()
        )
        audit_record(
            action="update",
            actor=user,
            target=claim,
            summary="学生无法接收验证码，申请工作人员核实",
            data={"claim": "to_staff", "talent_id": claim.talent_id},
        )
    claim.refresh_from_db()
    return claim


# --------------------------------------------------------------------------------------------
# Staff


CLAIM_DECISIONS: dict[str, str] = {
    TalentClaim.State.APPROVED: "核实为本人，同意认领",
    TalentClaim.State.REJECTED: "不予认领",
}


def held_rows_for_staff(*, talent: Talent) -> list[dict[str, Any]]:
    """The held survey rows of a record, masked, for its staff page."""
    from qinghe.core.masking import mask_name

    return [
        {
            "batch": h.row.batch,
            "row_number": h.row.row_number,
            "name": mask_name(h.parsed.name),
            "phone": mask_phone(h.parsed.phone) if h.parsed.phone else "",
            "university": h.parsed.university,
            "employer": h.parsed.employer,
            "graduation_year": h.parsed.graduation_year,
        }
        for h in held_rows(talent)
    ]


def claims_awaiting_staff(*, talent: Talent) -> list[TalentClaim]:
    return list(talent.claims.filter(state=TalentClaim.State.AWAITING_STAFF).select_related("user"))


def claim_decide(
    *,
    viewer: User,
    claim_id: int,
    talent: Talent,
    decision: str,
    reason: str = "",
    now: datetime | None = None,
) -> TalentClaim:
    """Staff decide a claim awaiting them (the roles that verify records, see ``can_verify``).
    Approving links the account as a code would; refusing needs a reason."""
    if not can_verify(viewer, talent):
        raise PermissionDenied(
            "只能核实分配给你的学生的档案"
            if getattr(viewer, "role", None) == Role.LIAISON
            else "无权核实档案认领"
        )
    if decision not in CLAIM_DECISIONS:
        raise ValidationError({"decision": "请选择“核实为本人”或“不予认领”"})
    reason = (reason or "").strip()
    if decision == TalentClaim.State.REJECTED and len(reason) < 2:
        raise ValidationError({"reason": "请填写不予认领的原因"})
    if len(reason) > 300:
        raise ValidationError({"reason": "说明不能超过 300 个字"})
    now = now or timezone.now()
    with transaction.atomic():
        claim = (
            TalentClaim.objects.select_for_update()
            .filter(pk=claim_id, talent=talent, state=TalentClaim.State.AWAITING_STAFF)
            .first()
        )
        if claim is None:
            raise NotFound("没有待核实的认领申请")
        if decision == TalentClaim.State.REJECTED:
            claim.state = TalentClaim.State.REJECTED
            claim.decided_by = viewer
            claim.decided_at = now
            claim.reason = reason
            claim.save(update_fields=["state", "decided_by", "decided_at", "reason", "updated_at"])
            audit_record(
                action="update",
                actor=viewer,
                target=claim,
                summary="核实档案认领：不予认领",
                reason=reason,
                data={"claim": "rejected", "talent_id": talent.pk},
            )
            return claim
        _grant(claim=claim, actor=viewer, method="staff", now=now, reason=reason)
        claim.refresh_from_db()
        return claim


# --------------------------------------------------------------------------------------------
# Granting


def _grant(
    *,
    claim: TalentClaim,
    actor: User,
    method: str,
    now: datetime,
    reason: str = "",
) -> Talent:
    """Links the claimant (inside the caller's transaction). A record held by someone else's
    unverified claim goes to the owner: ``_evict``. A record properly held by another account
    cannot be taken here."""
    talent = Talent.objects.select_for_update().get(pk=claim.talent_id)
    how = "本人短信验证档案登记的手机号" if method == "sms" else "工作人员核实"
    if talent.merged_into_id is not None or (talent.user_id is not None and not unverified(talent)):
        raise ApplicationError("该档案已由他人认领，请联系服务专员")
    if talent.user_id is not None or unverified(talent):
        owned = _evict(talent=talent, claim=claim, actor=actor, how=how, now=now)
    else:
        talent.user = claim.user
        talent.save(update_fields=["user", "updated_at"])
        owned = talent
    TalentClaim.objects.filter(pk=claim.pk).update(
        state=TalentClaim.State.APPROVED,
        decided_by=actor if method == "staff" else None,
        decided_at=now,
        reason=reason,
        updated_at=now,
    )
    audit_record(
        action="update",
        actor=actor,
        target=owned,
        summary=f"学生本人认领档案（{how}）",
        reason=reason,
        data={"claim": "linked", "method": method, "claim_id": claim.pk},
    )
    return owned


def _evict(
    *,
    talent: Talent,
    claim: TalentClaim,
    actor: User,
    how: str,
    now: datetime,
) -> Talent:
    """The ID of an unverified record belongs to the claimant: the squatter's record keeps
    what the squatter typed, loses the ID and the account link and is marked not genuine;
    the owner gets a new record with the ID, filled from the survey rows held back."""
    from qinghe.notifications.models import Category, Channel
    from qinghe.notifications.services import notify

    from .identity import parse_id_number
    from .services import id_number_set, source_stamp

    squatter = talent.user
    id_number = talent.id_number
    held = held_rows(talent)
    talent.user = None
    talent.id_number = ""
    talent.id_index = None
    talent.id_prefix = ""
    talent.provenance = {k: v for k, v in (talent.provenance or {}).items() if k != "id_number"}
    talent.verification = Talent.Verification.REJECTED
    talent.verification_at = now
    talent.verification_by = actor if getattr(actor, "role", None) != Role.STUDENT else None
    talent.verification_reason = f"身份证号经{how}属于他人"
    talent.save()
    audit_record(
        action="update",
        actor=actor,
        target=talent,
        summary=f"冒认档案：身份证号经{how}属于他人，解除学生账号关联",
        data={
            "claim": "evicted",
            "squatter": squatter.pk if squatter else None,
            "claim_id": claim.pk,
        },
    )
    parsed = parse_id_number(id_number)
    stamp = source_stamp(Source.STUDENT, claim.user_id, "学生本人")
    owned = Talent(
        name=claim.name,
        user=claim.user,
        provenance={"name": stamp},
        verification=Talent.Verification.VERIFIED,
        verification_at=now,
        verification_by=talent.verification_by,
        verification_reason=f"身份证号经{how}",
    )
    id_number_set(talent=owned, raw=parsed.number, stamp=stamp)
    owned.provenance.update(
        {
            "birth_date": source_stamp(Source.SYSTEM, claim.user_id, "由身份证号推导"),
            "gender": source_stamp(Source.SYSTEM, claim.user_id, "由身份证号推导"),
        }
    )
    owned.save()
    audit_record(
        action="create",
        actor=actor,
        target=owned,
        summary=f"身份证号本人认领（{how}）：新建档案，并入暂缓合并的调查数据 {len(held)} 行",
        data={"claim": "owner_record", "from_talent": talent.pk, "held_rows": len(held)},
    )
    _apply_held(held, now=now)
    if squatter is not None:
        notify(
            user=squatter,
            channels=[Channel.INBOX, Channel.SMS],
            category=Category.SYSTEM,
            subject=SQUATTER_NOTICE_SUBJECT,
            body=SQUATTER_NOTICE_BODY,
            key=f"claim-evicted:{talent.pk}:{claim.pk}",
        )
    owned.refresh_from_db()
    return owned


def _apply_held(held: list[HeldRow], *, now: datetime) -> None:
    """Runs the held rows through the import's own row logic now that the ID is on a
    verified record, so they merge under the same provenance rules as any survey row."""
    from .importing.chunks import ChunkProcessor, ImportContext, reference_index
    from .importing.reader import _row_work

    for item in held:
        batch = item.row.batch
        ctx = ImportContext(
            batch_id=batch.pk,
            file_sha256=batch.file_sha256,
            header=_header(batch),
            reference=reference_index(),
            today=timezone.localdate(batch.created_at),
            now=now,
        )
        processor = ChunkProcessor(ctx)
        work = _row_work(item.row.row_number, item.cells, item.parsed)
        processor.preload([work])
        ctx.batch_files[batch.pk] = batch.file_sha256
        processor.row_number = item.row.row_number
        outcome, state = processor.apply(item.parsed, work)
        if outcome == ImportRow.Outcome.HELD:
            continue
        state.touched = True
        processor.derive()
        processor.flush()
        ImportRow.objects.filter(pk=item.row.pk).update(
            outcome=outcome, talent_id=state.talent.id, held_for=None, reason=""
        )
        # The batch's counts follow the row: one held fewer, one more of what it became.
        ImportBatch.objects.filter(pk=batch.pk, held__gt=0).update(
            held=F("held") - 1, **{str(outcome): F(str(outcome)) + 1}
        )


__all__ = [
    "CLAIM_APPROVED",
    "CLAIM_CHOOSE_PHONE",
    "CLAIM_SENT_TO_STAFF",
    "claim_ask_staff",
    "claim_code_confirm",
    "claim_code_send",
    "claim_decide",
    "claim_open",
    "claim_phone_choices",
    "claim_start",
    "claims_awaiting_staff",
    "held_rows",
    "name_on_file",
    "phones_on_file",
]
