"""ID numbers, phones and names as real files carry them: pure functions, no ORM.

Every function returns a clean value or raises ``InvalidValue`` with a reason in Chinese."""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from dataclasses import dataclass

from stdnum.cn import ric

from qinghe.accounts.phones import InvalidPhone, normalize_phone
from qinghe.core.crypto import blind_index

HESHAN_COUNTY_CODES = ("440784", "440725", "442731")
HESHAN_NAMES = ("鹤山",)
JIANGMEN_NAMES = ("江门", "蓬江", "江海", "新会", "台山", "开平", "恩平")


class InvalidValue(ValueError):
    pass


_ZERO_WIDTH = re.compile(r"[\u200b-\u200f\ufeff]")
_SPACES = re.compile(r"\s+")
_FLOAT_ID = re.compile(r"\d{15,18}\.0")
_SCIENTIFIC = re.compile(r"\d(\.\d+)?E\+?\d+")
_FLOAT_PHONE = re.compile(r"\d{11}\.0")
_HAN = re.compile(r"[\u4e00-\u9fff]")
_DIGIT = re.compile(r"\d")


def clean_text(value: object) -> str:
    """NFKC (full-width to half-width), no surrounding or doubled spaces, no zero-width marks."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = unicodedata.normalize("NFKC", str(value))
    text = _ZERO_WIDTH.sub("", text)
    return _SPACES.sub(" ", text).strip()


@dataclass(frozen=True)
class IdNumber:
    number: str
    birth_date: dt.date
    gender: str  # "M" | "F"
    converted_from_15: bool

    @property
    def prefix(self) -> str:
        return self.number[:6]

    @property
    def index(self) -> str:
        return id_index(self.number)


def id_index(number: str) -> str:
    return blind_index(number, purpose="id")


def parse_id_number(raw: object, *, today: dt.date | None = None) -> IdNumber:
    """Validates a mainland resident ID (18 digits, or a legacy 15-digit one, converted).

    The region check of python-stdnum dates county codes by birth year, which wrongly refuses
    people registered under a code that changed later (鹤山县 440725 became 440784 in 1993); we
    keep its length, format, check digit and birth-date checks and judge origin ourselves."""
    if type(raw) is str and raw.isascii() and raw.isalnum():
        text = raw.upper()  # what the cleaning below gives such a value (most of a survey's)
    else:
        text = clean_text(raw).replace(" ", "").replace("-", "").upper()
    if _FLOAT_ID.fullmatch(text):
        text = text[:-2]
    if not text:
        raise InvalidValue("身份证号为空")
    if _SCIENTIFIC.fullmatch(text):
        raise InvalidValue(
            "身份证号被 Excel 存成了科学计数法数字，后几位已丢失，请将该列设为文本后重新导出"
        )
    converted = False
    if len(text) == 15:
        if not text.isdigit():
            raise InvalidValue("15 位身份证号应全为数字")
        body = text[:6] + "19" + text[6:]
        text = body + ric.calc_check_digit(body + "0")
        converted = True
    if len(text) != 18:
        raise InvalidValue(f"身份证号应为 18 位（现为 {len(text)} 位）")
    if not text[:17].isdigit() or not (text[17].isdigit() or text[17] == "X"):
        raise InvalidValue("身份证号含有非法字符")
    if text[17] != ric.calc_check_digit(text):
        raise InvalidValue("身份证号校验位错误")
    try:
        # ric.get_birth_date's reading, without its cleaning of a number already clean.
        birth = dt.date(int(text[6:10]), int(text[10:12]), int(text[12:14]))
    except ValueError as exc:
        raise InvalidValue("身份证号中的出生日期无效") from exc
    today = today or dt.date.today()
    if birth > today or birth.year < 1900:
        raise InvalidValue("身份证号中的出生日期不合理")
    gender = "M" if int(text[16]) % 2 == 1 else "F"
    return IdNumber(number=text, birth_date=birth, gender=gender, converted_from_15=converted)


def parse_phone(raw: object) -> str:
    text = clean_text(raw)
    if _FLOAT_PHONE.fullmatch(text):
        text = text[:-2]
    try:
        return normalize_phone(text)
    except InvalidPhone as exc:
        raise InvalidValue(str(exc)) from exc


def parse_name(raw: object) -> str:
    cleaned = clean_text(raw)
    text = cleaned.replace(" ", "") if _HAN.search(cleaned) else cleaned
    if not text:
        raise InvalidValue("姓名为空")
    if len(text) > 40:
        raise InvalidValue("姓名过长")
    if _DIGIT.search(text):
        raise InvalidValue("姓名含有数字")
    return text


def is_heshan_text(text: str) -> bool:
    return any(name in text for name in HESHAN_NAMES)


def native_evidence(*, id_prefix: str, hukou_text: str, hukou_county_code: str = "") -> str:
    """Which evidence says the person is from Heshan: 'both', 'id_prefix', 'hukou' or 'none'."""
    by_id = id_prefix in HESHAN_COUNTY_CODES
    by_hukou = hukou_county_code in HESHAN_COUNTY_CODES or is_heshan_text(hukou_text)
    if by_id and by_hukou:
        return "both"
    if by_id:
        return "id_prefix"
    if by_hukou:
        return "hukou"
    return "none"


def classify_area(region_text: str) -> str:
    """'heshan', 'jiangmen' (elsewhere in 江门) or 'elsewhere'; '' when nothing is known."""
    text = clean_text(region_text)
    if not text:
        return ""
    if is_heshan_text(text):
        return "heshan"
    if any(name in text for name in JIANGMEN_NAMES):
        return "jiangmen"
    return "elsewhere"
