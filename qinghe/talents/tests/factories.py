"""Builders for talents in tests: valid ID numbers, encrypted phones, provenance stamps."""

from __future__ import annotations

import datetime as dt
from typing import Any

from stdnum.cn import ric

from qinghe.accounts.phones import phone_index
from qinghe.talents.identity import native_evidence, parse_id_number
from qinghe.talents.models import Education, PhoneNumber, Source, Talent
from qinghe.talents.services import source_stamp


def make_id(prefix: str = "440784", birth: str = "20030512", seq: str = "123") -> str:
    body = prefix + birth + seq
    return body + ric.calc_check_digit(body + "0")


def make_talent(
    *,
    name: str = "黄嘉怡",
    id_number: str | None = None,
    phone: str | None = "13912345678",
    university: str = "华南理工大学",
    major: str = "软件工程",
    level: str = "bachelor",
    graduation_year: int = 2026,
    source: str = Source.SURVEY,
    **fields: Any,
) -> Talent:
    stamp = source_stamp(source, "test", "测试")
    talent = Talent(name=name, provenance={"name": stamp}, **fields)
    if id_number:
        parsed = parse_id_number(id_number)
        talent.id_number = parsed.number
        talent.id_index = parsed.index
        talent.id_prefix = parsed.prefix
        talent.birth_date = parsed.birth_date
        talent.gender = parsed.gender
        talent.provenance["id_number"] = stamp
    talent.native_evidence = native_evidence(
        id_prefix=talent.id_prefix, hukou_text=talent.hukou_text
    )
    talent.graduation_year = graduation_year
    talent.status = (
        Talent.Status.GRADUATING
        if graduation_year == dt.date.today().year
        else Talent.Status.STUDYING
    )
    talent.save()
    if phone:
        PhoneNumber.objects.create(
            talent=talent,
            number=phone,
            number_index=phone_index(phone),
            is_current=True,
            source=source,
        )
    Education.objects.create(
        talent=talent,
        university_name=university,
        major_name=major,
        level=level,
        enrolment_year=graduation_year - 4,
        graduation_year=graduation_year,
        source=source,
    )
    return talent
