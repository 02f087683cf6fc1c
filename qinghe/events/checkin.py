"""Signed check-in codes. A code names one registration of one event and is signed with the
events' Ed25519 key (compact JWS, ``alg`` ``EdDSA``, RFC 8037, by joserfc), so nobody can make
a valid code for someone else, and a door phone holding only the public keys can verify one
while the venue's network is down (static/js/events-checkin-offline.js, WebCrypto Ed25519).
The QR on the student's page carries exactly this text: ``QHE2:<header>.<payload>.<sig>``
with the payload ``{"r": registration id, "e": event id}``.

Keys: ``QINGHE_EVENT_SIGNING_KEYS`` is a JSON list of private OKP JWKs, each with a ``kid``;
the first signs, all verify and are handed (public part only) to the door phones, so a new key
is put first and the old one stays listed until the events whose codes it signed are over.
Development and tests derive one key from SECRET_KEY; production refuses to start without the
setting (config/settings/production.py). The private key never leaves the server.

Codes of the first format (``QHE:`` + Django's HMAC signature) still check in online, so a QR
saved before the change works at the door; they cannot be verified offline.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import io
import json
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from typing import Any

import qrcode
import qrcode.image.svg
from django.conf import settings
from django.core import signing
from joserfc import jws
from joserfc.errors import JoseError
from joserfc.jwk import KeySet, OKPKey

SALT = "qinghe.events.checkin"
LEGACY_PREFIX = "QHE:"
PREFIX = "QHE2:"
ALG = "EdDSA"
MAX_CODE_LENGTH = 600


@dataclass(frozen=True)
class CodePayload:
    registration_id: int
    event_id: int


class InvalidCode(Exception):
    pass


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    """joserfc warns that RFC 9864 prefers ``Ed25519`` as the name; ``EdDSA`` is RFC 8037's."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="EdDSA is deprecated")
        yield


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _dev_key() -> dict[str, Any]:
    """A development key derived from SECRET_KEY (not the card's: its own label)."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    seed = hashlib.sha256(b"qinghe-event-checkin-dev-key:" + settings.SECRET_KEY.encode()).digest()
    public = Ed25519PrivateKey.from_private_bytes(seed).public_key().public_bytes_raw()
    kid = "ev-dev-" + hashlib.sha256(public).hexdigest()[:12]
    return {"kty": "OKP", "crv": "Ed25519", "x": _b64(public), "d": _b64(seed), "kid": kid}


@cache
def _keys(config: str) -> tuple[OKPKey, ...]:
    from qinghe.cards.tokens import import_ed25519_jwks

    raw = json.loads(config) if config else [_dev_key()]
    return import_ed25519_jwks(raw, what="QINGHE_EVENT_SIGNING_KEYS")


def signing_keys() -> tuple[OKPKey, ...]:
    return _keys(getattr(settings, "QINGHE_EVENT_SIGNING_KEYS", "") or "")


def public_jwks() -> dict[str, Any]:
    """The public keys a door phone needs: kty, crv, x, kid, use, alg; never ``d``."""
    return {"keys": [key.as_dict(private=False) for key in signing_keys()]}


def make_code(*, registration_id: int, event_id: int) -> str:
    key = signing_keys()[0]
    payload = json.dumps({"r": registration_id, "e": event_id}, separators=(",", ":"))
    with _quiet():
        token = jws.serialize_compact(
            {"alg": ALG, "kid": key.kid}, payload.encode(), key, algorithms=[ALG]
        )
    return PREFIX + token


def _payload(data: Any) -> CodePayload:
    if not isinstance(data, dict):
        raise InvalidCode("payload is not an object")
    r, e = data.get("r"), data.get("e")
    if type(r) is not int or type(e) is not int or r <= 0 or e <= 0:
        raise InvalidCode("payload ids are not positive integers")
    return CodePayload(registration_id=r, event_id=e)


def read_code(code: str) -> CodePayload:
    """The registration and event a code names; InvalidCode when it was not made by us."""
    text = (code or "").strip()
    if not text or len(text) > MAX_CODE_LENGTH:
        raise InvalidCode("empty or too long")
    if text.startswith(PREFIX):
        try:
            with _quiet():
                obj = jws.deserialize_compact(
                    text[len(PREFIX) :], KeySet(list(signing_keys())), algorithms=[ALG]
                )
            if obj.headers().get("alg") != ALG:
                raise InvalidCode("wrong algorithm")
            return _payload(json.loads(obj.payload))
        except (JoseError, ValueError, KeyError, TypeError, UnicodeDecodeError) as exc:
            raise InvalidCode(str(exc)) from exc
    if text.startswith(LEGACY_PREFIX):
        text = text[len(LEGACY_PREFIX) :]
    try:
        data = signing.loads(text, salt=SALT)
        return CodePayload(registration_id=int(data["r"]), event_id=int(data["e"]))
    except (signing.BadSignature, KeyError, TypeError, ValueError) as exc:
        raise InvalidCode(str(exc)) from exc


def qr_data_uri(text: str) -> str:
    """The code as an inline SVG image (a data URI: no request, no CDN)."""
    image = qrcode.make(text, image_factory=qrcode.image.svg.SvgPathImage, box_size=10)
    buffer = io.BytesIO()
    image.save(buffer)
    return "data:image/svg+xml;base64," + base64.b64encode(buffer.getvalue()).decode()
