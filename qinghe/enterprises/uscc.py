"""统一社会信用代码: one normal form, validated by python-stdnum (``stdnum.cn.uscc``)."""

from __future__ import annotations

import re
import unicodedata

from django.core.exceptions import ValidationError
from stdnum.cn import uscc as stdnum_uscc
from stdnum.exceptions import InvalidChecksum, InvalidFormat, InvalidLength

_NOISE = re.compile(r"[\s\-‐‑–—_·.]")


def normalise_uscc(raw: str) -> str:
    """Full-width to half-width, no spaces or dashes, upper case. Does not validate."""
    text = unicodedata.normalize("NFKC", raw or "")
    return _NOISE.sub("", text).upper()


def validate_uscc(raw: str) -> str:
    """The compact, valid code, or a ValidationError with a message in Chinese."""
    value = normalise_uscc(raw)
    if not value:
        raise ValidationError("请填写统一社会信用代码", code="required")
    try:
        return str(stdnum_uscc.validate(value))
    except InvalidLength as exc:
        raise ValidationError(
            f"统一社会信用代码应为 18 位，当前为 {len(value)} 位", code="length"
        ) from exc
    except InvalidChecksum as exc:
        raise ValidationError(
            "统一社会信用代码校验位不正确，请核对营业执照", code="checksum"
        ) from exc
    except InvalidFormat as exc:
        raise ValidationError(
            "统一社会信用代码格式不正确（前 8 位为数字，其余为数字或大写字母，不含 I、O、S、V、Z）",
            code="format",
        ) from exc


def make_uscc(body17: str) -> str:
    """A valid code from its first 17 characters (demo data and tests)."""
    return body17 + str(stdnum_uscc.calc_check_digit(body17))
