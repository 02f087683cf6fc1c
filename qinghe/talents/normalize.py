"""Survey rows as the education bureau's files carry them, turned into clean values.

Pure functions and plain data, no ORM: header mapping, header-row detection, year, level,
destination and gender parsing, ``parse_row`` (one row -> ``ParsedRow`` or ``Rejection`` with
reasons in Chinese), reading an .xlsx (python-calamine, whose Rust XML parser resolves no DTD
or entity) or a .csv (UTF-8, else GB18030) from bytes into ``SurveyTable`` chunks, reference
look-ups over in-memory dicts, and ``derive_status``.

Decisions written down here because a reader of the rejected-rows file will ask:

- A row is rejected for a missing or invalid 姓名, an invalid 身份证号 (wrong length,
  characters, check digit or birth date), an invalid 手机号, neither an ID nor a phone (the
  row could not be matched to anybody), a year that cannot be read or is implausible, and a
  毕业年份 before the 入学年份. Every reason names its column; several are joined with "；".
- Descriptive columns never reject a row: a 学历, 毕业去向 or 性别 that cannot be read, or an
  invalid 邮箱, is dropped and noted (the note goes to the talent's 备注 and to the import row).
- 性别 that contradicts the ID number: the ID wins (it carries a check digit, the gender
  column does not), and the row is accepted with a note saying so.
- A 15-digit ID is converted to 18 digits (``identity.parse_id_number``) and noted.
"""

from __future__ import annotations

import csv
import datetime as dt
import functools
import io
import re
import unicodedata
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import phonenumbers
import python_calamine

from qinghe.core.masking import scrub_text
from qinghe.core.textfiles import UndecodableText, decode_text
from qinghe.reference.text import name_key

from . import xlsxhead
from .identity import (
    IdNumber,
    InvalidValue,
    classify_area,
    clean_text,
    is_heshan_text,
    parse_id_number,
    parse_name,
    parse_phone,
)

# ---------------------------------------------------------------------------- headers

NAME = "姓名"
GENDER = "性别"
ID_NUMBER = "身份证号"
PHONE = "手机号"
UNIVERSITY = "毕业院校"
MAJOR = "专业"
LEVEL = "学历"
ENROLMENT_YEAR = "入学年份"
GRADUATION_YEAR = "毕业年份"
DESTINATION = "毕业去向"
EMPLOYER = "就业单位"
REGION = "就业地区"
HUKOU = "户籍地"
REMARK = "备注"
WECHAT = "微信"
EMAIL = "邮箱"

CANONICAL_COLUMNS: tuple[str, ...] = (
    NAME,
    GENDER,
    ID_NUMBER,
    PHONE,
    UNIVERSITY,
    MAJOR,
    LEVEL,
    ENROLMENT_YEAR,
    GRADUATION_YEAR,
    DESTINATION,
    EMPLOYER,
    REGION,
    HUKOU,
    REMARK,
    WECHAT,
    EMAIL,
)

HEADER_SYNONYMS: dict[str, tuple[str, ...]] = {
    NAME: ("姓名", "学生姓名", "名字", "毕业生姓名", "考生姓名"),
    GENDER: ("性别",),
    ID_NUMBER: (
        "身份证号",
        "身份证号码",
        "证件号码",
        "公民身份号码",
        "身份证",
        "证件号",
        "身份证件号码",
        "居民身份证号码",
    ),
    PHONE: (
        "手机号",
        "手机",
        "联系电话",
        "手机号码",
        "联系方式",
        "电话",
        "电话号码",
        "本人手机",
        "移动电话",
    ),
    UNIVERSITY: (
        "毕业院校",
        "学校",
        "院校",
        "就读学校",
        "学校名称",
        "高校",
        "就读院校",
        "毕业学校",
        "院校名称",
        "所在高校",
    ),
    MAJOR: ("专业", "所学专业", "专业名称", "就读专业"),
    LEVEL: ("学历", "学历层次", "培养层次", "层次"),
    ENROLMENT_YEAR: ("入学年份", "入学时间", "入学年月", "入学日期"),
    GRADUATION_YEAR: ("毕业年份", "毕业时间", "毕业年月", "预计毕业时间", "毕业日期", "届别"),
    DESTINATION: ("毕业去向", "去向", "就业状态", "毕业去向类别", "就业情况", "去向类别"),
    EMPLOYER: ("就业单位", "单位名称", "工作单位", "就业单位名称"),
    REGION: (
        "就业地区",
        "单位所在地",
        "工作地点",
        "就业地点",
        "单位所在地区",
        "就业城市",
        "工作地区",
    ),
    HUKOU: ("户籍地", "户籍", "户口所在地", "生源地", "户籍所在地", "户籍地址"),
    REMARK: ("备注", "说明"),
    WECHAT: ("微信", "微信号"),
    EMAIL: ("邮箱", "电子邮箱", "电子邮件", "email", "邮箱地址"),
}

# Columns that carry no data of ours and are not worth reporting as unknown.
IGNORED_HEADERS = frozenset({"序号", "编号", "行号", "no"})

# Bracketed remarks in a header, e.g. 手机号（必填） or 毕业时间(年月).
_BRACKETED = re.compile(r"[(\[【〔][^)\]】〕]*[)\]】〕]")
_HEADER_NOISE = re.compile(r"[\s:：*＊※#№.．、,，;；'\"“”‘’?？!！_\-—/\\|]+")


def header_key(text: object) -> str:
    """``' 身份证号码（必填）：'`` -> ``'身份证号码'``: NFKC, no brackets, whitespace or
    punctuation, lower case (for ``E-mail``)."""
    value = unicodedata.normalize("NFKC", "" if text is None else str(text))
    value = _BRACKETED.sub("", value)
    return _HEADER_NOISE.sub("", value).lower()


_SYNONYM_INDEX: dict[str, str] = {
    header_key(variant): canonical
    for canonical, variants in HEADER_SYNONYMS.items()
    for variant in variants
}


def canonical_header(text: object) -> str | None:
    return _SYNONYM_INDEX.get(header_key(text))


@dataclass(frozen=True)
class HeaderMap:
    """Column positions of the header row: ``columns`` maps a position to its canonical name;
    ``extra`` lists the unknown columns (kept in the raw row and reported); ``names`` is the
    header row as written (cleaned), used for the rejected-rows file."""

    names: tuple[str, ...]
    columns: dict[int, str]
    extra: tuple[str, ...]

    def as_json(self) -> dict[str, Any]:
        return {"names": list(self.names), "columns": {str(k): v for k, v in self.columns.items()}}


def map_headers(cells: Sequence[object]) -> HeaderMap:
    columns: dict[int, str] = {}
    extra: list[str] = []
    names: list[str] = []
    for position, cell in enumerate(cells):
        name = clean_text(cell)
        names.append(name)
        if not name:
            continue
        canonical = canonical_header(name)
        if canonical is not None and canonical not in columns.values():
            columns[position] = canonical
        elif header_key(name) not in IGNORED_HEADERS:
            # Unknown, or a second column for a field already mapped (the first one wins).
            extra.append(name)
    return HeaderMap(names=tuple(names), columns=columns, extra=tuple(extra))


HEADER_SEARCH_ROWS = 10
HEADER_MIN_RECOGNISED = 3


def find_header_row(rows: Iterable[Sequence[object]]) -> int | None:
    """Index of the first row among the first ten with at least three recognised headers;
    rows above it are titles. None when there is none."""
    for index, row in enumerate(rows):
        if index >= HEADER_SEARCH_ROWS:
            return None
        recognised = {canonical_header(cell) for cell in row if cell not in (None, "")}
        recognised.discard(None)
        if len(recognised) >= HEADER_MIN_RECOGNISED:
            return index
    return None


def cell_text(value: object) -> str:
    """A cell as text for storage and the rejected-rows file: dates ISO, whole floats without
    ``.0``, everything else ``clean_text``."""
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float):
        # Beyond 15 digits a float has lost digits (an ID typed as a number): show it as the
        # number it now is rather than as a made-up ID.
        return str(int(value)) if value.is_integer() and abs(value) < 1e15 else repr(value)
    return clean_text(value)


def is_blank_row(cells: Sequence[object]) -> bool:
    return all(cell is None or (isinstance(cell, str) and not cell.strip()) for cell in cells)


# ---------------------------------------------------------------------------- values

_clean_memo: dict[str, str] = {}
_CLEAN_MEMO_LIMIT = 200_000


def fast_clean(value: object) -> str:
    """``identity.clean_text``, faster on what surveys repeat: plain ASCII letters and digits
    (IDs, phones) are already clean, and other strings (schools, majors, places) are
    remembered."""
    if type(value) is not str:
        return "" if value is None else clean_text(value)  # empty cells are most of a row's
    if value.isascii() and value.isalnum():
        return value
    cleaned = _clean_memo.get(value)
    if cleaned is None:
        cleaned = clean_text(value)
        if len(_clean_memo) < _CLEAN_MEMO_LIMIT:
            _clean_memo[value] = cleaned
    return cleaned


EXCEL_EPOCH = dt.date(1899, 12, 30)
_YEAR_TEXT = re.compile(r"((?:19|20)\d{2})\s*(?:年|届|级|[-/.]|$)")
_NUMBER_TEXT = re.compile(r"\d+(?:\.\d+)?")


def parse_year(value: object, *, column: str) -> int | None:
    """2024, "2024年", "2024届", "2024-06", "2024.6", a date, or an Excel date serial (45444)
    -> 2024. None for an empty cell; ``InvalidValue`` naming the column otherwise."""
    if value is None or value == "":
        return None
    if isinstance(value, dt.datetime | dt.date):
        return value.year
    if isinstance(value, bool):
        raise InvalidValue(f"{column}无法识别")
    if isinstance(value, int | float):
        number = float(value)
        if 1900 <= number < 2101:
            return int(number)
        if 20000 <= number < 80000:
            return (EXCEL_EPOCH + dt.timedelta(days=int(number))).year
        raise InvalidValue(f"{column}无法识别（{cell_text(value)}）")
    text = fast_clean(value)
    if not text:
        return None
    if _NUMBER_TEXT.fullmatch(text):
        return parse_year(float(text), column=column)
    match = _YEAR_TEXT.match(text)
    if match:
        return int(match.group(1))
    raise InvalidValue(f"{column}无法识别（{text[:20]}）")


@functools.lru_cache(maxsize=4096, typed=True)
def _parse_year_memo(value: object, column: str) -> int | None:
    """``parse_year`` for parse_row: a survey's year cells repeat a few dozen values (refusals
    are not remembered: the exception is raised again each time)."""
    return parse_year(value, column=column)


_LEVEL_RULES: tuple[tuple[tuple[str, ...], str], ...] = (
    (("博士",), "doctor"),
    (("硕士", "研究生"), "master"),
    (("专升本", "本科", "学士"), "bachelor"),
    (("专科", "大专", "高职"), "junior"),
)


def parse_level(value: object) -> str | None:
    """专科/大专/高职 -> junior, 本科/学士 -> bachelor, 硕士/研究生 -> master, 博士 -> doctor;
    '' for an empty cell, None for text that is none of these."""
    return _level_of(fast_clean(value).replace(" ", ""))


@functools.lru_cache(maxsize=4096)
def _level_of(text: str) -> str | None:
    if not text:
        return ""
    for words, level in _LEVEL_RULES:
        if any(word in text for word in words):
            return level
    return None


# Order matters: 不就业/待就业 before 就业, 拟升学 before 升学.
_DESTINATION_RULES: tuple[tuple[tuple[str, ...], str], ...] = (
    (("暂不就业", "不就业", "拟升学", "暂无意愿", "无就业意愿"), "not_willing"),
    (("待就业", "求职中", "未就业", "正在求职", "未落实"), "seeking"),
    (("出国", "出境", "留学"), "abroad"),
    (("升学", "考研", "读研", "专升本", "读博", "研究生", "第二学士"), "further_study"),
    (
        (
            "就业协议",
            "劳动合同",
            "灵活就业",
            "自主创业",
            "自由职业",
            "创业",
            "就业",
            "签约",
            "录用",
            "义务兵",
            "入伍",
            "基层项目",
            "西部计划",
            "三支一扶",
            "科研助理",
            "管理助理",
            "已工作",
            "工作",
        ),
        "employed",
    ),
)


def parse_destination(value: object) -> str | None:
    """The destination kind of a 毕业去向 text; '' for an empty cell, None when unknown."""
    return _destination_of(fast_clean(value).replace(" ", ""))


@functools.lru_cache(maxsize=4096)
def _destination_of(text: str) -> str | None:
    if not text:
        return ""
    for words, kind in _DESTINATION_RULES:
        if any(word in text for word in words):
            return kind
    return None


_GENDERS = {
    "男": "M",
    "男性": "M",
    "m": "M",
    "male": "M",
    "女": "F",
    "女性": "F",
    "f": "F",
    "female": "F",
}
GENDER_LABELS = {"M": "男", "F": "女"}


def parse_gender(value: object) -> str | None:
    """'M', 'F', '' for an empty cell, None for text that is neither."""
    text = fast_clean(value).replace(" ", "").lower()
    if not text:
        return ""
    return _GENDERS.get(text)


_MAINLAND_MOBILE = re.compile(r"1[3-9]\d{9}")


@functools.cache
def _cn_mobile_pattern() -> re.Pattern[str]:
    metadata = phonenumbers.PhoneMetadata.metadata_for_region("CN")
    pattern = metadata.mobile.national_number_pattern if metadata and metadata.mobile else None
    return re.compile(pattern or r"(?!)")  # no metadata: every number takes the real parse


def fast_parse_phone(text: str) -> str:
    """``identity.parse_phone``, quicker on the common case: plain 11 digits 1[3-9]xxxxxxxxx.

    In libphonenumber's CN metadata no number type but ``mobile`` has a pattern that such a
    number can match (fixed lines, toll-free and shared-cost numbers start 10, 2-9 or 400;
    premium numbers are 8 digits), so the number is valid exactly when the mobile pattern
    matches, and its normal form is the number itself. Anything else, including every number
    the pattern refuses, goes through the real parse, which gives the reason.
    ``test_import_normalize`` checks this against the real parse."""
    if _MAINLAND_MOBILE.fullmatch(text) and _cn_mobile_pattern().fullmatch(text):
        return text
    return parse_phone(text)


_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[A-Za-z]{2,}")


def _short(text: str, limit: int = 30) -> str:
    return text if len(text) <= limit else text[:limit] + "…"


# ---------------------------------------------------------------------------- rows


@dataclass(slots=True)
class ParsedRow:
    name: str
    gender: str  # "M" | "F" | ""
    id_number: IdNumber | None
    phone: str  # normal form, or "" when the row has none
    university: str
    major: str
    level: str  # Level value or ""
    enrolment_year: int | None
    graduation_year: int | None
    destination: str  # Destination.Kind value or ""
    employer: str
    region: str
    hukou: str
    remark: str
    wechat: str
    email: str
    warnings: tuple[str, ...] = ()
    # A secondary field (phone, year) that was wrong: left empty, the person imported anyway
    # and flagged for follow-up (the import row and the talent page show these reasons).
    flags: tuple[str, ...] = ()

    @property
    def note(self) -> str:
        """What the talent's 备注 gets from this row: the file's 备注 and our notes, with
        anything that looks like an ID number or a phone masked (备注 is stored in clear)."""
        text = "；".join(part for part in (self.remark, *self.warnings) if part)
        return scrub_text(text) if text else ""

    @property
    def area(self) -> str:
        """Where the destination is: from 就业地区, else from an employer's name that says
        鹤山 or 江门 (any other employer name says nothing about the place)."""
        if self.region:
            return classify_area(self.region)
        by_employer = classify_area(self.employer)
        return by_employer if by_employer in ("heshan", "jiangmen") else ""


@dataclass(frozen=True)
class Rejection:
    reasons: tuple[str, ...]

    @property
    def reason(self) -> str:
        return "；".join(self.reasons)


_NO_CELLS: dict[str, str] = dict.fromkeys(CANONICAL_COLUMNS, "")


def parse_row(raw: Mapping[str, object], *, today: dt.date | None = None) -> ParsedRow | Rejection:
    """One survey row, keyed by canonical column, to clean values or the reasons it is refused."""
    today = today or dt.date.today()
    reasons: list[str] = []
    warnings: list[str] = []

    # Every column, "" where the row has none: ``text`` is then the dict's own look-up.
    cleaned = _NO_CELLS | {column: fast_clean(value) for column, value in raw.items()}
    text = cleaned.__getitem__

    name = ""
    if not text(NAME):
        reasons.append("缺少姓名")
    else:
        try:
            name = parse_name(raw.get(NAME))
        except InvalidValue as exc:
            reasons.append(str(exc))

    id_number: IdNumber | None = None
    id_raw = raw.get(ID_NUMBER)
    if isinstance(id_raw, float) and abs(id_raw) >= 1e15:
        # Excel kept the ID as a number: only 15-16 significant digits survive.
        reasons.append("身份证号被 Excel 存成了数字，后几位已丢失，请将该列设为文本后重新导出")
    elif text(ID_NUMBER):
        try:
            id_number = parse_id_number(id_raw, today=today)
        except InvalidValue as exc:
            reasons.append(str(exc))
        else:
            if id_number.converted_from_15:
                warnings.append("15 位身份证号已转换为 18 位")

    # Reasons about secondary fields. With a usable identity (name and a valid ID number) the
    # row is imported with these fields left empty and flagged; without one it is rejected.
    secondary: list[str] = []

    phone = ""
    if text(PHONE):
        try:
            phone = fast_parse_phone(text(PHONE))
        except InvalidValue as exc:
            message = str(exc)
            problem = message.split("：")[0] if message.startswith("手机号") else f"手机号{message}"
            # Without an ID number the phone is the identity: a bad one is not secondary.
            (secondary if text(ID_NUMBER) else reasons).append(problem)

    if not text(ID_NUMBER) and not text(PHONE):
        reasons.append("缺少身份证号和手机号，无法识别本人")

    years: dict[str, int | None] = {}
    for column in (ENROLMENT_YEAR, GRADUATION_YEAR):
        try:
            year = _parse_year_memo(raw.get(column), column)
        except InvalidValue as exc:
            secondary.append(str(exc))
            year = None
        if year is not None:
            latest = today.year + (1 if column == ENROLMENT_YEAR else 10)
            if year < 1950 or year > latest:
                secondary.append(f"{column}不合理（{year}）")
                year = None
        years[column] = year
    enrolment_year, graduation_year = years[ENROLMENT_YEAR], years[GRADUATION_YEAR]
    if enrolment_year and graduation_year and graduation_year < enrolment_year:
        secondary.append("毕业年份早于入学年份")
        enrolment_year = graduation_year = None

    if reasons or (secondary and id_number is None):
        return Rejection(tuple(reasons + secondary))
    flags = tuple(f"{problem}，未导入该项" for problem in secondary)

    gender = parse_gender(raw.get(GENDER))
    if gender is None:
        warnings.append(f"性别“{_short(text(GENDER))}”无法识别")
        gender = ""
    if id_number is not None:
        if gender and gender != id_number.gender:
            warnings.append(
                f"填写的性别“{GENDER_LABELS[gender]}”与身份证号不一致，"
                f"已按身份证号记为{GENDER_LABELS[id_number.gender]}"
            )
        gender = id_number.gender

    level = parse_level(raw.get(LEVEL))
    if level is None:
        warnings.append(f"学历“{_short(text(LEVEL))}”无法识别")
        level = ""

    destination = parse_destination(raw.get(DESTINATION))
    if destination is None:
        warnings.append(f"毕业去向“{_short(text(DESTINATION))}”无法识别")
        destination = ""

    email = text(EMAIL).replace(" ", "")
    if email and not _EMAIL.fullmatch(email):
        warnings.append("邮箱格式不正确，未导入")
        email = ""

    return ParsedRow(
        name=name,
        gender=gender,
        id_number=id_number,
        phone=phone,
        university=text(UNIVERSITY)[:120],
        major=text(MAJOR)[:120],
        level=level,
        enrolment_year=enrolment_year,
        graduation_year=graduation_year,
        destination=destination,
        employer=text(EMPLOYER)[:200],
        region=text(REGION)[:120],
        hukou=text(HUKOU)[:200],
        remark=text(REMARK),
        wechat=text(WECHAT).replace(" ", "")[:64],
        email=email[:254],
        warnings=tuple(warnings),
        flags=flags,
    )


# ---------------------------------------------------------------------------- files


class UnreadableFile(ValueError):
    """The file cannot be read as a survey at all; the message says why, in Chinese."""


class UnreadableCells(list[Any]):
    """A row of the file that could not be read (e.g. a CSV cell over the csv module's field
    size limit): no cells, and the Chinese reason the row is rejected."""

    def __init__(self, reason: str) -> None:
        super().__init__()
        self.reason = reason


CSV_FIELD_TOO_LARGE = (
    "该行有单元格超过 {limit} KB（CSV 单元格长度上限），无法读取；请检查该行是否缺少引号或内容过长"
)


@dataclass
class SurveyTable:
    """The header and the data rows of a survey file. ``rows()`` can be called repeatedly
    (once to count, once to import); it yields (row number as in the file, cells), skipping
    blank rows."""

    kind: str
    header_row: int  # 1-based
    header: HeaderMap
    _iter_all: Callable[[], Iterator[list[Any]]]
    last_row: int | None = None  # known without reading the rows (xlsx)
    # An .xlsx worksheet read from its head first: what reads the rest (``xlsxhead``).
    whole: xlsxhead.WholeSheet | None = None

    def estimated_rows(self) -> int:
        """Data rows for the progress bar: exact for CSV; for .xlsx the rows below the header
        (blank ones included: counting them exactly would mean reading the sheet twice). The
        batch's total becomes exact when it finishes."""
        if self.last_row is not None:
            return max(self.last_row - self.header_row, 0)
        return sum(1 for _ in self.rows())

    def rows(self) -> Iterator[tuple[int, list[Any]]]:
        for index, cells in enumerate(self._iter_all()):
            row_number = index + 1
            if row_number <= self.header_row:
                continue
            if not isinstance(cells, UnreadableCells) and is_blank_row(cells):
                continue
            yield row_number, cells


NO_HEADER = (
    "未找到表头：前 10 行中没有一行包含至少 3 个可识别的列名（如 姓名、身份证号、手机号、毕业院校）"
)


def _decode_csv(data: bytes) -> str:
    try:
        return decode_text(data, what="CSV 文件")
    except UndecodableText as exc:
        raise UnreadableFile(str(exc)) from exc


def _csv_table(data: bytes) -> SurveyTable:
    text = _decode_csv(data)
    sample = text[:8192]
    try:
        dialect: Any = csv.Sniffer().sniff(sample, delimiters=",\t;")
    except csv.Error:
        dialect = csv.excel

    def iter_all() -> Iterator[list[Any]]:
        """The records; one that the csv module refuses (a field over its size limit, a NUL)
        is an ``UnreadableCells`` with the reason, and reading goes on with the next line."""
        reader = csv.reader(io.StringIO(text, newline=""), dialect)
        while True:
            try:
                cells = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                if "field larger than field limit" in str(exc):
                    reason = CSV_FIELD_TOO_LARGE.format(limit=csv.field_size_limit() // 1024)
                else:
                    reason = "该行无法按 CSV 格式读取（含有不支持的字符）"
                yield UnreadableCells(reason)
            else:
                yield cells

    head = []
    for cells in iter_all():
        head.append(cells)
        if len(head) >= HEADER_SEARCH_ROWS:
            break
    index = find_header_row(head)
    if index is None:
        raise UnreadableFile(NO_HEADER)
    return SurveyTable("csv", index + 1, map_headers(head[index]), iter_all)


def _xlsx_table(data: bytes, head_rows: int | None = None) -> SurveyTable:
    """The survey table of the first visible worksheet with a header. Given ``head_rows``,
    a worksheet longer than that is read from its head first (``xlsxhead``): the table's
    ``whole`` reads the rest."""
    head = xlsxhead.workbook_head(data, head_rows) if head_rows else None
    try:
        workbook = python_calamine.CalamineWorkbook.from_filelike(
            io.BytesIO(head.data if head is not None else data)
        )
    except Exception as exc:  # noqa: BLE001 - calamine raises its own error types
        if head is not None:
            return _xlsx_table(data)  # what the whole file gives
        raise UnreadableFile("无法读取该 .xlsx 文件，请确认文件未损坏") from exc
    for position, meta in enumerate(workbook.sheets_metadata):
        if str(meta.visible).endswith("VeryHidden") or str(meta.typ).split(".")[-1] != "WorkSheet":
            continue
        try:
            sheet = workbook.get_sheet_by_index(position)
        except Exception as exc:  # noqa: BLE001 - e.g. calamine's XmlError on a DTD entity
            if head is not None:
                return _xlsx_table(data)
            raise UnreadableFile(
                "无法读取该 .xlsx 文件的工作表（文件损坏或含有不支持的内容）"
            ) from exc
        head_of_sheet = []
        for cells in sheet.iter_rows():
            head_of_sheet.append(cells)
            if len(head_of_sheet) >= HEADER_SEARCH_ROWS:
                break
        index = find_header_row(head_of_sheet)
        if index is None:
            continue
        header = map_headers(head_of_sheet[index])
        if head is not None:
            # Any worksheet cut (this one or another: which is which is not looked up) means
            # this one's rest is read and checked.
            first, last = sheet.start, sheet.end
            assert first is not None and last is not None  # it has a header
            whole = xlsxhead.WholeSheet(
                data, position, head, list(sheet.iter_rows()), (first[1], last[1])
            )
            return SurveyTable(
                "xlsx", index + 1, header, whole.rows, head.estimated_last_row, whole
            )
        end = sheet.end
        return SurveyTable(
            "xlsx", index + 1, header, sheet.iter_rows, last_row=end[0] + 1 if end else None
        )
    if head is not None:
        return _xlsx_table(data)
    raise UnreadableFile(NO_HEADER)


def open_table(kind: str, data: bytes, head_rows: int | None = None) -> SurveyTable:
    """The survey table of an .xlsx or .csv file's content; ``UnreadableFile`` otherwise.
    ``head_rows``: see ``_xlsx_table``."""
    return _xlsx_table(data, head_rows) if kind == "xlsx" else _csv_table(data)


# ---------------------------------------------------------------------------- reference


@dataclass(frozen=True)
class UniversityRef:
    id: int
    name: str
    is_double_first_class: bool


@dataclass(frozen=True)
class MajorRef:
    id: int
    name: str
    category_id: int


_MAJOR_CODE = re.compile(r"\d{6}[TK]{0,2}")
_TRAILING_BRACKET = re.compile(r"\([^()]*\)$")


@dataclass
class ReferenceIndex:
    """Universities and majors in dicts, built once per import (the ORM-backed matchers in
    ``qinghe.reference.selectors`` cost a query per call). Same rules: a university by its
    current name (双一流 first on a tie), then by a former name that only one school had; a
    major by its code or exact name."""

    universities_by_key: dict[str, UniversityRef] = field(default_factory=dict)
    universities_by_alias: dict[str, UniversityRef | None] = field(default_factory=dict)
    majors_by_code: dict[str, MajorRef] = field(default_factory=dict)
    majors_by_name: dict[str, MajorRef] = field(default_factory=dict)
    towns: dict[str, int] = field(default_factory=dict)  # name -> Town id, Heshan only
    # Survey columns repeat the same few hundred schools and majors: remember the answers.
    _memo: dict[tuple[str, str], Any] = field(default_factory=dict, repr=False)

    @classmethod
    def build(
        cls,
        *,
        universities: Iterable[tuple[int, str, str, str, bool]],
        majors: Iterable[tuple[int, str, str, int]],
        towns: Iterable[tuple[int, str]] = (),
    ) -> ReferenceIndex:
        """``universities``: (id, name, name_key, alias_keys "|a|b|", is_dfc) ordered by
        (-is_dfc, id); ``majors``: (id, code, name, category_id) ordered by code."""
        index = cls()
        for pk, name, key, alias_keys, dfc in universities:
            ref = UniversityRef(pk, name, dfc)
            index.universities_by_key.setdefault(key, ref)
            for alias in filter(None, alias_keys.split("|")):
                # A former name two schools share identifies neither.
                index.universities_by_alias[alias] = (
                    None if alias in index.universities_by_alias else ref
                )
        for pk, code, name, category_id in majors:
            ref_m = MajorRef(pk, name, category_id)
            index.majors_by_code.setdefault(code.upper(), ref_m)
            index.majors_by_name.setdefault(re.sub(r"\s+", "", name), ref_m)
        for pk, name in towns:
            index.towns[name] = pk
        return index

    def _remember(self, kind: str, text: str, find: Any) -> Any:
        key = (kind, text)
        if key not in self._memo:
            self._memo[key] = find(text)
        return self._memo[key]

    def university(self, text: str) -> UniversityRef | None:
        return self._remember("university", text, self._university)

    def major(self, text: str) -> MajorRef | None:
        return self._remember("major", text, self._major)

    def town(self, hukou_text: str) -> int | None:
        """The Heshan town named in a 户籍地 text (鹤山市沙坪街道 -> 沙坪街道)."""
        return self._remember("town", hukou_text, self._town)

    def _university(self, text: str) -> UniversityRef | None:
        key = name_key(text)
        if not key:
            return None
        for candidate in (key, _TRAILING_BRACKET.sub("", key)):
            found = self.universities_by_key.get(candidate) or self.universities_by_alias.get(
                candidate
            )
            if found is not None:
                return found
        return None

    def _major(self, text: str) -> MajorRef | None:
        value = re.sub(r"\s+", "", unicodedata.normalize("NFKC", text or ""))
        if not value:
            return None
        if _MAJOR_CODE.fullmatch(value.upper()):
            return self.majors_by_code.get(value.upper())
        return self.majors_by_name.get(value) or self.majors_by_name.get(
            _TRAILING_BRACKET.sub("", value)
        )

    def _town(self, hukou_text: str) -> int | None:
        if not hukou_text:
            return None
        in_heshan = is_heshan_text(hukou_text)
        for name, pk in self.towns.items():
            stem = re.sub(r"(街道|镇)$", "", name)
            if name in hukou_text or (in_heshan and len(stem) >= 2 and stem in hukou_text):
                return pk
        return None


# ---------------------------------------------------------------------------- status


class EducationLike(Protocol):
    graduation_year: int | None


class DestinationLike(Protocol):
    kind: str
    area: str
    year: int | None


_KIND_STATUS = {
    "further_study": "further_study",
    "abroad": "abroad",
    "seeking": "seeking",
    "not_willing": "not_willing",
}
_AREA_STATUS = {"heshan": "employed_heshan", "jiangmen": "employed_jiangmen"}


def _destination_status(destination: DestinationLike) -> tuple[str, bool]:
    if destination.kind == "employed":
        # Employment whose place is unknown counts as "elsewhere": not known to be home.
        return _AREA_STATUS.get(
            destination.area, "employed_elsewhere"
        ), destination.area == "heshan"
    return _KIND_STATUS.get(destination.kind, "unknown"), False


def derive_status(
    educations: Sequence[EducationLike], destinations: Sequence[DestinationLike], today: dt.date
) -> tuple[str, bool]:
    """(Talent.Status value, returned_home) from what is known.

    The latest education decides while it lasts: graduating after this year -> studying. Then
    the latest destination (by year; the last given on a tie) when it is not older than the
    latest graduation. Without one: graduating in the year of graduation and the year after,
    then any older destination, else unknown."""
    graduation = max((e.graduation_year for e in educations if e.graduation_year), default=None)
    latest: DestinationLike | None = None
    for destination in destinations:
        if latest is None or (destination.year or 0) >= (latest.year or 0):
            latest = destination
    current = latest is not None and (
        graduation is None or latest.year is None or latest.year >= graduation
    )
    if graduation is not None and graduation > today.year and not current:
        return "studying", False
    if latest is not None and current:
        return _destination_status(latest)
    if graduation is not None and graduation >= today.year - 1:
        return "graduating", False
    if latest is not None:
        return _destination_status(latest)
    return "unknown", False
