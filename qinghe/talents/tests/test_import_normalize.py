"""The pure half of the survey import: headers, values, rows, status. No database."""

from __future__ import annotations

import datetime as dt
import random
from types import SimpleNamespace

import pytest

from qinghe.talents import normalize
from qinghe.talents.identity import InvalidValue, clean_text, parse_phone
from qinghe.talents.normalize import ParsedRow, Rejection, parse_row

from .fixtures.surveys import ID_15, ID_CHEN, ID_LI, ID_WRONG, full_width, make_id

TODAY = dt.date(2025, 9, 1)


# ---------------------------------------------------------------------------- headers


@pytest.mark.parametrize(
    ("written", "canonical"),
    [
        ("姓名", "姓名"),
        (" 学生姓名 ", "姓名"),
        ("性\u3000别", "性别"),
        ("身份证号码（必填）", "身份证号"),
        ("*公民身份号码：", "身份证号"),
        ("联系电话", "手机号"),
        ("手机号码(必填)", "手机号"),
        ("学校", "毕业院校"),
        ("就读学校", "毕业院校"),
        ("所学专业", "专业"),
        ("培养层次", "学历"),
        ("入学年月", "入学年份"),
        ("预计毕业时间", "毕业年份"),
        ("毕业去向类别", "毕业去向"),
        ("单位名称", "就业单位"),
        ("单位所在地", "就业地区"),
        ("生源地", "户籍地"),
        ("说明", "备注"),
        ("微信号", "微信"),
        ("E-mail", "邮箱"),
        ("ＱＱ号", None),
        ("辅导员", None),
    ],
)
def test_headers_are_recognised_in_the_spellings_real_files_use(
    written: str, canonical: str | None
) -> None:
    assert normalize.canonical_header(written) == canonical


def test_map_headers_keeps_unknown_columns_and_ignores_serial_numbers() -> None:
    header = normalize.map_headers(
        ["序号", "姓名", "身份证号码", "手机", "联系电话", "辅导员", None]
    )
    assert header.columns == {1: "姓名", 2: "身份证号", 3: "手机号"}
    # 联系电话 is a second phone column: kept as an unknown column, the first one wins.
    assert header.extra == ("联系电话", "辅导员")
    assert header.names == ("序号", "姓名", "身份证号码", "手机", "联系电话", "辅导员", "")


def test_the_header_row_is_the_first_with_three_recognised_names() -> None:
    rows = [
        ["2025届鹤山籍毕业生就业情况调查表", "", ""],
        ["填表单位：鹤山市教育局", "", "姓名"],
        ["序号", "学生姓名", "身份证号", "学校"],
        ["1", "陈嘉欣", ID_CHEN, "中山大学"],
    ]
    assert normalize.find_header_row(rows) == 2


def test_no_header_row_within_ten_rows_is_none() -> None:
    rows = [["说明"]] * 10 + [["姓名", "身份证号", "手机号"]]
    assert normalize.find_header_row(rows) is None


# ---------------------------------------------------------------------------- values


@pytest.mark.parametrize(
    ("value", "year"),
    [
        (2024, 2024),
        (2024.0, 2024),
        ("2024", 2024),
        ("2024年", 2024),
        ("2024届", 2024),
        ("2024-06", 2024),
        ("2024.6", 2024),
        ("２０２４年６月", 2024),
        (dt.date(2024, 6, 30), 2024),
        (dt.datetime(2024, 6, 30, 8, 0), 2024),
        (45444, 2024),  # Excel serial of 2024-06-01
        ("45444", 2024),
        (None, None),
        ("", None),
    ],
)
def test_years_are_read_from_every_form_surveys_use(value: object, year: int | None) -> None:
    assert normalize.parse_year(value, column="毕业年份") == year


@pytest.mark.parametrize("value", ["明年", "六月", 123, True])
def test_unreadable_years_name_their_column(value: object) -> None:
    with pytest.raises(InvalidValue, match="^毕业年份无法识别"):
        normalize.parse_year(value, column="毕业年份")


@pytest.mark.parametrize(
    ("text", "level"),
    [
        ("专科", "junior"),
        ("大专", "junior"),
        ("高职", "junior"),
        ("本科", "bachelor"),
        ("学士", "bachelor"),
        ("专升本", "bachelor"),
        ("硕士研究生", "master"),
        ("研究生", "master"),
        ("博士研究生", "doctor"),
        ("", ""),
        ("其他", None),
    ],
)
def test_levels(text: str, level: str | None) -> None:
    assert normalize.parse_level(text) == level


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("签就业协议形式就业", "employed"),
        ("签劳动合同形式就业", "employed"),
        ("灵活就业", "employed"),
        ("自主创业", "employed"),
        ("升学", "further_study"),
        ("考研", "further_study"),
        ("读研", "further_study"),
        ("专升本", "further_study"),
        ("出国、出境", "abroad"),
        ("待就业", "seeking"),
        ("求职中", "seeking"),
        ("未就业", "seeking"),
        ("暂不就业", "not_willing"),
        ("不就业拟升学", "not_willing"),
        ("", ""),
        ("回家考公", None),
    ],
)
def test_destinations(text: str, kind: str | None) -> None:
    assert normalize.parse_destination(text) == kind


@pytest.mark.parametrize(
    ("text", "gender"),
    [("男", "M"), ("女性", "F"), ("F", "F"), ("m", "M"), ("", ""), ("未知", None)],
)
def test_genders(text: str, gender: str | None) -> None:
    assert normalize.parse_gender(text) == gender


def test_fast_phone_parse_agrees_with_the_real_parse() -> None:
    rng = random.Random(7)
    numbers = [f"1{rng.randrange(3, 10)}{rng.randrange(10**9):09d}" for _ in range(3000)]
    numbers += [
        "16100000000",
        "17400000000",
        "17406000000",
        "14500000000",
        "1234567",
        "138 1234 5678",
    ]
    for number in numbers:
        try:
            expected: str | None = parse_phone(number)
        except InvalidValue:
            expected = None
        try:
            got: str | None = normalize.fast_parse_phone(number)
        except InvalidValue:
            got = None
        assert got == expected, number


@pytest.mark.parametrize(
    "value", ["  广东省 鹤山市\u200b ", "ＡＢＣ１２３", "abc123", 12.0, None, "中山大学"]
)
def test_fast_clean_is_clean_text(value: object) -> None:
    assert normalize.fast_clean(value) == clean_text(value)


def test_id_birth_dates_are_stdnums_reading() -> None:
    """parse_id_number reads the birth date itself (no second cleaning of the number): the
    same dates as python-stdnum, and the same refusals of impossible ones."""
    from stdnum.cn import ric
    from stdnum.exceptions import ValidationError

    from qinghe.talents.identity import parse_id_number

    births = ["19990228", "20000229", "19000229", "19990230", "20011301", "20010100", "19851231"]
    for birth in births:
        number = make_id("440784", birth, "123")
        try:
            expected: dt.date | None = ric.get_birth_date(number)
        except ValidationError:
            expected = None
        try:
            got: dt.date | None = parse_id_number(number, today=dt.date(2026, 1, 1)).birth_date
        except InvalidValue as exc:
            assert str(exc) == "身份证号中的出生日期无效"
            got = None
        assert got == expected, number
    assert [d is None for d in map(_stdnum_birth, births)] == [
        False, False, True, True, True, True, False
    ]  # fmt: skip


def _stdnum_birth(birth: str) -> dt.date | None:
    from stdnum.cn import ric
    from stdnum.exceptions import ValidationError

    try:
        return ric.get_birth_date(make_id("440784", birth, "123"))
    except ValidationError:
        return None


@pytest.mark.parametrize("raw", [" 440784199901011234 ", "４４０７８４", "44078419990101123x"])
def test_id_numbers_are_cleaned_before_parsing(raw: str) -> None:
    from qinghe.talents.identity import parse_id_number

    text = clean_text(raw).replace(" ", "").upper()
    for value in (raw, text):
        try:
            got: object = parse_id_number(value).number
        except InvalidValue as exc:
            got = str(exc)
        try:
            expected: object = parse_id_number(text).number
        except InvalidValue as exc:
            expected = str(exc)
        assert got == expected, raw


# ---------------------------------------------------------------------------- rows


def row(**values: object) -> dict[str, object]:
    base: dict[str, object] = {"姓名": "陈嘉欣", "身份证号": ID_CHEN, "手机号": "13812345678"}
    base.update(values)
    return {key: value for key, value in base.items() if value is not None}


def test_a_good_row_is_parsed_to_clean_values() -> None:
    parsed = parse_row(
        row(
            性别="女",
            毕业院校=" 中山大学 ",
            专业="计算机科学与技术",
            学历="本科",
            入学年份="2021-09",
            毕业年份=2025,
            毕业去向="签就业协议形式就业",
            就业单位="鹤山市人民医院",
            就业地区="广东省江门市鹤山市",
            户籍地="广东省鹤山市沙坪街道",
        ),
        today=TODAY,
    )
    assert isinstance(parsed, ParsedRow)
    assert (parsed.name, parsed.gender, parsed.phone) == ("陈嘉欣", "F", "13812345678")
    assert parsed.id_number is not None and parsed.id_number.number == ID_CHEN
    assert (parsed.university, parsed.level, parsed.enrolment_year, parsed.graduation_year) == (
        "中山大学",
        "bachelor",
        2021,
        2025,
    )
    assert (parsed.destination, parsed.area, parsed.warnings) == ("employed", "heshan", ())


def test_full_width_digits_are_read() -> None:
    parsed = parse_row(
        row(身份证号=full_width(ID_LI), 手机号=full_width("13922223333")), today=TODAY
    )
    assert isinstance(parsed, ParsedRow)
    assert parsed.id_number is not None and parsed.id_number.number == ID_LI
    assert parsed.phone == "13922223333"


@pytest.mark.parametrize(
    ("values", "reason"),
    [
        ({"身份证号": ID_WRONG}, "身份证号校验位错误"),
        ({"姓名": ""}, "缺少姓名"),
        ({"姓名": "张3"}, "姓名含有数字"),
        ({"身份证号": "44078420030512"}, "身份证号应为 18 位（现为 14 位）"),
        (
            {"身份证号": 4.40784200305121e17},
            "身份证号被 Excel 存成了数字，后几位已丢失，请将该列设为文本后重新导出",
        ),
        ({"身份证号": "", "手机号": ""}, "缺少身份证号和手机号，无法识别本人"),
        ({"姓名": "", "身份证号": ID_WRONG}, "缺少姓名；身份证号校验位错误"),
        # Without a usable identity a secondary error is a reason too.
        ({"身份证号": "", "手机号": "1234567"}, "手机号无效"),
        ({"身份证号": ID_WRONG, "手机号": "1234567"}, "身份证号校验位错误；手机号无效"),
        ({"姓名": "", "毕业年份": "明年"}, "缺少姓名；毕业年份无法识别（明年）"),
    ],
)
def test_rejections_give_their_reason_in_chinese(values: dict[str, object], reason: str) -> None:
    parsed = parse_row(row(**values), today=TODAY)
    assert isinstance(parsed, Rejection)
    assert parsed.reason == reason


@pytest.mark.parametrize(
    ("values", "flag", "empty"),
    [
        ({"手机号": "1234567"}, "手机号无效，未导入该项", {"phone": ""}),
        (
            {"入学年份": "2023", "毕业年份": "2021"},
            "毕业年份早于入学年份，未导入该项",
            {"enrolment_year": None, "graduation_year": None},
        ),
        ({"毕业年份": "明年"}, "毕业年份无法识别（明年），未导入该项", {"graduation_year": None}),
        ({"毕业年份": 1890}, "毕业年份无法识别（1890），未导入该项", {"graduation_year": None}),
        ({"入学年份": "2040"}, "入学年份不合理（2040），未导入该项", {"enrolment_year": None}),
    ],
)
def test_a_valid_identity_with_a_wrong_secondary_field_is_kept_and_flagged(
    values: dict[str, object], flag: str, empty: dict[str, object]
) -> None:
    parsed = parse_row(row(**values), today=TODAY)

    assert isinstance(parsed, ParsedRow)
    assert (parsed.name, parsed.id_number is not None, parsed.flags) == ("陈嘉欣", True, (flag,))
    assert {name: getattr(parsed, name) for name in empty} == empty


def test_the_id_number_decides_the_gender_and_the_row_says_so() -> None:
    parsed = parse_row(row(身份证号=ID_LI, 性别="女"), today=TODAY)
    assert isinstance(parsed, ParsedRow)
    assert parsed.gender == "M"
    assert parsed.warnings == ("填写的性别“女”与身份证号不一致，已按身份证号记为男",)


def test_a_15_digit_id_is_converted_and_noted() -> None:
    parsed = parse_row(row(身份证号=ID_15), today=TODAY)
    assert isinstance(parsed, ParsedRow)
    assert (
        parsed.id_number is not None
        and parsed.id_number.number == "44078419980203121" + parsed.id_number.number[-1]
    )
    assert parsed.warnings == ("15 位身份证号已转换为 18 位",)


def test_descriptive_columns_never_reject_a_row() -> None:
    parsed = parse_row(
        row(学历="其他", 毕业去向="回家考公", 性别="保密", 邮箱="not-an-email", 备注="已联系"),
        today=TODAY,
    )
    assert isinstance(parsed, ParsedRow)
    assert (parsed.level, parsed.destination, parsed.gender, parsed.email) == ("", "", "F", "")
    assert (
        parsed.note
        == "已联系；性别“保密”无法识别；学历“其他”无法识别；毕业去向“回家考公”无法识别；邮箱格式不正确，未导入"
    )


def test_a_row_with_phone_but_no_id_is_accepted() -> None:
    parsed = parse_row(row(身份证号=""), today=TODAY)
    assert isinstance(parsed, ParsedRow)
    assert parsed.id_number is None


def test_area_comes_from_the_region_or_an_employer_that_names_heshan() -> None:
    def area(region: str, employer: str) -> str:
        parsed = parse_row(row(就业地区=region, 就业单位=employer, 毕业去向="就业"), today=TODAY)
        assert isinstance(parsed, ParsedRow)
        return parsed.area

    assert area("广东省江门市新会区", "") == "jiangmen"
    assert area("", "鹤山市人民医院") == "heshan"
    assert area("", "广州某公司") == ""
    assert area("深圳市南山区", "鹤山市人民医院") == "elsewhere"


# ---------------------------------------------------------------------------- reference


def test_reference_index_matches_names_former_names_and_majors() -> None:
    index = normalize.ReferenceIndex.build(
        universities=[
            (2, "中山大学", "中山大学", "", True),
            (3, "华南理工大学", "华南理工大学", "|华南工学院|", True),
            (4, "甲大学", "甲大学", "|共用旧名|", False),
            (5, "乙大学", "乙大学", "|共用旧名|", False),
        ],
        majors=[(7, "080901", "计算机科学与技术", 70)],
        towns=[(9, "沙坪街道"), (10, "龙口镇")],
    )
    assert index.university("中山大学 ").id == 2  # type: ignore[union-attr]
    assert index.university("华南工学院").name == "华南理工大学"  # type: ignore[union-attr]
    assert index.university("共用旧名") is None
    assert index.university("火星大学") is None
    assert index.major("计算机科学与技术").category_id == 70  # type: ignore[union-attr]
    assert index.major("080901").id == 7  # type: ignore[union-attr]
    assert index.major("电子商务") is None
    assert index.town("广东省鹤山市沙坪街道") == 9
    assert index.town("鹤山市龙口") == 10
    assert index.town("江门市蓬江区") is None


# ---------------------------------------------------------------------------- status


def edu(year: int | None) -> SimpleNamespace:
    return SimpleNamespace(graduation_year=year)


def dest(kind: str, area: str = "", year: int | None = None) -> SimpleNamespace:
    return SimpleNamespace(kind=kind, area=area, year=year)


@pytest.mark.parametrize(
    ("educations", "destinations", "expected"),
    [
        ([edu(2027)], [], ("studying", False)),
        ([edu(2025)], [], ("graduating", False)),
        ([edu(2024)], [], ("graduating", False)),
        ([edu(2022)], [], ("unknown", False)),
        ([], [], ("unknown", False)),
        ([edu(2025)], [dest("employed", "heshan", 2025)], ("employed_heshan", True)),
        ([edu(2025)], [dest("employed", "jiangmen", 2025)], ("employed_jiangmen", False)),
        ([edu(2025)], [dest("employed", "", 2025)], ("employed_elsewhere", False)),
        ([edu(2025)], [dest("further_study", "", 2025)], ("further_study", False)),
        ([edu(2025)], [dest("seeking", "", 2025)], ("seeking", False)),
        # Employed after the bachelor's, now back at university for a master's.
        ([edu(2022), edu(2027)], [dest("employed", "heshan", 2022)], ("studying", False)),
        # A destination older than the latest graduation, long ago: still the best we know.
        ([edu(2020)], [dest("abroad", "", 2018)], ("abroad", False)),
        (
            [edu(2025)],
            [dest("seeking", "", 2025), dest("employed", "heshan", 2025)],
            ("employed_heshan", True),
        ),
    ],
)
def test_derive_status(educations: list, destinations: list, expected: tuple[str, bool]) -> None:
    assert normalize.derive_status(educations, destinations, TODAY) == expected


def test_make_id_gives_valid_numbers() -> None:
    parsed = parse_row(row(身份证号=make_id("440784", "20000229", "001")), today=TODAY)
    assert isinstance(parsed, ParsedRow) and parsed.id_number is not None


def test_ids_and_phones_in_free_text_are_masked_in_the_note() -> None:
    parsed = parse_row(row(备注=f"家长电话13812345678，表哥{ID_LI}"), today=TODAY)
    assert isinstance(parsed, ParsedRow)
    assert parsed.note == f"家长电话138****5678,表哥{ID_LI[:6]}********{ID_LI[-4:]}"
