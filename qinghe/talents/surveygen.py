"""Writes a realistic graduate survey .xlsx: a merged title row, the header spellings real
files use, Chinese names, ID numbers with valid check digits, real universities and majors
from qinghe/reference/data/, Excel date serials, and about 2% bad rows (wrong check digit,
missing name, invalid phone, graduation before enrolment), plus ~1% repeated people.

    .venv/bin/python bench/make_survey.py --rows 100000 --out var/bench/survey-100000.xlsx

Also used by ``seed_demo`` (qinghe/talents/demo.py) for the demo data set, which is meant to
look like Heshan (data in ``data/demo/survey.json``):

- **Two populations.** ``natives``: the education bureau's survey of Heshan-born graduates
  (ID numbers from 440784 鹤山, a few from 江门's districts or elsewhere with a household
  registration in a Heshan town). ``incomers``: 外地生源 graduates who work or intern at Heshan
  employers (ID numbers and household registration from other counties), so the fairness
  report compares two real groups.
- **Degree levels the school offers** (``levels_offered``): a vocational school (高职/专科, or
  职业/专科 in its name) only 专科; a public undergraduate university 本科 and 硕士, and 博士 only
  when it is 双一流 or 985/211; an independent, private or joint-venture college only 本科.
  Adult, military and police colleges and schools of unknown type are never drawn. The rule
  is conservative: it never gives a level a school lacks, though it leaves out some it has.
- **Majors the school teaches** (``majors_for``): no school → majors list exists in the
  reference data, so each school type (理工, 师范, 医科, 财经, 农林, ...) has a curated list of
  common majors of the 2025 undergraduate catalog, and vocational schools draw real major
  names of the 2021 vocational catalog from the 专业大类 their name suggests (卫生 → 医药卫生,
  师范/幼儿 → 教育与体育, ...). Postgraduate programmes reuse the undergraduate major names.
- **Clearly synthetic people**: phones are valid mobile formats whose middle four digits are
  always 0000; names are common Cantonese surnames and given names.
"""

from __future__ import annotations

import argparse
import bisect
import csv
import datetime as dt
import itertools
import json
import random
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import xlsxwriter
from stdnum.cn import ric

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "qinghe" / "reference" / "data"
DEMO_DATA = Path(__file__).resolve().parent / "data" / "demo" / "survey.json"

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
# Mostly recent graduates, and students who graduate in the next three years (the skills-gap
# analysis looks at those).
GRADUATION_YEARS = [2023, 2024, 2025, 2025, 2025, 2026, 2026, 2027, 2028]
INCOMER_GRADUATION_YEARS = [2024, 2025, 2025, 2026, 2026, 2027]
LEVEL_CODES = {"专科": "junior", "本科": "bachelor", "硕士研究生": "master", "博士研究生": "doctor"}
YEARS = {"专科": 3, "本科": 4, "硕士研究生": 3, "博士研究生": 4}
AGE_AT_GRADUATION = {"专科": 21, "本科": 22, "硕士研究生": 25, "博士研究生": 29}
EMPLOYED = {"签就业协议形式就业", "签劳动合同形式就业", "灵活就业", "自主创业"}
POPULATIONS = ("natives", "incomers")

# --- which schools offer which levels and majors ------------------------------------------------

VOCATIONAL_TYPES = frozenset({"专科", "民办(专科)", "专科（高职）", "骨干(高职)", "示范(高职)"})
PUBLIC_UNDERGRAD_TYPES = frozenset({"本科", "普通本科"})
PRIVATE_UNDERGRAD_TYPES = frozenset({"独立学院", "民办(本科)", "中外合作办学", "中外合作"})
# Adult education, military and police colleges: not where the surveyed graduates study.
EXCLUDED_NAME_WORDS = (
    "广播电视大学",
    "开放大学",
    "成人",
    "职工大学",
    "业余大学",
    "干部",
    "教育学院",
    "军",
    "警",
    "公安",
    "司法",
    "部队",
)
EXCLUDED_SCHOOL_TYPES = frozenset({"军事类", "其他", "NULL", ""})


@dataclass(frozen=True)
class School:
    name: str
    province: str
    city: str
    school_type: str  # 理工类, 高职类, ...
    education_type: str  # 本科, 专科（高职）, 独立学院, ...
    is_985_211: bool
    is_double_first_class: bool


def is_vocational(school: School) -> bool:
    return (
        school.education_type in VOCATIONAL_TYPES
        or school.school_type == "高职类"
        or "职业" in school.name
        or "专科" in school.name
    )


def levels_offered(school: School) -> frozenset[str]:
    """The levels (Education.Level values) the demo lets this school award; empty for schools
    the demo never draws."""
    if school.school_type in EXCLUDED_SCHOOL_TYPES or any(
        word in school.name for word in EXCLUDED_NAME_WORDS
    ):
        return frozenset()
    if is_vocational(school):
        return frozenset({"junior"})
    if school.education_type in PUBLIC_UNDERGRAD_TYPES:
        if school.is_double_first_class or school.is_985_211:
            return frozenset({"bachelor", "master", "doctor"})
        return frozenset({"bachelor", "master"})
    if school.education_type in PRIVATE_UNDERGRAD_TYPES:
        return frozenset({"bachelor"})
    return frozenset()


@dataclass(frozen=True)
class DemoData:
    raw: dict[str, Any]

    @property
    def undergrad(self) -> dict[str, list[str]]:
        return self.raw["undergrad_majors"]

    def vocational_categories(self, school: School) -> list[str]:
        for words, codes in self.raw["vocational_school_keywords"]:
            if any(word in school.name for word in words):
                return list(codes)
        return list(self.raw["vocational_general"])


@cache
def demo_data(path: Path = DEMO_DATA) -> DemoData:
    return DemoData(json.loads(path.read_text(encoding="utf-8")))


def majors_for(school: School, data: DemoData | None = None) -> list[str]:
    """The major names a demo student of this school may have: catalog majors for an
    undergraduate university (by school type, 综合类 when the type has no list), vocational
    major names for a vocational school."""
    data = data or demo_data()
    if is_vocational(school):
        return [
            name
            for code in data.vocational_categories(school)
            for name in data.raw["vocational_majors"][code]
        ]
    return list(data.undergrad.get(school.school_type) or data.undergrad["综合类"])


def vocational_major_category(name: str, data: DemoData | None = None) -> str | None:
    """The 专业大类 code of a demo vocational major name."""
    data = data or demo_data()
    for code, names in data.raw["vocational_majors"].items():
        if name in names:
            return str(code)
    return None


def load_schools() -> list[School]:
    dfc: set[str] = set()
    with open(DATA / "double_first_class_2022.csv", encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            dfc.add(row["ragflow_name"] or row["name"])
    schools: list[School] = []
    with open(DATA / "schools.tsv", encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle, delimiter="\t"):
            if row["is_abroad"] != "0":
                continue
            schools.append(
                School(
                    name=row["name_cn"],
                    province=row["province"],
                    city=row["city"],
                    school_type=row["school_type"].strip(),
                    education_type=row["education_type"].strip(),
                    is_985_211=row["type"] in ("1", "2"),
                    is_double_first_class=row["name_cn"] in dfc,
                )
            )
    return schools


def load_catalog_majors() -> set[str]:
    with open(DATA / "undergrad_2025_majors.csv", encoding="utf-8", newline="") as handle:
        return {row["major_name"] for row in csv.DictReader(handle)}


def load_county_codes() -> dict[str, tuple[str, str, str]]:
    """Active county codes -> (province, prefecture, name)."""
    out: dict[str, tuple[str, str, str]] = {}
    with open(DATA / "county_codes_1980_2024.csv", encoding="utf-8-sig", newline="") as handle:
        for row in csv.DictReader(handle):
            if row["状态"] == "在用":
                out[row["代码"]] = (row["一级行政区"], row["二级行政区"], row["名称"])
    return out


class Weighted:
    """``rng.choices`` with the cumulative weights computed once."""

    def __init__(self, pairs: Sequence[tuple[Any, float]]) -> None:
        if not pairs:
            raise ValueError("nothing to choose from")
        self.values = [value for value, _ in pairs]
        self.cumulative = list(itertools.accumulate(weight for _, weight in pairs))

    def pick(self, rng: random.Random) -> Any:
        point = rng.random() * self.cumulative[-1]
        return self.values[bisect.bisect_right(self.cumulative, point)]


def _school_weight(school: School) -> float:
    # Most Heshan students study in Guangdong, many in Jiangmen itself.
    if not school.province.startswith("广东"):
        return 1.0
    return 150.0 if school.city.startswith("江门") else 40.0


class Generator:
    """Everything a row needs, loaded and checked once."""

    def __init__(self, population: str = "natives") -> None:
        if population not in POPULATIONS:
            raise ValueError(f"population must be one of {POPULATIONS}")
        self.population = population
        data = demo_data()
        self.data = data
        raw = data.raw
        catalog = load_catalog_majors()
        missing = sorted({name for names in data.undergrad.values() for name in names} - catalog)
        if missing:
            raise ValueError(f"demo majors not in the undergraduate catalog: {missing}")
        schools = [s for s in load_schools() if levels_offered(s)]
        self.schools_by_level: dict[str, Weighted] = {}
        for label, code in LEVEL_CODES.items():
            pool = [(s, _school_weight(s)) for s in schools if code in levels_offered(s)]
            self.schools_by_level[label] = Weighted(pool)
        self.majors: dict[str, list[str]] = {}
        self.levels = Weighted(raw["levels"][population])
        self.surnames = Weighted(raw["surnames"])
        self.given = raw["given_names"]
        self.destinations = Weighted(raw["destinations"])
        employers = raw["employers"]
        self.cities = Weighted(raw["employer_cities"])
        self.employers = {
            city: Weighted([((name, region), weight) for name, region, weight in rows])
            for city, rows in employers.items()
        }
        counties = load_county_codes()
        spec = raw[population]
        self.title = spec["title"]
        if population == "natives":
            self.id_prefixes = Weighted(spec["id_prefixes"])
            towns = spec["hukou_towns"]
            self.hukou = lambda rng, prefix: f"广东省鹤山市{rng.choice(towns)}"
        else:
            origins = spec["origins"]
            unknown = [code for code, _ in origins if code not in counties]
            if unknown:
                raise ValueError(f"unknown county codes: {unknown}")
            self.id_prefixes = Weighted(origins)
            self.hukou = lambda rng, prefix: "".join(
                part for part in counties[prefix] if part not in ("直辖", "")
            )
        self.counsellors = raw["counsellors"]

    def majors_of(self, school: School) -> list[str]:
        majors = self.majors.get(school.name)
        if majors is None:
            majors = self.majors[school.name] = majors_for(school, self.data)
        return majors

    def name(self, rng: random.Random, female: bool) -> str:
        return self.surnames.pick(rng) + rng.choice(self.given["F" if female else "M"])

    def id_number(self, rng: random.Random, birth: dt.date, female: bool, seen: set[str]) -> str:
        while True:
            prefix = self.id_prefixes.pick(rng)
            sequence = rng.randrange(0, 100) * 10 + rng.choice(
                [0, 2, 4, 6, 8] if female else [1, 3, 5, 7, 9]
            )
            body = f"{prefix}{birth:%Y%m%d}{sequence:03d}"
            number = body + ric.calc_check_digit(body + "0")
            if number not in seen:  # one person per ID number
                seen.add(number)
                return number

    def row(self, rng: random.Random, number: int, seen: set[str]) -> list[object]:
        female = rng.random() < 0.5
        level = self.levels.pick(rng)
        school: School = self.schools_by_level[level].pick(rng)
        major = rng.choice(self.majors_of(school))
        years = YEARS[level]
        natives = self.population == "natives"
        graduation = rng.choice(GRADUATION_YEARS if natives else INCOMER_GRADUATION_YEARS)
        enrolment = graduation - years
        birth = dt.date(graduation - AGE_AT_GRADUATION[level], 1, 1) + dt.timedelta(
            days=rng.randrange(0, 365)
        )
        id_number = self.id_number(rng, birth, female, seen)
        destination = employer = region = note = ""
        if natives:
            # Students who have not graduated yet have no destination in the survey.
            destination = self.destinations.pick(rng) if graduation <= 2025 else ""
            if destination in EMPLOYED:
                employer, region = self.employers[self.cities.pick(rng)].pick(rng)
        else:
            # Graduates work at a Heshan employer; students intern at one.
            employer, region = self.employers["鹤山"].pick(rng)
            if graduation <= 2025:
                destination = rng.choice(["签劳动合同形式就业", "签就业协议形式就业"])
            else:
                note = f"在鹤实习：{employer}"
                employer = region = ""
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
            self.name(rng, female),
            "女" if female else "男",
            id_number,
            make_phone(rng),
            school.name,
            major,
            level,
            f"{enrolment}-09",
            graduated,
            destination,
            employer,
            region,
            self.hukou(rng, id_number[:6]),
            note,
            rng.choice(self.counsellors),
        ]


def make_phone(rng: random.Random) -> str:
    """A valid mobile format, visibly synthetic: the middle four digits are 0000."""
    return rng.choice(PHONE_PREFIXES) + "0000" + f"{rng.randrange(0, 10**4):04d}"


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


def generate(
    rows: int, out: Path, *, seed: int = 20250601, population: str = "natives"
) -> dict[str, int]:
    rng = random.Random(seed)
    generator = Generator(population)
    out.parent.mkdir(parents=True, exist_ok=True)
    workbook = xlsxwriter.Workbook(str(out), {"constant_memory": True, "strings_to_numbers": False})
    # A fixed creation date: the same seed gives the same bytes (the demo keys on the digest).
    workbook.set_properties({"created": dt.datetime(2025, 6, 1)})
    sheet = workbook.add_worksheet("调查表")
    title = workbook.add_format({"bold": True, "align": "center"})
    sheet.merge_range(0, 0, 0, len(HEADER) - 1, generator.title, title)
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
            row = generator.row(rng, index + 1, seen)
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
    parser.add_argument("--population", choices=POPULATIONS, default="natives")
    args = parser.parse_args(argv)
    stats = generate(args.rows, args.out, seed=args.seed, population=args.population)
    print(
        f"{args.out}: {stats['rows']} rows ({stats['spoiled']} spoiled, {stats['repeated']} repeated)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
