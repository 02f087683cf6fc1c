"""The consent in force is the newest decision (by time, then id) per talent, purpose and
enterprise: the queryset expression and the per-talent functions agree on it."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db.models import OuterRef
from django.utils import timezone

from qinghe.accounts.models import Organisation
from qinghe.accounts.services import organisation_get_or_create
from qinghe.talents.consent import (
    consent_decisions,
    consent_granted_by_talent,
    consent_in_force,
    consent_state,
)
from qinghe.talents.models import Consent, Talent
from qinghe.talents.services import consent_record

from .factories import make_id, make_talent

pytestmark = pytest.mark.django_db

MATCHING = Consent.Purpose.MATCHING
LIAISON = Consent.Purpose.LIAISON
SHARE = Consent.Purpose.SHARE_ENTERPRISE


def decide(
    talent: Talent,
    purpose: str,
    granted: bool,
    *,
    days_ago: int,
    enterprise: Organisation | None = None,
) -> Consent:
    consent = consent_record(
        talent=talent, purpose=purpose, granted=granted, actor=None, enterprise=enterprise
    )
    at = timezone.now() - dt.timedelta(days=days_ago)
    Consent.objects.filter(pk=consent.pk).update(recorded_at=at)
    consent.refresh_from_db()
    return consent


@pytest.fixture
def people() -> dict[str, Talent]:
    return {
        "chen": make_talent(name="陈嘉欣", id_number=make_id(seq="101"), phone=None),
        "li": make_talent(name="李子豪", id_number=make_id(seq="102"), phone=None),
        "wu": make_talent(name="吴晓彤", id_number=make_id(seq="103"), phone=None),
    }


def test_the_newest_decision_by_time_wins_even_when_written_first(
    people: dict[str, Talent],
) -> None:
    chen, li, wu = people["chen"], people["li"], people["wu"]
    # Chen withdrew matching yesterday; the grant of a week ago was written after it (a
    # higher id), yet the withdrawal is the decision in force.
    decide(chen, MATCHING, False, days_ago=1)
    decide(chen, MATCHING, True, days_ago=7)
    decide(chen, LIAISON, True, days_ago=3)
    # Li granted, withdrew, granted again.
    decide(li, MATCHING, True, days_ago=9)
    decide(li, MATCHING, False, days_ago=5)
    decide(li, MATCHING, True, days_ago=2)
    # Wu never decided matching.

    annotated = dict(
        Talent.objects.annotate(ok=consent_in_force(MATCHING)).values_list("name", "ok")
    )
    assert annotated == {"陈嘉欣": False, "李子豪": True, "吴晓彤": None}
    assert list(
        Talent.objects.annotate(ok=consent_in_force(MATCHING))
        .filter(ok=True)
        .values_list("name", flat=True)
    ) == ["李子豪"]

    assert consent_state(talent=chen) == {
        "liaison": True,
        "matching": False,
        "share_enterprise": False,
    }
    assert consent_state(talent=li) == {
        "liaison": False,
        "matching": True,
        "share_enterprise": False,
    }
    assert consent_state(talent=wu) == {
        "liaison": False,
        "matching": False,
        "share_enterprise": False,
    }
    assert consent_granted_by_talent([chen.pk, li.pk, wu.pk], MATCHING, chunk=2) == {
        chen.pk: False,
        li.pk: True,
    }
    decisions = consent_decisions(talent=chen)
    assert {key: c.granted for key, c in decisions.items()} == {
        (MATCHING, None): False,
        (LIAISON, None): True,
    }


def test_sharing_is_decided_per_enterprise(people: dict[str, Talent]) -> None:
    chen = people["chen"]
    printing = organisation_get_or_create(kind="enterprise", name="鹤山市雅图仕印刷有限公司")
    appliances = organisation_get_or_create(kind="enterprise", name="鹤山市某电器有限公司")
    decide(chen, SHARE, True, days_ago=6, enterprise=printing)
    decide(chen, SHARE, True, days_ago=6, enterprise=appliances)
    decide(chen, SHARE, False, days_ago=1, enterprise=appliances)
    decide(chen, MATCHING, True, days_ago=1)

    def shared_with(org: Organisation) -> bool | None:
        return (
            Talent.objects.filter(pk=chen.pk)
            .annotate(ok=consent_in_force(SHARE, enterprise=org.pk))
            .values_list("ok", flat=True)
            .get()
        )

    assert (shared_with(printing), shared_with(appliances)) == (True, False)
    # A general purpose never counts a per-enterprise row, nor the reverse.
    assert consent_state(talent=chen)["share_enterprise"] is False
    assert (
        Talent.objects.filter(pk=chen.pk)
        .annotate(ok=consent_in_force(SHARE))
        .values_list("ok", flat=True)
        .get()
    ) is None

    # The enterprise taken from each outer row (as an application's
    # enterprise__organisation_id): here each decision row's own enterprise.
    per_row = (
        Consent.objects.filter(purpose=SHARE)
        .annotate(
            in_force=consent_in_force(
                SHARE, talent_ref="talent_id", enterprise=OuterRef("enterprise_id")
            )
        )
        .values_list("enterprise__name", "granted", "in_force")
        .order_by("enterprise__name", "recorded_at")
    )
    assert list(per_row) == [
        ("鹤山市某电器有限公司", True, False),
        ("鹤山市某电器有限公司", False, False),
        ("鹤山市雅图仕印刷有限公司", True, True),
    ]
    decisions = consent_decisions(talent=chen)
    assert {key: c.granted for key, c in decisions.items()} == {
        (SHARE, printing.pk): True,
        (SHARE, appliances.pk): False,
        (MATCHING, None): True,
    }
    assert decisions[(SHARE, printing.pk)].enterprise == printing
