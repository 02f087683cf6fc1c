"""Writes a realistic graduate survey .xlsx: a merged title row, the header spellings real
files use, Chinese names, Heshan ID numbers with valid check digits, real universities and
majors from qinghe/reference/data/, Excel date serials, and about 2% bad rows (wrong check
digit, missing name, invalid phone, graduation before enrolment), plus ~1% repeated people.

    .venv/bin/python bench/make_survey.py --rows 100000 --out var/bench/survey-100000.xlsx

Also used by ``seed_demo`` (qinghe/talents/demo.py) for the demo data set.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import random
import sys
from pathlib import Path

import xlsxwriter
from stdnum.cn import ric

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "qinghe" / "reference" / "data"

HEADER = [
    "序号",
    "学生姓名",
    "性别",
    "身份证号码",
    "联系电话",
    "毕业院校",
    "所学专业",
    "学历层次",
    "入学时间",
    "毕业时间",
    "毕业去向",
    "单位名称",
    "单位所在地",
    "户口所在地",
    "备注",
    "辅导员",
]

SURNAMES = "李陈黄张梁林刘吴罗何郑杨谢冯区温邓麦钟周伍叶曾余胡朱苏卢许关徐谭简吕源植"
GIVEN = (
    "志伟嘉欣俊杰宇轩子涵梓晴浩然诗婷家豪晓彤文静思颖海燕国强丽华建明美玲永康雅琪嘉怡锦鹏泽楷炜乐"
)
# Prefixes that phonenumbers accepts as mainland mobiles.
PHONE_PREFIXES = [
    *(str(p) for p in range(130, 140)),
    *(str(p) for p in (150, 151, 152, 153, 155, 156, 157, 158, 159)),
    *(str(p) for p in range(180, 190)),
    "166",
    "176",
    "177",
    "198",
    "199",
]
HESHAN_PLACES = [
    "广东省鹤山市沙坪街道",
    "广东省鹤山市龙口镇",
    "广东省鹤山市雅瑶镇",
    "广东省鹤山市古劳镇",
    "广东省鹤山市桃源镇",
    "广东省鹤山市共和镇",
    "广东省鹤山市址山镇",
    "广东省鹤山市宅梧镇",
    "广东省鹤山市双合镇",
    "广东省鹤山市鹤城镇",
    "广东省鹤山市云乡镇",
]
REGIONS = [
    ("广东省江门市鹤山市", 30),
    ("广东省江门市蓬江区", 10),
    ("广东省江门市新会区", 5),
    ("广东省广州市天河区", 20),
    ("广东省深圳市南山区", 15),
    ("广东省佛山市顺德区", 12),
    ("广东省东莞市", 5),
    ("上海市浦东新区", 3),
]
EMPLOYERS = [
    "鹤山市人民医院",
    "广东雅图仕印刷有限公司",
    "鹤山市沙坪中学",
    "广州市天河区某科技有限公司",
    "深圳市腾讯计算机系统有限公司",
    "美的集团股份有限公司",
    "江门市蓬江区人民政府",
    "佛山市顺德区某电器有限公司",
    "东莞市某电子有限公司",
    "鹤山市共和镇人民政府",
]
DESTINATIONS = [
    ("签就业协议形式就业", 30),
    ("签劳动合同形式就业", 20),
    ("灵活就业", 8),
    ("自主创业", 2),
    ("升学", 15),
    ("出国、出境", 3),
    ("待就业", 12),
    ("不就业拟升学", 5),
    ("其他暂不就业", 5),
]
# Mostly recent graduates, and students who graduate in the next three years (the skills-gap
# analysis looks at those).
GRADUATION_YEARS = [2023, 2024, 2025, 2025, 2025, 2026, 2026, 2027, 2028]
LEVELS = [("本科", 60), ("专科", 30), ("硕士研究生", 9), ("博士研究生", 1)]


def load_universities() -> list[str]:
    names: list[str] = []
    guangdong: list[str] = []
    with open(DATA / "schools.tsv", encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle, delimiter="\t"):
            if row["is_abroad"] != "0":
                continue
            names.append(row["name_cn"])
            if row["province"].startswith("广东"):
                guangdong.append(row["name_cn"])
    # Most Heshan students study in Guangdong.
    return guangdong * 6 + names


def load_majors() -> list[str]:
    with open(DATA / "undergrad_2025_majors.csv", encoding="utf-8", newline="") as handle:
        majors = [row["major_name"] for row in csv.DictReader(handle)]
    return majors + ["计算机应用技术", "电子商务", "会计", "护理", "机电一体化技术"]


def weighted(rng: random.Random, pairs: list[tuple[str, int]]) -> str:
    return rng.choices([value for value, _ in pairs], weights=[weight for _, weight in pairs])[0]


def make_id(rng: random.Random, birth: dt.date, female: bool, seen: set[str]) -> str:
    while True:
        prefix = rng.choices(["440784", "440725", "440703", "440106"], weights=[85, 5, 6, 4])[0]
        sequence = rng.randrange(0, 100) * 10 + rng.choice(
            [0, 2, 4, 6, 8] if female else [1, 3, 5, 7, 9]
        )
        body = f"{prefix}{birth:%Y%m%d}{sequence:03d}"
        number = body + ric.calc_check_digit(body + "0")
        if number not in seen:  # one person per ID number
            seen.add(number)
            return number


def make_phone(rng: random.Random) -> str:
    return rng.choice(PHONE_PREFIXES) + f"{rng.randrange(0, 10**8):08d}"


def make_row(
    rng: random.Random, number: int, universities: list[str], majors: list[str], seen: set[str]
) -> list[object]:
    female = rng.random() < 0.5
    level = weighted(rng, LEVELS)
    years = {"专科": 3, "本科": 4, "硕士研究生": 3, "博士研究生": 4}[level]
    graduation = rng.choice(GRADUATION_YEARS)
    enrolment = graduation - years
    age = {"专科": 21, "本科": 22, "硕士研究生": 25, "博士研究生": 29}[level]
    birth = dt.date(graduation - age, 1, 1) + dt.timedelta(days=rng.randrange(0, 365))
    # Students who have not graduated yet have no destination in the survey.
    destination = weighted(rng, DESTINATIONS) if graduation <= 2025 else ""
    employed = destination in {"签就业协议形式就业", "签劳动合同形式就业", "灵活就业", "自主创业"}
    employer = rng.choice(EMPLOYERS) if employed else ""
    region = weighted(rng, REGIONS) if employed else ""
    # Real files mix plain years, "2025年6月" text and date serials in the same column.
    kind = rng.random()
    if kind < 0.4:
        graduated: object = graduation
    elif kind < 0.7:
        graduated = f"{graduation}年6月"
    else:
        graduated = (dt.date(graduation, 6, 30) - dt.date(1899, 12, 30)).days
    return [
        number,
        rng.choice(SURNAMES) + "".join(rng.choices(GIVEN, k=rng.choice([1, 2, 2]))),
        "女" if female else "男",
        make_id(rng, birth, female, seen),
        make_phone(rng),
        rng.choice(universities),
        rng.choice(majors),
        level,
        f"{enrolment}-09",
        graduated,
        destination,
        employer,
        region,
        rng.choice(HESHAN_PLACES),
        "",
        rng.choice(["王老师", "陈老师", "李老师"]),
    ]


def spoil(rng: random.Random, row: list[object]) -> None:
    """One of the mistakes real files contain."""
    kind = rng.randrange(4)
    if kind == 0:
        id_number = str(row[3])
        wrong = str((int(id_number[17]) + 1) % 10) if id_number[17] != "X" else "0"
        row[3] = id_number[:17] + wrong
    elif kind == 1:
        row[1] = ""
    elif kind == 2:
        row[4] = "1234567"
    else:
        row[8] = "2026-09"
        row[9] = 2024


def generate(rows: int, out: Path, *, seed: int = 20250601) -> dict[str, int]:
    rng = random.Random(seed)
    universities = load_universities()
    majors = load_majors()
    out.parent.mkdir(parents=True, exist_ok=True)
    workbook = xlsxwriter.Workbook(str(out), {"constant_memory": True, "strings_to_numbers": False})
    sheet = workbook.add_worksheet("调查表")
    title = workbook.add_format({"bold": True, "align": "center"})
    sheet.merge_range(0, 0, 0, len(HEADER) - 1, "2025届鹤山籍毕业生就业情况调查表", title)
    for col, name in enumerate(HEADER):
        # Real files pad headers with spaces and full-width characters.
        sheet.write_string(1, col, f" {name} " if col % 3 == 0 else name)
    spoiled = repeated = 0
    previous: list[list[object]] = []
    seen: set[str] = set()
    for index in range(rows):
        if previous and rng.random() < 0.01:
            row = list(rng.choice(previous))
            row[0] = index + 1
            if rng.random() < 0.5:
                row[4] = make_phone(rng)
            repeated += 1
        else:
            row = make_row(rng, index + 1, universities, majors, seen)
            if rng.random() < 0.02:
                spoil(rng, row)
                spoiled += 1
            elif len(previous) < 1000:
                previous.append(row)
        for col, value in enumerate(row):
            if isinstance(value, int) and col != 3:
                sheet.write_number(index + 2, col, value)
            else:
                sheet.write_string(index + 2, col, str(value))
    workbook.close()
    return {"rows": rows, "spoiled": spoiled, "repeated": repeated}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--out", type=Path, default=ROOT / "var" / "bench" / "survey.xlsx")
    parser.add_argument("--seed", type=int, default=20250601)
    args = parser.parse_args(argv)
    stats = generate(args.rows, args.out, seed=args.seed)
    print(
        f"{args.out}: {stats['rows']} rows ({stats['spoiled']} spoiled, {stats['repeated']} repeated)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
