"""Reads for the 鹤才青年卡, scoped by who asks: the holder sees their own card, station staff
the cards of their station (the centre's staff every card), HR bureau staff every card; the
online check shows only valid/invalid, tier and expiry."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from qinghe.accounts.models import User
from qinghe.core.errors import NotFound
from qinghe.core.masking import mask_name
from qinghe.core.roles import Role
from qinghe.stations.models import Station
from qinghe.talents.models import Destination, Talent
from qinghe.talents.selectors import talent_for_student

from . import tiers, tokens
from .models import BenefitUse, Card, CardEvent, DependantCard

CURRENT = ("submitted", "reviewed", "active", "suspended", "lost")


def facts_for(talent: Talent, *, qualification: bool = False) -> tiers.Facts:
    degrees = tuple(
        (level, bool(dfc))
        for level, dfc in talent.educations.exclude(level="").values_list(
            "level", "is_double_first_class"
        )
    )
    return tiers.Facts(degrees=degrees, qualification=qualification)


def station_of_staff(user: User) -> Station | None:
    if user.role != Role.STATION_STAFF or not user.organisation_id:
        return None
    return Station.objects.filter(organisation_id=user.organisation_id).first()


def card_current_for_holder(*, viewer: User) -> Card | None:
    return (
        Card.objects.filter(holder=viewer, state__in=CURRENT).order_by("-created_at").first()
        or Card.objects.filter(holder=viewer).order_by("-created_at").first()
    )


def card_list_for_staff(*, viewer: User, state: str = "") -> QuerySet[Card]:
    qs = Card.objects.select_related("station", "reviewed_by").order_by("-created_at", "-id")
    if viewer.role in (Role.HR_STAFF, Role.SYSADMIN):
        pass
    elif viewer.role == Role.STATION_STAFF:
        own = station_of_staff(viewer)
        if own is None:
            return qs.none()
        if own.kind != Station.Kind.CENTRE:
            qs = qs.filter(Q(station=own) | Q(station__isnull=True))
    else:
        return qs.none()
    if state:
        qs = qs.filter(state=state)
    return qs


def card_get_for_staff(*, viewer: User, card_id: int) -> Card:
    card = card_list_for_staff(viewer=viewer).filter(pk=card_id).first()
    if card is None:
        raise NotFound("没有这张卡")
    return card


@dataclass(frozen=True)
class ECard:
    token: str
    expires_at: dt.datetime
    card: Card
    dependant: DependantCard | None = None


def ecard_for_holder(*, viewer: User, now: dt.datetime | None = None) -> ECard | None:
    """A fresh display token for the holder's active card, or None without one."""
    now = now or timezone.now()
    card = Card.objects.filter(holder=viewer, state=Card.State.ACTIVE).first()
    if card is None or card.valid_until is None or card.valid_until < timezone.localdate(now):
        return None
    assert card.number and card.valid_from
    token, expires = tokens.sign(
        tokens.CardClaims(
            number=card.number,
            tier=card.tier,
            valid_from=card.valid_from,
            valid_until=card.valid_until,
            serial=card.status_serial,
            masked_name=mask_name(card.name),
        ),
        now=now,
    )
    return ECard(token=token, expires_at=expires, card=card)


@dataclass(frozen=True)
class CardCheck:
    valid: bool
    reason: str = ""
    tier_name: str = ""
    valid_until: dt.date | None = None
    masked_name: str = ""
    card: Card | None = None
    # A dependant's card: the card shown (``card`` is then the main card) and its mark.
    dependant: DependantCard | None = None
    dependant_label: str = ""


def card_check(*, token: str, now: dt.datetime | None = None) -> CardCheck:
    """The online check: signature and expiry of the token, then the card's current standing
    (state, validity and status serial: a token signed before a loss, suspension or change
    is refused)."""
    now = now or timezone.now()
    try:
        claims = tokens.read(token, now=now)
    except tokens.BadToken as exc:
        return CardCheck(valid=False, reason=str(exc))
    if claims.dependant:
        return _dependant_check(claims, now)
    card = Card.objects.filter(number=claims.number).first()
    if card is None:
        return CardCheck(valid=False, reason="卡号不存在或已补办新卡")
    if card.state != Card.State.ACTIVE:
        return CardCheck(valid=False, reason=f"该卡{card.get_state_display()}")
    if card.status_serial != claims.serial:
        return CardCheck(valid=False, reason="该电子卡已失效（卡的状态已变更），请持卡人刷新")
    if card.valid_until is None or card.valid_until < timezone.localdate(now):
        return CardCheck(valid=False, reason="该卡已过有效期")
    return CardCheck(
        valid=True,
        tier_name=tiers.scheme().tier_name(card.tier),
        valid_until=card.valid_until,
        masked_name=mask_name(card.name),
        card=card,
    )


def _dependant_check(claims: tokens.CardClaims, now: dt.datetime) -> CardCheck:
    dep = (
        DependantCard.objects.filter(number=claims.number, relation=claims.dependant)
        .select_related("card")
        .first()
    )
    if dep is None:
        return CardCheck(valid=False, reason="家属卡卡号不存在")
    main = dep.card
    if dep.state != DependantCard.State.ACTIVE:
        return CardCheck(valid=False, reason=f"该家属卡{dep.get_state_display()}")
    if main.state != Card.State.ACTIVE:
        return CardCheck(valid=False, reason=f"持卡人的主卡{main.get_state_display()}")
    if dep.status_serial != claims.serial:
        return CardCheck(valid=False, reason="该电子卡已失效（卡的状态已变更），请持卡人刷新")
    if dep.valid_until is None or dep.valid_until < timezone.localdate(now):
        return CardCheck(valid=False, reason="该卡已过有效期")
    return CardCheck(
        valid=True,
        tier_name=tiers.scheme().tier_name(main.tier),
        valid_until=dep.valid_until,
        masked_name=mask_name(dep.name),
        card=main,
        dependant=dep,
        dependant_label=f"家属卡（{dep.get_relation_display()}）",
    )


def benefit_history_for_holder(*, viewer: User) -> QuerySet[BenefitUse]:
    return BenefitUse.objects.filter(card__holder=viewer).select_related("partner")


def benefit_uses_for_partner(*, viewer: User) -> QuerySet[BenefitUse]:
    if viewer.role != Role.PARTNER or not viewer.organisation_id:
        return BenefitUse.objects.none()
    return BenefitUse.objects.filter(partner_id=viewer.organisation_id)


# ---- the plan's counts ------------------------------------------------------------------------


def card_counts(*, year: int) -> dict[str, Any]:
    """The plan's card figures in three queries: cards by tier and state now; cards issued,
    renewed, reissued, reported lost and suspended in the year (from the card events); benefits
    used in the year by benefit."""
    scheme = tiers.scheme()
    states = dict(Card.State.choices)
    by_tier: dict[str, dict[str, int]] = {}
    for row in (
        Card.objects.values("tier", "state").annotate(n=Count("id")).order_by("tier", "state")
    ):
        label = scheme.tier_name(row["tier"]) if row["tier"] else "审核中"
        by_tier.setdefault(label, {})[str(states[row["state"]])] = row["n"]
    moves = CardEvent.objects.filter(at__year=year).aggregate(
        issued=Count("id", filter=Q(action="approve")),
        renewed=Count("id", filter=Q(action="renew")),
        reissued=Count("id", filter=Q(action="reissue")),
        lost=Count("id", filter=Q(action="report_lost")),
        suspended=Count("id", filter=Q(action="suspend")),
    )
    by_benefit = {
        scheme.benefit_name(r["benefit"]): r["n"]
        for r in BenefitUse.objects.filter(used_at__year=year)
        .values("benefit")
        .annotate(n=Count("id"))
        .order_by("benefit")
    }
    return {
        "by_tier": by_tier,
        **moves,
        "benefits_used": sum(by_benefit.values()),
        "benefits_by_kind": by_benefit,
    }


@dataclass(frozen=True)
class Prefill:
    name: str
    initial: dict[str, Any]
    eligible: list[tuple[tiers.Tier, tiers.Criterion]]


def card_prefill(*, viewer: User) -> Prefill | None:
    """What the platform already holds for the application form: the name, the newest
    employment and the tiers the person's degrees meet (None without a record)."""
    talent = talent_for_student(user=viewer)
    if talent is None:
        return None
    job = (
        Destination.objects.filter(talent=talent, kind=Destination.Kind.EMPLOYED)
        .order_by("-start_date", "-id")
        .first()
    )
    eligible = tiers.eligible(facts_for(talent))
    initial: dict[str, Any] = {"requested_tier": eligible[0][0].code if eligible else ""}
    if job is not None:
        initial.update(
            employer=job.employer, employer_uscc=job.employer_uscc, employer_since=job.start_date
        )
    return Prefill(name=talent.name, initial=initial, eligible=eligible)
