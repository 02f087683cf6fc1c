"""The one masking function family used everywhere: pages, API, exports, logs."""

from __future__ import annotations

import re


def mask_id_number(value: str | None) -> str:
    """440784199901011234 -> 440784********1234 (keeps the county prefix and last four)."""
    if not value:
        return ""
    value = value.strip()
    if len(value) <= 10:
        return "*" * len(value)
    return value[:6] + "*" * (len(value) - 10) + value[-4:]


def mask_phone(value: str | None) -> str:
    """13812345678 -> 138****5678; +8613812345678 is masked on its national part."""
    if not value:
        return ""
    digits = re.sub(r"\D", "", value)
    if digits.startswith("86") and len(digits) == 13:
        digits = digits[2:]
    if len(digits) < 7:
        return "*" * len(digits)
    return digits[:3] + "*" * (len(digits) - 7) + digits[-4:]


def mask_name(value: str | None) -> str:
    """张三 -> 张*, 欧阳娜娜 -> 欧***; Latin names keep their first letter."""
    if not value:
        return ""
    value = value.strip()
    if len(value) == 1:
        return value
    return value[0] + "*" * (len(value) - 1)


# Patterns for scrubbing free text (log lines, error messages, access logs) of anything that
# looks like a mainland ID number or mobile phone. ``\d`` also matches full-width digits.
ID_NUMBER_RE = re.compile(r"(?<!\d)([1-9１-９]\d{5})(\d{8})(\d{3}[\dXxＸｘ])(?![\dXxＸｘ])")
# The first-generation 15-digit card: region (6), birth date YYMMDD (6), sequence (3).
ID15_RE = re.compile(r"(?<!\d)([1-9１-９]\d{5})(\d{6})(\d{3})(?!\d)")
# A separator inside a phone as people and URLs write it: space, dash, "+" or %20 in a query.
_SEP = r"(?:[\s\-+]|%20)?"
# A mobile phone in any common spelling: +86 / 0086 / 86 / %2B86 in front or not, 3-4-4 digits
# with or without separators. Not preceded by a digit, except the "0" of a URL-encoded space.
PHONE_RE = re.compile(
    r"(?:(?<!\d)|(?<=%20))"
    r"(?P<cc>(?:\+|＋|%2[Bb]|00)?86" + _SEP + r")?"
    r"(?P<head>[1１][3-9３-９]\d)" + _SEP + r"(?P<mid>\d{4})" + _SEP + r"(?P<tail>\d{4})(?!\d)"
)


def scrub_text(text: str) -> str:
    text = ID_NUMBER_RE.sub(lambda m: m.group(1) + "********" + m.group(3), text)
    text = ID15_RE.sub(lambda m: m.group(1) + "******" + m.group(3), text)
    text = PHONE_RE.sub(
        lambda m: (m.group("cc") or "") + m.group("head") + "****" + m.group("tail"), text
    )
    return text
