"""Loads the reference files in ``data/`` into the reference tables.

Every table is upserted on its natural key (a code, or code + level / code + start year) with
one ``bulk_create(update_conflicts=True)`` per batch, so the load is idempotent and fast on
SQLite and PostgreSQL alike, and rows that other tables point at keep their primary keys.
Rows that disappear from a file are left in place (nothing is deleted)."""

from __future__ import annotations

import csv
import re
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.db import models, transaction

from .models import (
    Discipline,
    Industry,
    Major,
    MajorCategory,
    Occupation,
    Region,
    Town,
    University,
)
from .text import build_search_text, name_key

DATA_DIR = Path(__file__).resolve().parent / "data"
BATCH_SIZE = 500


@dataclass(frozen=True)
class LoadResult:
    counts: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0

    def summary(self) -> str:
        return " ".join(f"{key}={value}" for key, value in self.counts.items())


def _read(name: str, *, data_dir: Path, delimiter: str = ",") -> list[dict[str, str]]:
    # utf-8-sig: the county file starts with a byte-order mark.
    with open(data_dir / name, encoding="utf-8-sig", newline="") as handle:
        return [
            {key.strip(): (value or "").strip() for key, value in row.items()}
            for row in csv.DictReader(handle, delimiter=delimiter)
        ]


def _upsert(
    model: type[models.Model],
    objects: Sequence[models.Model],
    *,
    unique_fields: Sequence[str],
    update_fields: Sequence[str],
) -> None:
    model._default_manager.bulk_create(
        objects,
        batch_size=BATCH_SIZE,
        update_conflicts=True,
        unique_fields=list(unique_fields),
        update_fields=list(update_fields),
    )


def _unique(rows: Iterable[dict[str, str]], key: Any) -> list[dict[str, str]]:
    """First row per key: the sources repeat a few rows verbatim, and PostgreSQL refuses an
    upsert that touches the same row twice."""
    seen: dict[Any, dict[str, str]] = {}
    for row in rows:
        seen.setdefault(key(row), row)
    return list(seen.values())


def _flag(value: str) -> bool:
    return value.strip() in {"1", "true", "True"}


def _clean(value: str) -> str:
    return "" if value.strip().upper() == "NULL" else value.strip()


# ---------------------------------------------------------------------------- majors


def load_disciplines(*, data_dir: Path) -> None:
    rows = _read("undergrad_2025_disciplines.csv", data_dir=data_dir)
    objects = [
        Discipline(
            code=row["discipline_code"],
            name=row["discipline_name"],
            search_text=build_search_text(row["discipline_name"], code=row["discipline_code"]),
        )
        for row in rows
    ]
    _upsert(Discipline, objects, unique_fields=["code"], update_fields=["name", "search_text"])


def load_categories(*, data_dir: Path) -> None:
    disciplines = dict(Discipline.objects.values_list("code", "id"))
    objects = [
        MajorCategory(
            code=row["major_category_code"],
            name=row["major_category_name"],
            kind=MajorCategory.Kind.UNDERGRAD,
            discipline_id=disciplines[row["discipline_code"]],
            edition=row["edition"],
            search_text=build_search_text(
                row["major_category_name"], code=row["major_category_code"]
            ),
        )
        for row in _read("undergrad_2025_categories.csv", data_dir=data_dir)
    ]
    objects += [
        MajorCategory(
            code=row["code"],
            name=row["name"],
            kind=MajorCategory.Kind.VOCATIONAL,
            discipline_id=None,
            edition=row["edition"],
            search_text=build_search_text(row["name"], code=row["code"], others=["高职", "专科"]),
        )
        for row in _read("vocational_categories_2021.csv", data_dir=data_dir)
    ]
    _upsert(
        MajorCategory,
        objects,
        unique_fields=["code"],
        update_fields=["name", "kind", "discipline", "edition", "search_text"],
    )


def load_majors(*, data_dir: Path) -> None:
    categories = dict(MajorCategory.objects.values_list("code", "id"))
    objects = [
        Major(
            code=row["major_code"],
            name=row["major_name"],
            category_id=categories[row["major_category_code"]],
            is_special=_flag(row["is_special_major"]),
            is_controlled=_flag(row["is_controlled_major"]),
            note=row["note"],
            edition=row["edition"],
            search_text=build_search_text(row["major_name"], code=row["major_code"]),
        )
        for row in _read("undergrad_2025_majors.csv", data_dir=data_dir)
    ]
    _upsert(
        Major,
        objects,
        unique_fields=["code"],
        update_fields=[
            "name",
            "category",
            "is_special",
            "is_controlled",
            "note",
            "edition",
            "search_text",
        ],
    )


# ---------------------------------------------------------------------------- universities

_PROVINCE_SPELLINGS = {"内蒙": "内蒙古", "山东省": "山东"}
_RENAMED = re.compile(r"renamed (?:to )?(?P<name>\S+) in \d{4}")


def _current_name(source_name: str, dfc: dict[str, str] | None) -> str:
    """The name a 双一流 school goes by today, from the 双一流 file: its own name column, or a
    renaming that its note records (上海体育学院 -> 上海体育大学 in 2023)."""
    if dfc is None:
        return source_name
    match = _RENAMED.search(dfc.get("note", ""))
    if match:
        return match.group("name")
    return dfc["name"] or source_name


def _alias_keys(names: list[str]) -> str:
    """``|key1|key2|``: one ``contains`` of ``|key|`` finds a school by any former name."""
    return "".join(f"|{name_key(name)}" for name in names) + "|" if names else ""


def load_universities(*, data_dir: Path) -> None:
    schools = _read("schools.tsv", data_dir=data_dir, delimiter="\t")
    double_first_class = {
        row["ragflow_id"]: row for row in _read("double_first_class_2022.csv", data_dir=data_dir)
    }
    missing = set(double_first_class) - {row["id"] for row in schools if row["is_abroad"] == "0"}
    if missing:
        raise ValueError(f"双一流 rows without a domestic school: {sorted(missing)}")
    objects = []
    for row in schools:
        if row["is_abroad"] != "0":
            continue
        dfc = double_first_class.get(row["id"])
        name = _current_name(row["name_cn"], dfc)
        former = [row["name_cn"]] if name != row["name_cn"] else []
        former += [alias.strip() for alias in row["alias"].split("::") if alias.strip()]
        former = [alias for alias in dict.fromkeys(former) if alias != name]
        province = _clean(row["province"])
        province = _PROVINCE_SPELLINGS.get(province, province)
        city = _clean(row["city"])
        kind = row["type"]  # 2: 985 (and 211), 1: 211 only, 0: neither
        # Searchable words for the flags, so that "广州 双一流" finds what it says.
        marks = [
            word
            for flag, word in (
                (dfc is not None, "双一流"),
                (_flag(row["is_985"]), "985"),
                (kind in {"1", "2"}, "211"),
            )
            if flag
        ]
        objects.append(
            University(
                source_id=row["id"],
                name=name,
                name_en=_clean(row["name_en"]),
                former_names="::".join(former),
                province=province,
                city=city,
                school_type=_clean(row["school_type"]),
                education_type=_clean(row["education_type"]),
                is_985=_flag(row["is_985"]),
                is_211=kind in {"1", "2"},
                is_double_first_class=dfc is not None,
                name_key=name_key(name),
                alias_keys=_alias_keys(former),
                search_text=build_search_text(
                    name,
                    others=[*former, _clean(row["name_en"]), province, city, *marks],
                ),
            )
        )
    _upsert(
        University,
        objects,
        unique_fields=["source_id"],
        update_fields=[
            "name",
            "name_en",
            "former_names",
            "province",
            "city",
            "school_type",
            "education_type",
            "is_985",
            "is_211",
            "is_double_first_class",
            "name_key",
            "alias_keys",
            "search_text",
        ],
    )


# ---------------------------------------------------------------------------- regions

_REGION_LEVELS = {
    "省级": Region.Level.PROVINCE,
    "地级": Region.Level.PREFECTURE,
    "县级": Region.Level.COUNTY,
}
_REGION_STATUSES = {
    "在用": Region.Status.ACTIVE,
    "弃用": Region.Status.ABOLISHED,
    "变更": Region.Status.CHANGED,
}


def load_regions(*, data_dir: Path) -> None:
    rows = _unique(
        _read("county_codes_1980_2024.csv", data_dir=data_dir),
        key=lambda row: (row["代码"], row["启用时间"]),
    )
    objects = []
    for row in rows:
        prefecture = row["二级行政区"]
        objects.append(
            Region(
                code=row["代码"],
                name=row["名称"],
                province=row["一级行政区"],
                prefecture=prefecture,
                level=_REGION_LEVELS[row["级别"]],
                status=_REGION_STATUSES[row["状态"]],
                start_year=int(row["启用时间"]),
                end_year=int(row["变更/弃用时间"]) if row["变更/弃用时间"] else None,
                successor_code=row["新代码"],
                search_text=build_search_text(
                    row["名称"],
                    code=row["代码"],
                    others=[p for p in (prefecture, row["一级行政区"]) if p and p != "直辖"],
                ),
            )
        )
    _upsert(
        Region,
        objects,
        unique_fields=["code", "start_year"],
        update_fields=[
            "name",
            "province",
            "prefecture",
            "level",
            "status",
            "end_year",
            "successor_code",
            "search_text",
        ],
    )


def load_towns(*, data_dir: Path) -> None:
    objects = [
        Town(
            code=row["code"],
            name=row["name"],
            county_code=row["areaCode"],
            search_text=build_search_text(row["name"], code=row["code"]),
        )
        for row in _read("heshan_towns_2023.csv", data_dir=data_dir)
    ]
    _upsert(
        Town, objects, unique_fields=["code"], update_fields=["name", "county_code", "search_text"]
    )


# ---------------------------------------------------------------------------- occupations

# The catalog marks digital occupations with S and green ones with L, appended to the name.
_OCCUPATION_FLAGS = re.compile(r"(?<=[^A-Za-z/])(?P<flags>L/S|S/L|L|S)$")


def split_occupation_name(raw: str) -> tuple[str, str]:
    """``地球物理地球化学与遥感勘查工程技术人员L/S`` -> (name, ``L/S``)."""
    match = _OCCUPATION_FLAGS.search(raw)
    if not match:
        return raw, ""
    return raw[: match.start()].strip(), match.group("flags")


def occupation_parent_code(code: str, level: int) -> str:
    """2-02-10-03 (4) -> 2-02-10-00; 2-02-10-00 (3) -> 2-02-00-00; 2-02-00-00 (2) -> 2-00-00-00.
    A detailed occupation without subdivisions (2-03-01-00) hangs under the 小类 of the same code."""
    if level <= 1:
        return ""
    parts = code.split("-")
    kept = parts[: level - 1]
    return "-".join(kept + ["00"] * (len(parts) - len(kept)))


def load_occupations(*, data_dir: Path) -> None:
    rows = _unique(
        _read("occupations_2022.csv", data_dir=data_dir),
        key=lambda row: (row["code"], int(row["level"])),
    )
    objects = []
    for row in rows:
        level = int(row["level"])
        name, flags = split_occupation_name(row["name"])
        aliases = [a.strip() for a in re.split(r"[,，]", row["alias"]) if a.strip()]
        aliases = [a for a in dict.fromkeys(aliases) if a not in {name, row["name"]}]
        objects.append(
            Occupation(
                code=row["code"],
                level=level,
                name=name,
                flags=flags,
                definition=row["definition"],
                tasks=row["tasks"],
                aliases=",".join(aliases),
                parent_code=occupation_parent_code(row["code"], level),
                search_text=build_search_text(name, code=row["code"], others=aliases),
            )
        )
    _upsert(
        Occupation,
        objects,
        unique_fields=["code", "level"],
        update_fields=[
            "name",
            "flags",
            "definition",
            "tasks",
            "aliases",
            "parent_code",
            "search_text",
        ],
    )


# ---------------------------------------------------------------------------- industries


def load_industries(*, data_dir: Path) -> None:
    rows = _read("industries_gbt4754_2017.csv", data_dir=data_dir)
    position = {row["code"]: index for index, row in enumerate(rows, start=1)}
    update_fields = ["name", "level", "parent", "position", "search_text"]

    def build(row: dict[str, str], parent_id: int | None) -> Industry:
        others = [f"{row['parent_code']}{row['code']}"] if row["parent_code"] else []
        return Industry(
            code=row["code"],
            name=row["name"],
            level=row["level"],
            parent_id=parent_id,
            position=position[row["code"]],
            search_text=build_search_text(row["name"], code=row["code"], others=others),
        )

    sections = [build(row, None) for row in rows if row["level"] == Industry.Level.SECTION]
    _upsert(Industry, sections, unique_fields=["code"], update_fields=update_fields)
    section_ids = dict(
        Industry.objects.filter(level=Industry.Level.SECTION).values_list("code", "id")
    )
    divisions = [
        build(row, section_ids[row["parent_code"]])
        for row in rows
        if row["level"] == Industry.Level.DIVISION
    ]
    _upsert(Industry, divisions, unique_fields=["code"], update_fields=update_fields)


# ---------------------------------------------------------------------------- all


def reference_counts() -> dict[str, int]:
    return {
        "disciplines": Discipline.objects.count(),
        "categories": MajorCategory.objects.count(),
        "undergrad_categories": MajorCategory.objects.filter(
            kind=MajorCategory.Kind.UNDERGRAD
        ).count(),
        "vocational_categories": MajorCategory.objects.filter(
            kind=MajorCategory.Kind.VOCATIONAL
        ).count(),
        "majors": Major.objects.count(),
        "universities": University.objects.count(),
        "double_first_class": University.objects.filter(is_double_first_class=True).count(),
        "regions": Region.objects.count(),
        "towns": Town.objects.count(),
        "occupations": Occupation.objects.count(),
        "detailed_occupations": Occupation.objects.filter(
            level=Occupation.Level.OCCUPATION
        ).count(),
        "industry_sections": Industry.objects.filter(level=Industry.Level.SECTION).count(),
        "industry_divisions": Industry.objects.filter(level=Industry.Level.DIVISION).count(),
    }


@transaction.atomic
def reference_load(*, data_dir: Path = DATA_DIR) -> LoadResult:
    """Loads every reference file, in one transaction: a failure leaves the tables as they were."""
    started = time.perf_counter()
    load_disciplines(data_dir=data_dir)
    load_categories(data_dir=data_dir)
    load_majors(data_dir=data_dir)
    load_universities(data_dir=data_dir)
    load_regions(data_dir=data_dir)
    load_towns(data_dir=data_dir)
    load_occupations(data_dir=data_dir)
    load_industries(data_dir=data_dir)
    return LoadResult(counts=reference_counts(), seconds=time.perf_counter() - started)
