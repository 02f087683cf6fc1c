"""Builders for the recruitment tests: a little reference data, enterprises with their HR
accounts, and postings in a given state (tokens and majors kept the way the services keep
them)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.utils import timezone

from qinghe.accounts.models import Organisation, User
from qinghe.accounts.services import user_create
from qinghe.core.roles import Role
from qinghe.enterprises.models import Enterprise, InternshipBase
from qinghe.enterprises.uscc import make_uscc
from qinghe.jobs.models import FACT_FIELDS, Posting
from qinghe.jobs.services import PostingData, posting_refresh_tokens
from qinghe.reference.models import Industry, Major, MajorCategory, Town

FACTS = {
    "working_hours": "8:30–17:30，双休",
    "housing": "免费宿舍",
    "meals": "两餐免费",
    "social_insurance": "五险一金",
    "leave": "年休假 5 天",
    "safety": "岗前安全培训",
}


@dataclass
class Ref:
    printing: Industry
    electronics: Industry
    chemicals: Industry
    software: Industry
    manufacturing: Industry
    shaping: Town
    hecheng: Town
    gonghe: Town
    computing: MajorCategory
    chemistry: MajorCategory
    software_eng: Major
    cs: Major
    chem_eng: Major


def make_reference() -> Ref:
    c, _ = Industry.objects.get_or_create(
        code="C", defaults={"name": "制造业", "level": "section", "position": 10}
    )
    i, _ = Industry.objects.get_or_create(
        code="I",
        defaults={"name": "信息传输、软件和信息技术服务业", "level": "section", "position": 50},
    )

    def division(code: str, name: str, parent: Industry, pos: int) -> Industry:
        row, _ = Industry.objects.get_or_create(
            code=code,
            defaults={"name": name, "level": "division", "parent": parent, "position": pos},
        )
        return row

    def town(code: str, name: str) -> Town:
        row, _ = Town.objects.get_or_create(
            code=code, defaults={"name": name, "county_code": "440784"}
        )
        return row

    computing, _ = MajorCategory.objects.get_or_create(
        code="0809", defaults={"name": "计算机类", "kind": "undergrad"}
    )
    chemistry, _ = MajorCategory.objects.get_or_create(
        code="0813", defaults={"name": "化工与制药类", "kind": "undergrad"}
    )
    software_eng, _ = Major.objects.get_or_create(
        code="080902", defaults={"name": "软件工程", "category": computing}
    )
    cs, _ = Major.objects.get_or_create(
        code="080901", defaults={"name": "计算机科学与技术", "category": computing}
    )
    chem_eng, _ = Major.objects.get_or_create(
        code="081301", defaults={"name": "化学工程与工艺", "category": chemistry}
    )
    return Ref(
        printing=division("23", "印刷和记录媒介复制业", c, 11),
        chemicals=division("26", "化学原料和化学制品制造业", c, 12),
        electronics=division("39", "计算机、通信和其他电子设备制造业", c, 13),
        software=division("65", "软件和信息技术服务业", i, 51),
        manufacturing=c,
        shaping=town("440784001", "沙坪街道"),
        hecheng=town("440784105", "鹤城镇"),
        gonghe=town("440784106", "共和镇"),
        computing=computing,
        chemistry=chemistry,
        software_eng=software_eng,
        cs=cs,
        chem_eng=chem_eng,
    )


def uscc_for(n: int) -> str:
    return make_uscc(f"91440784MA4T{n:04d}X")


def make_enterprise(
    ref: Ref,
    *,
    name: str,
    n: int,
    state: str = Enterprise.State.VERIFIED,
    organisation: Organisation | None = None,
    hr_username: str | None = None,
    industry: Industry | None = None,
    town: Town | None = None,
) -> Enterprise:
    org = organisation or Organisation.objects.create(kind=Organisation.Kind.ENTERPRISE, name=name)
    enterprise = Enterprise.objects.create(
        organisation=org,
        uscc=uscc_for(n),
        name=name,
        industry=industry or ref.printing,
        town=town or ref.shaping,
        size=Enterprise.Size.LARGE,
        contact_name="陈嘉豪",
        contact_phone="13800138002",
        state=state,
        verified_at=timezone.now() if state == Enterprise.State.VERIFIED else None,
    )
    if hr_username:
        make_hr(org, hr_username)
    return enterprise


def make_hr(org: Organisation, username: str) -> User:
    return user_create(
        username=username,
        password="Qinghe-test-2026",
        role=Role.ENTERPRISE_HR,
        display_name=f"{username}人事",
        organisation=org,
        validate=False,
    )


def make_user(username: str, role: str = Role.STUDENT) -> User:
    return user_create(username=username, password="Qinghe-test-2026", role=role, validate=False)


def make_posting(
    enterprise: Enterprise,
    *,
    title: str = "软件开发工程师",
    description: str = "负责企业管理系统的开发与维护，使用 Python。",
    state: str = Posting.State.PUBLISHED,
    kind: str = Posting.Kind.JOB,
    town: Town | None = None,
    closing_date: dt.date | None = None,
    salary_min: int | None = 6000,
    salary_max: int | None = 9000,
    min_level: str = "bachelor",
    majors: list[Major] | None = None,
    categories: list[MajorCategory] | None = None,
    facts: bool = True,
    **fields: Any,
) -> Posting:
    today = timezone.localdate()
    fields.setdefault(
        "published_at", timezone.now() if state in ("published", "closed", "expired") else None
    )
    posting = Posting(
        enterprise=enterprise,
        title=title,
        description=description,
        state=state,
        kind=kind,
        town=town or enterprise.town,
        closing_date=closing_date if closing_date is not None else today + dt.timedelta(days=30),
        salary_min=salary_min,
        salary_max=salary_max,
        min_level=min_level,
        submitted_at=timezone.now() if state != "draft" else None,
        **fields,
    )
    for name in FACT_FIELDS:
        setattr(posting, name, FACTS[name] if facts else "")
    posting_refresh_tokens(posting=posting)
    posting.save()
    posting.required_majors.set(majors or [])
    posting.required_categories.set(categories or [])
    posting.majors_unrestricted = not majors and not categories
    posting.save(update_fields=["majors_unrestricted"])
    return posting


def make_base(
    enterprise: Enterprise,
    *,
    state: str = InternshipBase.State.APPLIED,
    valid_from: dt.date | None = None,
    valid_to: dt.date | None = None,
) -> InternshipBase:
    year = timezone.localdate().year
    return InternshipBase.objects.create(
        enterprise=enterprise,
        description="提供印刷工艺与品质岗位实习，配带教导师，免费食宿。",
        capacity=30,
        requested_from=dt.date(year, 1, 1),
        requested_to=dt.date(year + 1, 12, 31),
        state=state,
        valid_from=valid_from,
        valid_to=valid_to,
    )


def posting_data_of(posting: Posting, **changes: Any) -> PostingData:
    """What the enterprise's form would send for ``posting`` as it stands, with ``changes``."""
    data = PostingData(
        kind=posting.kind,
        title=posting.title,
        description=posting.description,
        town=posting.town,
        min_level=posting.min_level,
        salary_min=posting.salary_min,
        salary_max=posting.salary_max,
        closing_date=posting.closing_date,
        working_hours=posting.working_hours,
        housing=posting.housing,
        meals=posting.meals,
        social_insurance=posting.social_insurance,
        leave=posting.leave,
        safety=posting.safety,
    )
    for name, value in changes.items():
        setattr(data, name, value)
    return data
