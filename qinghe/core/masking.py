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


# Patterns for scrubbing free text (log lines, error messages) of anything that looks like a
# mainland ID number or mobile phone.
ID_NUMBER_RE = re.compile(r"(?<![0-9])([1-9][0-9]{5})([0-9]{8})([0-9]{3}[0-9Xx])(?![0-9])")
ID15_RE = re.compile(r"(?<![0-9])([1-9][0-9]{5})([0-9]{5})([0-9]{4})(?![0-9])")
PHONE_RE = re.compile(r"(?<![0-9])(1[3-9][0-9])([0-9]{4})([0-9]{4})(?![0-9])")


def scrub_text(text: str) -> str:
    text = ID_NUMBER_RE.sub(lambda m: m.group(1) + "********" + m.group(3), text)
    text = PHONE_RE.sub(lambda m: m.group(1) + "****" + m.group(3), text)
    return text
