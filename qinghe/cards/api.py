"""The holder's e-card as JSON: ``GET /api/v1/card/me`` gives a fresh display token (the QR
page polls it so a screenshot goes stale)."""

from __future__ import annotations

import datetime as dt

from ninja import Router, Schema

from qinghe.core.errors import NotFound
from qinghe.core.http import AuthedRequest

from . import dependants, selectors, tiers
from .views import qr_data_uri

router = Router()


class CardMeOut(Schema):
    number: str
    tier: str
    tier_name: str
    valid_from: dt.date
    valid_until: dt.date
    token: str
    expires_at: dt.datetime
    qr: str


@router.get("/me", response=CardMeOut, url_name="card_me", summary="我的电子卡（签名令牌）")
def card_me(request: AuthedRequest) -> CardMeOut:
    shown = selectors.ecard_for_holder(viewer=request.user)
    if shown is None:
        raise NotFound("你没有有效的鹤才青年卡")
    card = shown.card
    assert card.number and card.valid_from and card.valid_until
    return CardMeOut(
        number=card.number,
        tier=card.tier,
        tier_name=tiers.scheme().tier_name(card.tier),
        valid_from=card.valid_from,
        valid_until=card.valid_until,
        token=shown.token,
        expires_at=shown.expires_at,
        qr=qr_data_uri(shown.token),
    )


class DependantOut(Schema):
    number: str
    relation: str
    relation_name: str
    tier_name: str
    valid_until: dt.date
    token: str
    expires_at: dt.datetime
    qr: str


@router.get(
    "/dependants/{dependant_id}",
    response=DependantOut,
    url_name="card_dependant",
    summary="我的家属卡电子卡（签名令牌）",
)
def card_dependant(request: AuthedRequest, dependant_id: int) -> DependantOut:
    shown = dependants.ecard_for_dependant(viewer=request.user, dependant_id=dependant_id)
    if shown is None or shown.dependant is None:
        raise NotFound("这张家属卡不在有效状态")
    dep = shown.dependant
    assert dep.number and dep.valid_until
    return DependantOut(
        number=dep.number,
        relation=dep.relation,
        relation_name=dep.get_relation_display(),
        tier_name=tiers.scheme().tier_name(shown.card.tier),
        valid_until=dep.valid_until,
        token=shown.token,
        expires_at=shown.expires_at,
        qr=qr_data_uri(shown.token),
    )
