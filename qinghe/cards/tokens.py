"""The e-card's signed token: a compact JWS (RFC 7515) in JWT form, signed with Ed25519
(``alg`` ``EdDSA``, RFC 8037) by joserfc, with the key's ``kid`` in the header.

The payload names the card, never the person: card number, tier, validity, the card's status
serial and a masked name; a dependant's card adds ``dep`` (its relation to the holder:
``spouse`` or ``child``). A displayed token lives ``DISPLAY_SECONDS`` (and never past the
card's validity), so a screenshot goes stale. Anyone verifies it offline against the JWK Set
published at ``/.well-known/jwks.json``; ``/card/verify`` also checks the card's current
status serial (revocation).

Keys: ``QINGHE_CARD_SIGNING_KEYS`` is a JSON list of private OKP JWKs, each with a ``kid``;
the first signs, all are published, so a new key is put first and the old one stays listed
until the tokens it signed have run out (minutes). Development and tests derive one key from
SECRET_KEY; production refuses to start without the setting (config/settings/production.py).
"""

from __future__ import annotations

import base64
import contextlib
import datetime as dt
import hashlib
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from typing import Any

from django.conf import settings
from django.utils import timezone
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet, OKPKey

ALG = "EdDSA"
ISSUER = "qinghe-heshan"
DISPLAY_SECONDS = 300


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    """joserfc warns that RFC 9864 prefers the fully specified ``Ed25519`` name; ``EdDSA`` is
    what RFC 8037 defines and what the issue and partners' libraries use today."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="EdDSA is deprecated")
        yield


def _dev_key() -> dict[str, Any]:
    """A development key derived from SECRET_KEY, the same in every process."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    seed = hashlib.sha256(b"qinghe-card-dev-key:" + settings.SECRET_KEY.encode()).digest()
    private = Ed25519PrivateKey.from_private_bytes(seed)
    raw = private.public_key().public_bytes_raw()

    def b64(b: bytes) -> str:
        return base64.urlsafe_b64encode(b).rstrip(b"=").decode()

    kid = "dev-" + hashlib.sha256(raw).hexdigest()[:12]
    return {"kty": "OKP", "crv": "Ed25519", "x": b64(raw), "d": b64(seed), "kid": kid}


def import_ed25519_jwks(raw: Any, *, what: str) -> tuple[OKPKey, ...]:
    """A JSON list of private OKP Ed25519 JWKs, each with a ``kid``, as signing keys (the
    format of QINGHE_CARD_SIGNING_KEYS and QINGHE_EVENT_SIGNING_KEYS; ``what`` names the
    setting in the error)."""
    if not isinstance(raw, list) or not raw:
        raise ValueError(f"{what} must be a non-empty JSON list of JWKs")
    keys = []
    for item in raw:
        if item.get("kty") != "OKP" or item.get("crv") != "Ed25519" or not item.get("kid"):
            raise ValueError(f"{what}: signing keys must be OKP Ed25519 JWKs with a kid")
        keys.append(
            OKPKey.import_key(
                {k: item[k] for k in ("kty", "crv", "x", "d") if k in item},
                parameters={"kid": item["kid"], "use": "sig", "alg": ALG},
            )
        )
    return tuple(keys)


@cache
def _keys(config: str) -> tuple[OKPKey, ...]:
    import json

    raw = json.loads(config) if config else [_dev_key()]
    return import_ed25519_jwks(raw, what="QINGHE_CARD_SIGNING_KEYS")


def signing_keys() -> tuple[OKPKey, ...]:
    return _keys(getattr(settings, "QINGHE_CARD_SIGNING_KEYS", "") or "")


def jwks() -> dict[str, Any]:
    """The public JWK Set: kty, crv, x, kid, use, alg of every key; never ``d``."""
    return {"keys": [key.as_dict(private=False) for key in signing_keys()]}


@dataclass(frozen=True)
class CardClaims:
    number: str
    tier: str
    valid_from: dt.date
    valid_until: dt.date
    serial: int
    masked_name: str
    # A dependant's card: its relation to the holder ("spouse" or "child"); "" for a holder's.
    dependant: str = ""


def sign(claims: CardClaims, *, now: dt.datetime | None = None) -> tuple[str, dt.datetime]:
    """A display token and its expiry: ``DISPLAY_SECONDS`` from now, never past the end of the
    card's last valid day (Asia/Shanghai)."""
    now = now or timezone.now()
    end_of_card = timezone.make_aware(
        dt.datetime.combine(claims.valid_until + dt.timedelta(days=1), dt.time.min)
    )
    expires = min(now + dt.timedelta(seconds=DISPLAY_SECONDS), end_of_card)
    key = signing_keys()[0]
    payload = {
        "iss": ISSUER,
        "cn": claims.number,
        "tier": claims.tier,
        "vf": claims.valid_from.isoformat(),
        "vu": claims.valid_until.isoformat(),
        "sn": claims.serial,
        "nm": claims.masked_name,
        **({"dep": claims.dependant} if claims.dependant else {}),
        "iat": int(now.timestamp()),
        "exp": int(expires.timestamp()),
    }
    with _quiet():
        token = jwt.encode({"alg": ALG, "kid": key.kid}, payload, key, algorithms=[ALG])
    return token, expires


class BadToken(Exception):
    """The token is not ours, was changed, or has expired (the message says which, in
    Chinese, for the verify page)."""


def read(token: str, *, now: dt.datetime | None = None) -> CardClaims:
    """Checks the signature against the published keys, the issuer and the expiry."""
    now = now or timezone.now()
    text = (token or "").strip()
    if not text or len(text) > 2000:
        raise BadToken("二维码内容无效")
    try:
        with _quiet():
            decoded = jwt.decode(text, KeySet(list(signing_keys())), algorithms=[ALG])
    except (JoseError, ValueError, KeyError, TypeError) as exc:
        raise BadToken("签名无效：不是鹤才青年卡的电子卡，或内容被改动") from exc
    if decoded.header.get("alg") != ALG:
        raise BadToken("签名无效")
    data = decoded.claims
    if data.get("iss") != ISSUER:
        raise BadToken("签名无效：签发方不符")
    exp = data.get("exp")
    if not isinstance(exp, int) or exp <= int(now.timestamp()):
        raise BadToken("电子卡二维码已过期，请持卡人刷新后重新出示")
    try:
        return CardClaims(
            number=str(data["cn"]),
            tier=str(data["tier"]),
            valid_from=dt.date.fromisoformat(str(data["vf"])),
            valid_until=dt.date.fromisoformat(str(data["vu"])),
            serial=int(data["sn"]),
            masked_name=str(data["nm"]),
            dependant=str(data.get("dep", "")),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise BadToken("二维码内容无效") from exc
