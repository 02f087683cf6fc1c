"""A card from application to expiry: apply -> review -> approve -> print -> hand over ->
change of employer -> renew -> lose -> reissue -> expire, with the audit row, the card event
and the holder's message at each step; and the refusals (approver = reviewer, renewal too
early, an employer change reported after 10 days) that change nothing."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError

from qinghe.cards import materials, services
from qinghe.cards.models import Card, CardEvent
from qinghe.cards.selectors import card_check, ecard_for_holder
from qinghe.core.errors import ApplicationError, PermissionDenied
from qinghe.core.models import AuditLog
from qinghe.notifications.models import OutboxMessage
from qinghe.talents.models import Destination, Source

from .factories import PDF, PNG, CardWorld, apply_data, uploads

SH = ZoneInfo("Asia/Shanghai")
NOW = dt.datetime(2026, 3, 2, 10, 0, tzinfo=SH)
TODAY = NOW.date()


def audit_summaries(card: Card) -> list[str]:
    rows = AuditLog.objects.filter(target_type="cards.card", target_id=str(card.pk))
    return list(rows.order_by("id").values_list("summary", flat=True))


def inbox_subjects(card: Card) -> list[str]:
    rows = OutboxMessage.objects.filter(user=card.holder, channel="inbox")
    return list(rows.order_by("id").values_list("subject", flat=True))


def snapshot(card: Card) -> dict[str, Any]:
    card.refresh_from_db()
    fields = [f.attname for f in Card._meta.concrete_fields if f.attname != "updated_at"]
    return {
        "card": {f: getattr(card, f) for f in fields},
        "events": CardEvent.objects.filter(card=card).count(),
        "audit": AuditLog.objects.count(),
        "outbox": OutboxMessage.objects.count(),
    }


def applied(cw: CardWorld) -> Card:
    return services.card_apply(user=cw.student, data=apply_data(TODAY), now=NOW)


def test_the_whole_life_of_a_card(cw: CardWorld) -> None:
    card = applied(cw)
    assert card.state == "submitted"
    assert card.station == cw.shaping  # her town's station
    assert card.name == "李晓彤"
    assert audit_summaries(card) == ["申请鹤才青年卡（A 类（高层次青年人才））"]
    assert inbox_subjects(card) == ["鹤才青年卡申请已提交"]
    stored = list(card.materials.order_by("kind").values_list("kind", "content_type", "size"))
    assert stored == [
        ("contract", "application/pdf", len(PDF)),
        ("degree", "application/pdf", len(PDF)),
        ("employer_form", "application/pdf", len(PDF)),
    ]
    # Encrypted at rest: the stored bytes are not the file, and read back they are.
    from django.core.files.storage import default_storage

    one = card.materials.first()
    assert one is not None
    with default_storage.open(one.stored_name, "rb") as handle:
        assert PDF not in handle.read()
    assert materials.read(one.stored_name) == PDF

    card = services.card_transition(card=card, action="review", actor=cw.station_staff, now=NOW)
    assert (card.state, card.reviewed_by) == ("reviewed", cw.station_staff)

    card = services.card_transition(card=card, action="approve", actor=cw.hr, now=NOW)
    assert card.state == "active"
    assert card.number == "HC2026000001"
    assert card.tier == "A"
    assert card.valid_from == TODAY
    assert card.valid_until == TODAY.replace(year=2029)  # the contract's end (< 5 years)
    assert card.status_serial == 1
    first = ecard_for_holder(viewer=cw.student, now=NOW)
    assert first is not None and card_check(token=first.token, now=NOW).valid

    card = services.card_transition(card=card, action="print", actor=cw.station_staff, now=NOW)
    card = services.card_transition(card=card, action="hand_over", actor=cw.station_staff, now=NOW)
    assert card.printed_at == NOW and card.handed_over_at == NOW
    assert card.status_serial == 1  # the physical card does not change what the e-card proves

    later = NOW + dt.timedelta(days=100)
    card = services.card_transition(
        card=card,
        action="report_change",
        actor=cw.student,
        now=later,
        employer="鹤山市华翔电子有限公司",
        employer_since=later.date() - dt.timedelta(days=5),
        contract_end=dt.date(2028, 6, 30),
    )
    assert card.employer == "鹤山市华翔电子有限公司"
    assert card.valid_until == dt.date(2028, 6, 30)  # never past the new contract
    assert card.status_serial == 2
    # The token shown before the change is stale at once (the online check).
    assert card_check(token=first.token, now=NOW).reason.startswith("该电子卡已失效")

    renew_at = dt.datetime(2028, 6, 10, 9, 0, tzinfo=SH)  # 20 days before the end
    card = services.card_transition(
        card=card,
        action="renew",
        actor=cw.student,
        now=renew_at,
        contract_end=dt.date(2035, 12, 31),
    )
    assert card.valid_until == dt.date(2033, 6, 30)  # five years from the day after the old end
    assert (card.renewals, card.status_serial) == (1, 3)

    lost_at = renew_at + dt.timedelta(days=30)
    shown = ecard_for_holder(viewer=cw.student, now=lost_at)
    assert shown is not None
    card = services.card_transition(card=card, action="report_lost", actor=cw.student, now=lost_at)
    assert card.state == "lost"
    check = card_check(token=shown.token, now=lost_at)
    assert (check.valid, check.reason) == (False, "该卡已挂失作废")
    assert ecard_for_holder(viewer=cw.student, now=lost_at) is None

    card = services.card_transition(
        card=card, action="reissue", actor=cw.station_staff, now=lost_at
    )
    assert card.state == "active"
    assert card.number == "HC2028000001"  # a new number
    assert card.reissues == 1 and card.printed_at is None
    assert card_check(token=shown.token, now=lost_at).reason == "卡号不存在或已补办新卡"

    # Expired cards expire by themselves (the daily job); the day before nothing happens.
    assert services.cards_expire(now=dt.datetime(2033, 6, 30, 23, 0, tzinfo=SH)) == 0
    assert services.cards_expire(now=dt.datetime(2033, 7, 1, 0, 30, tzinfo=SH)) == 1
    card.refresh_from_db()
    assert card.state == "expired"

    prefix = "鹤才青年卡"
    assert audit_summaries(card) == [
        "申请鹤才青年卡（A 类（高层次青年人才））",
        f"{prefix}申请 #{card.pk}：初审通过",
        f"{prefix}HC2026000001：审批发卡",
        f"{prefix}HC2026000001：登记实体卡制卡",
        f"{prefix}HC2026000001：登记实体卡领取",
        f"{prefix}HC2026000001：报告工作单位变更",
        f"{prefix}HC2026000001：续期",
        f"{prefix}HC2026000001：挂失",
        f"{prefix}HC2028000001：补办新卡",
        f"{prefix}HC2028000001：到期失效",
    ]
    assert list(
        CardEvent.objects.filter(card=card).values_list("action", "from_state", "to_state")
    ) == [
        ("apply", "", "submitted"),
        ("review", "submitted", "reviewed"),
        ("approve", "reviewed", "active"),
        ("print", "active", "active"),
        ("hand_over", "active", "active"),
        ("report_change", "active", "active"),
        ("renew", "active", "active"),
        ("report_lost", "active", "lost"),
        ("reissue", "lost", "active"),
        ("expire", "active", "expired"),
    ]
    reissue = CardEvent.objects.get(card=card, action="reissue")
    assert reissue.data["old_number"] == "HC2026000001"
    assert inbox_subjects(card) == [
        "鹤才青年卡申请已提交",
        "鹤才青年卡初审通过",
        "鹤才青年卡已发放",
        "鹤才青年卡实体卡已制好",
        "鹤才青年卡实体卡已领取",
        "工作单位变更已登记",
        "鹤才青年卡已续期",
        "鹤才青年卡已挂失",
        "鹤才青年卡已补办",
        "鹤才青年卡已到期",
    ]


def test_the_approver_may_not_be_the_reviewer(cw: CardWorld) -> None:
    card = applied(cw)
    card = services.card_transition(card=card, action="review", actor=cw.hr, now=NOW)
    before = snapshot(card)
    with pytest.raises(PermissionDenied, match="初审人不能审批同一张卡"):
        services.card_transition(card=card, action="approve", actor=cw.hr, now=NOW)
    assert snapshot(card) == before
    card = services.card_transition(card=card, action="approve", actor=cw.hr2, now=NOW)
    assert (card.state, card.approved_by) == ("active", cw.hr2)


def issued(cw: CardWorld) -> Card:
    card = applied(cw)
    card = services.card_transition(card=card, action="review", actor=cw.station_staff, now=NOW)
    return services.card_transition(card=card, action="approve", actor=cw.hr, now=NOW)


def test_renewal_before_the_last_thirty_days_is_refused(cw: CardWorld) -> None:
    card = issued(cw)
    assert card.valid_until == dt.date(2029, 3, 2)
    before = snapshot(card)
    too_early = dt.datetime(2029, 1, 31, 9, 0, tzinfo=SH)  # 30 days before is 2029-01-31
    with pytest.raises(ApplicationError, match="续期自 2029-01-31 起开放"):
        services.card_transition(
            card=card,
            action="renew",
            actor=cw.student,
            now=too_early - dt.timedelta(days=1),
            contract_end=dt.date(2032, 1, 1),
        )
    assert snapshot(card) == before
    card = services.card_transition(
        card=card, action="renew", actor=cw.student, now=too_early, contract_end=dt.date(2032, 1, 1)
    )
    assert card.valid_until == dt.date(2032, 1, 1)


def test_an_employer_change_reported_after_ten_days_is_refused(cw: CardWorld) -> None:
    card = issued(cw)
    before = snapshot(card)
    with pytest.raises(ApplicationError, match="10 天内报告"):
        services.card_transition(
            card=card,
            action="report_change",
            actor=cw.student,
            now=NOW,
            employer="鹤山市华翔电子有限公司",
            employer_since=TODAY - dt.timedelta(days=11),
            contract_end=dt.date(2028, 1, 1),
        )
    assert snapshot(card) == before


def test_an_unreported_change_suspends_the_card_after_ten_days(cw: CardWorld) -> None:
    card = issued(cw)
    Destination.objects.create(
        talent=cw.talent,
        kind=Destination.Kind.EMPLOYED,
        employer="鹤山市华翔电子有限公司",
        start_date=TODAY + dt.timedelta(days=30),
        source=Source.SURVEY,
    )
    ten_days = dt.datetime(2026, 4, 11, 9, 0, tzinfo=SH)  # 10 days after the new job began
    before = snapshot(card)
    assert services.cards_suspend_unreported(now=ten_days) == 0
    assert snapshot(card) == before
    assert services.cards_suspend_unreported(now=ten_days + dt.timedelta(days=1)) == 1
    card.refresh_from_db()
    assert (card.state, card.status_serial) == ("suspended", 2)
    assert inbox_subjects(card)[-1] == "鹤才青年卡已暂停"
    assert audit_summaries(card)[-1] == "鹤才青年卡HC2026000001：暂停（工作单位变更逾期未报告）"
    # Station staff reinstate it once the change is handled (with a reason).
    with pytest.raises(ValidationError):
        services.card_transition(card=card, action="reinstate", actor=cw.station_staff)
    card = services.card_transition(
        card=card, action="reinstate", actor=cw.station_staff, reason="已核实新单位劳动合同"
    )
    assert card.state == "active"


def test_refused_applications_keep_nothing(cw: CardWorld) -> None:
    counts = (Card.objects.count(), AuditLog.objects.count(), OutboxMessage.objects.count())
    bad_type = [
        *uploads("contract", "employer_form"),
        materials.Upload("degree", "d.pdf", b"MZ\x90"),
    ]
    with pytest.raises(ValidationError) as exc:
        services.card_apply(user=cw.student, data=apply_data(TODAY, uploads=bad_type), now=NOW)
    assert exc.value.message_dict == {"degree": ["学历学位证书：只接受 PDF、JPG 或 PNG 文件"]}
    big = [
        *uploads("contract", "employer_form"),
        materials.Upload("degree", "d.png", PNG + b"0" * (5 * 1024 * 1024)),
    ]
    with pytest.raises(ValidationError) as exc:
        services.card_apply(user=cw.student, data=apply_data(TODAY, uploads=big), now=NOW)
    assert exc.value.message_dict == {"degree": ["学历学位证书：文件不能超过 5 MB"]}
    with pytest.raises(ValidationError) as exc:
        services.card_apply(
            user=cw.student, data=apply_data(TODAY, uploads=uploads("contract")), now=NOW
        )
    assert exc.value.message_dict == {
        "employer_form": ["请上传用人单位盖章申请表"],
        "degree": ["请上传学历学位证书"],
    }
    cw.talent.educations.update(is_double_first_class=False, level="bachelor")
    with pytest.raises(ValidationError) as exc:
        services.card_apply(user=cw.student, data=apply_data(TODAY), now=NOW)
    assert exc.value.message_dict == {"requested_tier": ["你的学历或资格不符合该类别的条件"]}
    assert (Card.objects.count(), AuditLog.objects.count(), OutboxMessage.objects.count()) == counts
    # C is open to her; and a second application while one is in progress is refused.
    services.card_apply(user=cw.student, data=apply_data(TODAY, requested_tier="C"), now=NOW)
    with pytest.raises(ApplicationError, match="已有一张办理中或有效"):
        services.card_apply(user=cw.student, data=apply_data(TODAY, requested_tier="C"), now=NOW)
    assert Card.objects.count() == 1


def test_the_periodic_commands_run_the_jobs(cw: CardWorld) -> None:
    from io import StringIO

    from django.core.management import call_command

    card = issued(cw)
    Card.objects.filter(pk=card.pk).update(valid_until=dt.date(2020, 1, 1))
    out = StringIO()
    call_command("suspend_unreported_cards", stdout=out)
    call_command("expire_cards", stdout=out)
    assert out.getvalue() == "suspended cards: 0\nexpired cards: 1\n"
    card.refresh_from_db()
    assert card.state == "expired"
