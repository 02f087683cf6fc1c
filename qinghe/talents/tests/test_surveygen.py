"""The synthetic survey generator behind the demo: schools award only levels they offer,
majors fit the school, people are plausible and visibly synthetic, and the same seed gives
the same file."""

from __future__ import annotations

import random
from pathlib import Path

import phonenumbers
import pytest
from stdnum.cn import ric

from qinghe.talents.identity import HESHAN_COUNTY_CODES
from qinghe.talents.surveygen import (
    Generator,
    School,
    demo_data,
    generate,
    levels_offered,
    load_catalog_majors,
    load_schools,
    majors_for,
    vocational_major_category,
)

SCHOOLS = {s.name: s for s in load_schools()}


@pytest.mark.parametrize(
    ("name", "levels"),
    [
        ("广东以色列理工学院", {"bachelor"}),  # joint venture: no 专科
        ("江门职业技术学院", {"junior"}),
        ("广东南方职业学院", {"junior"}),  # private vocational
        ("湛江幼儿师范专科学校", {"junior"}),
        ("五邑大学", {"bachelor", "master"}),
        ("华南理工大学", {"bachelor", "master", "doctor"}),  # 双一流
        ("暨南大学", {"bachelor", "master", "doctor"}),  # 211
        ("华南理工大学广州学院", {"bachelor"}),  # independent college
        ("广东白云学院", {"bachelor"}),  # private
        ("广州市广播电视大学", set()),  # adult education: never drawn
        ("广东警官学院", set()),
        ("解放军海军陆战学院", set()),
    ],
)
def test_each_school_awards_only_the_levels_it_offers(name: str, levels: set[str]) -> None:
    assert levels_offered(SCHOOLS[name]) == levels


def test_majors_follow_the_school_type() -> None:
    medical = majors_for(SCHOOLS["南方医科大学"])
    assert "临床医学" in medical and "计算机科学与技术" not in medical
    assert "汉语言文学" in majors_for(SCHOOLS["华南师范大学"])
    assert "水生动物医学" not in majors_for(SCHOOLS["广东以色列理工学院"])
    assert set(majors_for(SCHOOLS["广东江门中医药职业学院"])) == {
        "护理",
        "药学",
        "医学检验技术",
        "康复治疗技术",
    }
    general = majors_for(SCHOOLS["江门职业技术学院"])
    assert "机电一体化技术" in general and "护理" not in general


def test_every_listed_undergraduate_major_is_in_the_catalog_and_every_vocational_one_has_its_category() -> (
    None
):
    catalog = load_catalog_majors()
    data = demo_data()
    assert {n for names in data.undergrad.values() for n in names} <= catalog
    vocational = [n for names in data.raw["vocational_majors"].values() for n in names]
    assert all(vocational_major_category(n) in data.raw["vocational_majors"] for n in vocational)
    assert vocational_major_category("临床医学") is None


def test_no_drawable_school_lacks_a_major_list() -> None:
    for school in SCHOOLS.values():
        if levels_offered(school):
            assert majors_for(school), school.name


def test_every_configured_region_code_gives_a_valid_id_number() -> None:
    raw = demo_data().raw
    for code, _ in raw["natives"]["id_prefixes"] + raw["incomers"]["origins"]:
        body = f"{code}20030615123"
        assert ric.is_valid(body + ric.calc_check_digit(body + "0")), code


def _rows(population: str, n: int = 400) -> list[list[object]]:
    generator = Generator(population)
    rng = random.Random(3)
    seen: set[str] = set()
    return [generator.row(rng, i + 1, seen) for i in range(n)]


def test_natives_carry_heshan_or_jiangmen_id_numbers_and_a_heshan_household() -> None:
    rows = _rows("natives")
    prefixes = {str(r[3])[:6] for r in rows}
    assert prefixes <= {"440784", "440703", "440704", "440106", "440303"}
    assert sum(str(r[3]).startswith("440784") for r in rows) > 300
    assert all(str(r[13]).startswith("广东省鹤山市") for r in rows)


def test_incomers_come_from_elsewhere_and_work_or_intern_in_heshan() -> None:
    rows = _rows("incomers")
    assert not {str(r[3])[:6] for r in rows} & set(HESHAN_COUNTY_CODES)
    assert not any("鹤山" in str(r[13]) for r in rows)
    for row in rows:
        if row[11]:  # working: at a Heshan employer
            assert str(row[12]).startswith("广东省江门市鹤山市")
        else:  # a student interning at one
            assert str(row[14]).startswith("在鹤实习：") and "鹤山" in str(row[14])


@pytest.mark.parametrize("population", ["natives", "incomers"])
def test_people_are_plausible_and_visibly_synthetic(population: str) -> None:
    surnames = {s for s, _ in demo_data().raw["surnames"]}
    for row in _rows(population):
        id_number, phone, name = str(row[3]), str(row[4]), str(row[1])
        assert ric.is_valid(id_number)
        # The 17th digit says the gender, as on a real card.
        assert ("女" if int(id_number[16]) % 2 == 0 else "男") == row[2]
        assert phonenumbers.is_valid_number(phonenumbers.parse(phone, "CN"))
        assert phone[3:7] == "0000"
        assert name[0] in surnames and 2 <= len(name) <= 3


def test_the_same_seed_gives_the_same_file(tmp_path: Path) -> None:
    first, second = tmp_path / "a.xlsx", tmp_path / "b.xlsx"
    generate(300, first, seed=11, population="incomers")
    generate(300, second, seed=11, population="incomers")
    assert first.read_bytes() == second.read_bytes()


def test_an_unknown_school_type_falls_back_to_the_comprehensive_list() -> None:
    school = School("某某学院", "广东", "江门市", "综合", "本科", False, False)
    assert majors_for(school) == demo_data().undergrad["综合类"]
