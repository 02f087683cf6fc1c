"""Dependants' cards: an A-tier holder applies for a child's card with materials; station
review, HR approval (not the reviewer); its own number and e-card, marked as a dependant's and
verifiable like the main card (offline with PyJWT against the JWK Set, online with the
revocation check); it is suspended, reinstated, voided and expired with the main card, and its
validity follows renewals. Refusals change nothing."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from stdnum.cn import ric

from qinghe.cards import dependants, services
from qinghe.cards.materials import Upload
from qinghe.cards.models import BenefitUse, Card, DependantCard, DependantEvent
from qinghe.cards.selectors import card_check
from qinghe.core.errors import ApplicationError, NotFound, PermissionDenied
from qinghe.core.models import AuditLog
from qinghe.notifications.models import OutboxMessage

from .factories import PDF, PNG, CardWorld, apply_data
from .test_ecard import published, verify_offline

SH = ZoneInfo("Asia/Shanghai")
NOW = dt.datetime(2026, 3, 2, 10, 0, tzinfo=SH)
TODAY = NOW.date()


def id_number(birth: str, serial: str = "001") -> str:
    body = f"440784{birth}{serial}"
    return body + ric.calc_check_digit(body + "0")


CHILD_ID = id_number("20150601")
SPOUSE_ID = id_number("19980310", "022")


def dep_uploads() -> list[Upload]:
    return [
        Upload(kind="relation_proof", file_name="出生医学证明.pdf", data=PDF),
        Upload(kind="id_doc", file_name="户口簿.png", data=PNG),
    ]


def data(**overrides: Any) -> dependants.DependantData:
    d = dependants.DependantData(
        relation="child", name="李小满", id_number=CHILD_ID, uploads=dep_uploads()
    )
    for k, v in overrides.items():
        setattr(d, k, v)
    return d


def issued(cw: CardWorld, tier: str = "A") -> Card:
    card = services.card_apply(user=cw.student, data=apply_data(TODAY), now=NOW)
    card = services.card_transition(card=card, action="review", actor=cw.station_staff, now=NOW)
    return services.card_transition(card=card, action="approve", actor=cw.hr, tier=tier, now=NOW)


def approved_child(cw: CardWorld) -> DependantCard:
    dep = dependants.dependant_apply(user=cw.student, data=data(), now=NOW)
    dep = dependants.dependant_transition(
        dependant=dep, action="review", actor=cw.station_staff, now=NOW
    )
    return dependants.dependant_transition(dependant=dep, action="approve", actor=cw.hr, now=NOW)


def snapshot() -> dict[str, Any]:
    return {
        "deps": list(
            DependantCard.objects.order_by("pk").values_list(
                "state", "number", "status_serial", "valid_until"
            )
        ),
        "events": DependantEvent.objects.count(),
        "audit": AuditLog.objects.count(),
        "outbox": OutboxMessage.objects.count(),
    }


def subjects(cw: CardWorld) -> list[str]:
    rows = OutboxMessage.objects.filter(user=cw.student, channel="inbox").order_by("pk")
    return [s for s in rows.values_list("subject", flat=True) if "家属卡" in s]


def test_a_childs_card_is_applied_for_reviewed_approved_and_verified_as_a_dependants(
    cw: CardWorld,
) -> None:
    card = issued(cw)
    dep = dependants.dependant_apply(user=cw.student, data=data(), now=NOW)
    assert (dep.state, dep.card, dep.relation, dep.name) == ("submitted", card, "child", "李小满")
    assert dep.id_masked == "440784********" + CHILD_ID[-4:]
    assert sorted(dep.materials.values_list("kind", flat=True)) == ["id_doc", "relation_proof"]
    stored = DependantCard.objects.values_list("id_number", flat=True).get()
    assert stored == CHILD_ID  # decrypted for the code; the column holds ciphertext
    dep = dependants.dependant_transition(dependant=dep, action="review", actor=cw.hr, now=NOW)
    before = snapshot()
    with pytest.raises(PermissionDenied, match="初审人不能审批"):
        dependants.dependant_transition(dependant=dep, action="approve", actor=cw.hr, now=NOW)
    with pytest.raises(PermissionDenied):  # station staff do not approve
        dependants.dependant_transition(
            dependant=dep, action="approve", actor=cw.station_staff, now=NOW
        )
    assert snapshot() == before
    dep = dependants.dependant_transition(dependant=dep, action="approve", actor=cw.hr2, now=NOW)
    assert dep.state == "active"
    assert dep.number == "HD2026000002"  # the main card took 000001 from the shared counter
    assert (dep.valid_from, dep.valid_until) == (TODAY, card.valid_until)
    audit = list(
        AuditLog.objects.filter(target_type="cards.dependantcard")
        .order_by("id")
        .values_list("summary", flat=True)
    )
    assert audit == [
        f"申请家属卡（子女，主卡 {card.number}）",
        f"家属卡申请 #{dep.pk}：初审通过",
        "家属卡HD2026000002：审批发卡",
    ]
    assert subjects(cw) == ["家属卡申请已提交", "家属卡初审通过", "家属卡已发放"]

    # Its e-card: offline with another JOSE library, the dependant marked; online valid.
    # The API signs at the real time; the card is valid from 2026-03-02 for years.
    client = Client()
    client.force_login(cw.student)
    body = client.get(f"/api/v1/card/dependants/{dep.pk}").json()
    claims = verify_offline(body["token"], published(client))
    assert (claims["cn"], claims["dep"], claims["nm"], claims["tier"]) == (
        "HD2026000002",
        "child",
        "李**",
        "A",
    )
    check = card_check(token=body["token"])
    assert (check.valid, check.dependant_label, check.masked_name, check.card) == (
        True,
        "家属卡（子女）",
        "李**",
        card,
    )
    page = Client().get("/card/verify", {"t": body["token"]}).content.decode()
    assert "家属卡（子女）" in page and "有效" in page
    # A partner logs a benefit a dependant's card carries, not one it does not.
    use = services.benefit_use_log(actor=cw.partner, token=body["token"], benefit="schooling")
    assert (use.card, use.dependant, use.card_number, use.masked_name) == (
        card,
        dep,
        "HD2026000002",
        "李**",
    )
    with pytest.raises(ValidationError):
        services.benefit_use_log(actor=cw.partner, token=body["token"], benefit="transport")
    assert BenefitUse.objects.count() == 1


def test_the_dependants_card_lives_and_dies_with_the_main_card(cw: CardWorld) -> None:
    card = issued(cw)
    dep = approved_child(cw)
    pending = dependants.dependant_apply(
        user=cw.student,
        data=data(relation="spouse", name="陈思远", id_number=SPOUSE_ID),
        now=NOW,
    )
    token = dependants.ecard_for_dependant(viewer=cw.student, dependant_id=dep.pk, now=NOW)
    assert token is not None

    later = NOW + dt.timedelta(days=1)
    card = services.card_transition(card=card, action="suspend", actor=None, now=later)
    dep.refresh_from_db()
    assert dep.state == "suspended"
    stale = card_check(token=token.token, now=NOW)
    assert (stale.valid, stale.reason) == (False, "该家属卡随主卡暂停")
    assert dependants.ecard_for_dependant(viewer=cw.student, dependant_id=dep.pk, now=later) is None
    card = services.card_transition(
        card=card, action="reinstate", actor=cw.hr, reason="已补报", now=later
    )
    dep.refresh_from_db()
    assert dep.state == "active"

    # Renewal: the dependant's validity follows the main card's.
    assert card.valid_until is not None
    renew_at = dt.datetime.combine(card.valid_until - dt.timedelta(days=10), dt.time(10), tzinfo=SH)
    card = services.card_transition(
        card=card,
        action="renew",
        actor=cw.student,
        contract_end=card.valid_until.replace(year=card.valid_until.year + 2),
        now=renew_at,
    )
    dep.refresh_from_db()
    assert dep.valid_until == card.valid_until

    # A lost main card voids every dependant's card, pending ones too.
    card = services.card_transition(card=card, action="report_lost", actor=cw.student, now=renew_at)
    dep.refresh_from_db()
    pending.refresh_from_db()
    assert (dep.state, pending.state) == ("voided", "voided")
    assert subjects(cw)[-2:] == ["家属卡已作废", "家属卡已作废"]
    actions = list(
        DependantEvent.objects.filter(dependant=dep).order_by("id").values_list("action", flat=True)
    )
    assert actions == ["apply", "review", "approve", "suspend", "reinstate", "follow", "void"]


def test_the_dependants_card_expires_with_the_main_card(cw: CardWorld) -> None:
    card = issued(cw)
    dep = approved_child(cw)
    assert card.valid_until is not None
    after = dt.datetime.combine(card.valid_until + dt.timedelta(days=1), dt.time(1), tzinfo=SH)
    assert services.cards_expire(now=after) == 1
    dep.refresh_from_db()
    assert dep.state == "expired"
    assert subjects(cw)[-1] == "家属卡已到期"


def test_refusals_change_nothing(cw: CardWorld) -> None:
    with pytest.raises(ApplicationError, match="持有效的鹤才青年卡"):
        dependants.dependant_apply(user=cw.student, data=data(), now=NOW)
    card = issued(cw)
    before = snapshot()
    cases: list[tuple[dict[str, Any], dict[str, list[str]]]] = [
        ({"id_number": "440784201506010011"}, {"id_number": ["身份证号不正确"]}),
        (
            {"id_number": id_number("20060101")},
            {"id_number": ["子女家属卡面向未满 18 周岁的子女"]},
        ),
        ({"relation": "parent"}, {"relation": ["请选择与你的关系（配偶或子女）"]}),
        ({"name": " "}, {"name": ["请填写家属姓名"]}),
        (
            {"uploads": [Upload(kind="relation_proof", file_name="a.txt", data=b"hello")]},
            {
                "relation_proof": [
                    "关系证明（结婚证、出生医学证明或户口簿）：只接受 PDF、JPG 或 PNG 文件"
                ],
                "id_doc": ["请上传家属身份证明（身份证或户口簿本人页）"],
            },
        ),
    ]
    for overrides, errors in cases:
        with pytest.raises(ValidationError) as refused:
            dependants.dependant_apply(user=cw.student, data=data(**overrides), now=NOW)
        assert refused.value.message_dict == errors, overrides
    assert snapshot() == before
    dependants.dependant_apply(user=cw.student, data=data(), now=NOW)
    before = snapshot()
    with pytest.raises(ApplicationError, match="已有办理中或有效的家属卡"):
        dependants.dependant_apply(user=cw.student, data=data(), now=NOW)
    dependants.dependant_apply(
        user=cw.student, data=data(relation="spouse", name="陈思远", id_number=SPOUSE_ID), now=NOW
    )
    before = snapshot()
    with pytest.raises(ApplicationError, match="配偶的家属卡只能办理一张"):
        dependants.dependant_apply(
            user=cw.student,
            data=data(relation="spouse", name="陈二", id_number=id_number("19970101", "033")),
            now=NOW,
        )
    assert snapshot() == before
    # Another holder's dependant's card is out of reach.
    with pytest.raises(NotFound):
        dependants.dependant_get_for_holder(viewer=cw.partner, dependant_id=card.pk)


def test_a_tier_without_dependants_cards_refuses(cw: CardWorld) -> None:
    issued(cw, tier="B")
    before = snapshot()
    with pytest.raises(ApplicationError, match="不含家属卡"):
        dependants.dependant_apply(user=cw.student, data=data(), now=NOW)
    assert snapshot() == before


def test_the_pages(cw: CardWorld) -> None:
    issued(cw)
    holder, staff, hr = Client(), Client(), Client()
    holder.force_login(cw.student)
    staff.force_login(cw.station_staff)
    hr.force_login(cw.hr)
    page = holder.get("/cards/dependants/").content.decode()
    assert "申请家属卡" in page and "配偶" in page and "子女" in page
    response = holder.post(
        "/cards/dependants/",
        {
            "relation": "child",
            "name": "李小满",
            "id_number": "123",
            "relation_proof": _file("a.pdf", PDF),
            "id_doc": _file("b.png", PNG),
        },
    )
    assert response.status_code == 200 and "身份证号不正确" in response.content.decode()
    assert DependantCard.objects.count() == 0
    response = holder.post(
        "/cards/dependants/",
        {
            "relation": "child",
            "name": "李小满",
            "id_number": CHILD_ID,
            "relation_proof": _file("a.pdf", PDF),
            "id_doc": _file("b.png", PNG),
        },
    )
    assert response.status_code == 302
    dep = DependantCard.objects.get()
    card_id = dep.card_id
    assert "待办家属卡（1）" in staff.get("/cards/manage/").content.decode()
    detail = staff.get(f"/cards/manage/{card_id}/").content.decode()
    assert "李小满" in detail and "家属卡初审通过" in detail
    material = dep.materials.get(kind="relation_proof")
    got = staff.get(f"/cards/manage/dependants/{dep.pk}/materials/{material.pk}/")
    assert got.status_code == 200 and got.content == PDF
    assert (
        staff.post(f"/cards/manage/dependants/{dep.pk}/act/", {"action": "review"}).status_code
        == 302
    )
    # The station may not approve: refused, nothing changed.
    before = snapshot()
    staff.post(f"/cards/manage/dependants/{dep.pk}/act/", {"action": "approve"})
    assert snapshot() == before
    assert (
        hr.post(f"/cards/manage/dependants/{dep.pk}/act/", {"action": "approve"}).status_code == 302
    )
    dep.refresh_from_db()
    assert dep.state == "active"
    ecard = holder.get(f"/cards/dependants/{dep.pk}/ecard/").content.decode()
    assert "家属卡（子女）" in ecard and str(dep.number) in ecard
    # Only the holder reaches it: HR staff are refused the holder's API.
    other = Client()
    other.force_login(cw.hr)
    assert other.get(f"/api/v1/card/dependants/{dep.pk}").status_code in (403, 404)
    assert holder.post(f"/cards/dependants/{dep.pk}/void/").status_code == 302
    dep.refresh_from_db()
    assert dep.state == "voided"
    assert holder.get(f"/api/v1/card/dependants/{dep.pk}").status_code == 404


def _file(name: str, content: bytes) -> Any:
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, content)
