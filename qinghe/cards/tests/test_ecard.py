"""The e-card's token is signed by joserfc and verified here with PyJWT, a JOSE library the
project does not sign with, against the JWK Set published at /.well-known/jwks.json: it holds
for the real token and fails for a changed payload, another key and an expired token; the
online check also refuses a revoked (lost) card."""

from __future__ import annotations

import base64
import datetime as dt
import json
from typing import Any

import jwt as pyjwt
import pytest
from django.test import Client, override_settings
from django.utils import timezone
from joserfc.jwk import OKPKey

from qinghe.cards import services, tokens
from qinghe.cards.models import Card
from qinghe.cards.selectors import card_check, ecard_for_holder

from .factories import CardWorld, issue_card


def published(client: Client) -> pyjwt.PyJWKSet:
    response = client.get("/.well-known/jwks.json")
    assert response.status_code == 200
    return pyjwt.PyJWKSet.from_dict(response.json())


def verify_offline(token: str, jwks: pyjwt.PyJWKSet) -> dict[str, Any]:
    kid = pyjwt.get_unverified_header(token)["kid"]
    key = next(k for k in jwks.keys if k.key_id == kid)
    return pyjwt.decode(token, key.key, algorithms=["EdDSA"], issuer="qinghe-heshan")


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def holder_token(cw: CardWorld) -> str:
    client = Client()
    client.force_login(cw.student)
    response = client.get("/api/v1/card/me")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["qr"].startswith("data:image/svg+xml;base64,")
    return str(body["token"])


def test_the_jwk_set_is_public_and_holds_public_ed25519_keys_only(cw: CardWorld) -> None:
    response = Client().get("/.well-known/jwks.json")
    assert response.status_code == 200
    keys = response.json()["keys"]
    assert len(keys) == 1
    assert set(keys[0]) == {"kty", "crv", "x", "kid", "use", "alg"}
    assert (keys[0]["kty"], keys[0]["crv"], keys[0]["use"], keys[0]["alg"]) == (
        "OKP",
        "Ed25519",
        "sig",
        "EdDSA",
    )
    assert len(base64.urlsafe_b64decode(keys[0]["x"] + "=")) == 32


@pytest.mark.filterwarnings("ignore:EdDSA is deprecated")
def test_another_library_verifies_the_token_against_the_published_keys(cw: CardWorld) -> None:
    card = issue_card(cw, timezone.now())
    assert isinstance(card, Card)
    token = holder_token(cw)
    header = pyjwt.get_unverified_header(token)
    assert header["alg"] == "EdDSA"
    claims = verify_offline(token, published(Client()))
    assert {k: v for k, v in claims.items() if k not in ("iat", "exp")} == {
        "iss": "qinghe-heshan",
        "cn": card.number,
        "tier": "A",
        "vf": card.valid_from.isoformat() if card.valid_from else None,
        "vu": card.valid_until.isoformat() if card.valid_until else None,
        "sn": 1,
        "nm": "李**",
    }
    assert 0 < claims["exp"] - claims["iat"] <= tokens.DISPLAY_SECONDS

    # A changed payload (another tier) with the original signature fails.
    head, payload, signature = token.split(".")
    forged = dict(json.loads(base64.urlsafe_b64decode(payload + "==")), tier="S")
    changed = ".".join([head, b64(json.dumps(forged).encode()), signature])
    with pytest.raises(pyjwt.InvalidSignatureError):
        verify_offline(changed, published(Client()))
    assert not card_check(token=changed).valid

    # Another key under the same kid fails.
    other = OKPKey.generate_key("Ed25519", parameters={"kid": header["kid"]})
    from joserfc import jwt as joserfc_jwt

    stranger = joserfc_jwt.encode(
        {"alg": "EdDSA", "kid": header["kid"]}, forged, other, algorithms=["EdDSA"]
    )
    with pytest.raises(pyjwt.InvalidSignatureError):
        verify_offline(stranger, published(Client()))
    assert card_check(token=stranger).reason == "签名无效：不是鹤才青年卡的电子卡，或内容被改动"


def test_an_expired_display_token_fails_everywhere(cw: CardWorld) -> None:
    issue_card(cw, timezone.now())
    old = ecard_for_holder(viewer=cw.student, now=timezone.now() - dt.timedelta(minutes=6))
    assert old is not None
    with pytest.raises(pyjwt.ExpiredSignatureError):
        verify_offline(old.token, published(Client()))
    check = card_check(token=old.token)
    assert (check.valid, check.reason) == (False, "电子卡二维码已过期，请持卡人刷新后重新出示")


def test_the_display_token_never_outlives_the_card(cw: CardWorld) -> None:
    card = issue_card(cw, timezone.now())
    assert isinstance(card, Card) and card.valid_until
    last_evening = timezone.make_aware(dt.datetime.combine(card.valid_until, dt.time(23, 58)))
    shown = ecard_for_holder(viewer=cw.student, now=last_evening)
    assert shown is not None
    assert shown.expires_at == last_evening.replace(hour=0, minute=0) + dt.timedelta(days=1)


def test_the_online_check_refuses_a_revoked_card_and_shows_only_validity(cw: CardWorld) -> None:
    card = issue_card(cw, timezone.now())
    assert isinstance(card, Card)
    token = holder_token(cw)
    page = Client().get("/card/verify", {"t": token})
    text = page.content.decode()
    assert page.status_code == 200
    assert "有效" in text and "A 类（高层次青年人才）" in text
    assert f"有效期至 {card.valid_until:%Y-%m-%d}" in text
    assert "李" not in text and str(card.number) not in text  # no name, no number

    services.card_transition(card=card, action="report_lost", actor=cw.student)
    # Offline the signature still holds (that is what revocation online is for) ...
    assert verify_offline(token, published(Client()))["cn"] == card.number
    # ... and online the card is refused.
    text = Client().get("/card/verify", {"t": token}).content.decode()
    assert "无效" in text and "该卡已挂失作废" in text and "A 类" not in text


def test_rotation_publishes_every_key_and_signs_with_the_first(cw: CardWorld) -> None:
    new = OKPKey.generate_key("Ed25519", parameters={"kid": "2027-01"}).as_dict(private=True)
    old = OKPKey.generate_key("Ed25519", parameters={"kid": "2026-01"}).as_dict(private=True)
    issue_card(cw, timezone.now())
    with override_settings(QINGHE_CARD_SIGNING_KEYS=json.dumps([old])):
        before = holder_token(cw)
    with override_settings(QINGHE_CARD_SIGNING_KEYS=json.dumps([new, old])):
        jwks = published(Client())
        assert [k.key_id for k in jwks.keys] == ["2027-01", "2026-01"]
        after = holder_token(cw)
        assert pyjwt.get_unverified_header(after)["kid"] == "2027-01"
        assert verify_offline(after, jwks)["sn"] == 1
        assert verify_offline(before, jwks)["sn"] == 1
        assert card_check(token=before).valid
    with override_settings(QINGHE_CARD_SIGNING_KEYS=json.dumps([new])):
        assert not card_check(token=before).valid  # the retired key is gone


def test_card_me_is_404_without_an_active_card(cw: CardWorld) -> None:
    client = Client()
    client.force_login(cw.student)
    response = client.get("/api/v1/card/me")
    assert response.status_code == 404
    assert response.json() == {"detail": "你没有有效的鹤才青年卡"}
