"""Mobile phone numbers: one normal form (11 national digits for mainland numbers, E.164 for
others) so that look-ups and blind indexes agree whatever the user typed."""

from __future__ import annotations

import unicodedata

import phonenumbers

from qinghe.core.crypto import blind_index


class InvalidPhone(ValueError):
    pass


def normalize_phone(raw: str) -> str:
    text = unicodedata.normalize("NFKC", raw or "").strip()
    if not text:
        raise InvalidPhone("手机号为空")
    try:
        parsed = phonenumbers.parse(text, "CN")
    except phonenumbers.NumberParseException as exc:
        raise InvalidPhone(f"手机号格式不正确：{exc}") from exc
    if not phonenumbers.is_valid_number(parsed):
        raise InvalidPhone("手机号无效")
    if parsed.country_code == 86:
        if phonenumbers.number_type(parsed) not in (
            phonenumbers.PhoneNumberType.MOBILE,
            phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE,
        ):
            raise InvalidPhone("不是手机号码")
        return str(parsed.national_number)
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def phone_index(normalized: str) -> str:
    return blind_index(normalized, purpose="phone")
