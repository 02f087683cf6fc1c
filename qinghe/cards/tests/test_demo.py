"""seed_demo's card and station parts: the demo student holds an issued card, the stations
have their staff; running them twice adds nothing."""

from __future__ import annotations

import pytest

from qinghe.accounts.models import User
from qinghe.cards.demo import seed_cards
from qinghe.cards.models import BenefitUse, Card
from qinghe.outreach.demo import seed_outreach
from qinghe.reference.models import Town
from qinghe.stations.demo import seed_stations
from qinghe.stations.models import HealthSlot, ServiceRequest, Station

pytestmark = pytest.mark.django_db


def _state() -> tuple[object, ...]:
    return (
        sorted(Card.objects.values_list("holder__username", "state", "number", "tier")),
        BenefitUse.objects.count(),
        sorted(Station.objects.values_list("name", flat=True)),
        User.objects.filter(role="station_staff").count(),
        HealthSlot.objects.count(),
        ServiceRequest.objects.count(),
    )


def test_the_demo_student_holds_an_issued_card_and_stations_have_staff(
    personas: dict[str, User],
) -> None:
    for code, name in [
        ("440784001", "沙坪街道"),
        ("440784101", "龙口镇"),
        ("440784401", "广东省江门监狱"),
    ]:
        Town.objects.get_or_create(code=code, defaults={"name": name, "county_code": "440784"})
    seed_outreach()  # the demo student's record
    seed_stations()
    seed_cards()
    first = _state()
    cards, uses, stations, staff, slots, requests = first
    assert len(cards) == 1  # type: ignore[arg-type]
    holder, state, number, tier = cards[0]  # type: ignore[index]
    assert (holder, state, tier) == ("xuezi", "active", "B")
    assert number.startswith("HC")
    assert uses == 1
    # The service point under 沙坪街道 (the other demo points' towns are not loaded here).
    assert stations == [
        "大雁山青年创业园服务点",
        "沙坪街道人才驿站",
        "鹤山市人才服务中心",
        "龙口镇人才驿站",
    ]
    point = Station.objects.get(kind=Station.Kind.POINT)
    assert (point.parent.name if point.parent else "", point.town_id, point.is_active) == (
        "沙坪街道人才驿站",
        Town.objects.get(code="440784001").pk,
        True,
    )
    assert staff == 3  # the persona at 沙坪街道, one each at the centre and 龙口镇
    assert slots == 42 and requests == 2  # health check and policy consultation, 7 days
    card = Card.objects.get()
    # Her record names no town: the centre handles her card.
    assert card.station is not None and card.station.name == "鹤山市人才服务中心"
    assert (
        card.reviewed_by is not None and card.reviewed_by.organisation == card.station.organisation
    )
    seed_stations()
    seed_cards()
    assert _state() == first
