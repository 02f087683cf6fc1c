"""Signed check-in codes. A code names one registration of one event and is signed with the
project's secret under its own salt, so nobody can make a valid code for someone else; the QR
on the student's page carries exactly this text."""

from __future__ import annotations

import base64
import io
from dataclasses import dataclass

import qrcode
import qrcode.image.svg
from django.core import signing

SALT = "qinghe.events.checkin"
PREFIX = "QHE:"


@dataclass(frozen=True)
class CodePayload:
    registration_id: int
    event_id: int


class InvalidCode(Exception):
    pass


def make_code(*, registration_id: int, event_id: int) -> str:
    return PREFIX + signing.dumps({"r": registration_id, "e": event_id}, salt=SALT)


def read_code(code: str) -> CodePayload:
    """The registration and event a code names; InvalidCode when it was not made by us."""
    text = (code or "").strip()
    if text.startswith(PREFIX):
        text = text[len(PREFIX) :]
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
