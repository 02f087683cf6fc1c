"""The named demo personas: one per role, with their organisations. Shared by seed_demo and
the test suite so that both speak of the same people."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any

from qinghe.core.roles import Role

DEMO_PASSWORD = "Qinghe-demo-2026"


@dataclass(frozen=True)
class Persona:
    role: str
    username: str
    display_name: str
    phone: str
    org_kind: str = ""
    org_name: str = ""
    bureau: str = ""


PERSONAS: list[Persona] = [
    Persona(Role.STUDENT, "xuezi", "李晓彤", "13800138001"),
    Persona(
        Role.ENTERPRISE_HR,
        "qiye",
        "陈嘉豪",
        "13800138002",
        "enterprise",
        "鹤山市雅图仕印刷有限公司",
    ),
    Persona(
        Role.HR_STAFF,
        "renshe",
        "梁志强",
        "13800138003",
        "bureau",
        "鹤山市人力资源和社会保障局",
        "hrss",
    ),
    Persona(
        Role.EDU_STAFF, "jiaoyu", "吕慧敏", "13800138004", "bureau", "鹤山市教育局", "education"
    ),
    Persona(
        Role.LIAISON,
        "zhuanyuan",
        "冯家乐",
        "13800138005",
        "bureau",
        "鹤山市人力资源和社会保障局",
        "hrss",
    ),
    Persona(
        Role.LEAGUE_STAFF,
        "tuanwei",
        "区嘉欣",
        "13800138006",
        "bureau",
        "共青团鹤山市委员会",
        "league",
    ),
    Persona(Role.STATION_STAFF, "yizhan", "何伟雄", "13800138007", "station", "沙坪街道人才驿站"),
    Persona(
        Role.AMBASSADOR, "dashi", "黄子晴", "13800138008", "chapter", "青鹤联盟·华南理工大学分会"
    ),
    Persona(
        Role.AUDITOR,
        "shenji",
        "罗文静",
        "13800138009",
        "bureau",
        "鹤山市人力资源和社会保障局",
        "hrss",
    ),
    Persona(Role.PARTNER, "hezuo", "周敏仪", "13800138011", "partner", "鹤山市人民医院"),
    Persona(
        Role.SYSADMIN,
        "admin",
        "系统管理员",
        "13800138010",
        "bureau",
        "鹤山市人力资源和社会保障局",
        "hrss",
    ),
]


def demo_password_hash() -> str:
    """One hash of DEMO_PASSWORD for every demo account (hashed once per process and hasher:
    an argon2 hash costs a quarter of a second, and seed_demo creates some thirty accounts)."""
    from django.conf import settings

    return _hash_with(settings.PASSWORD_HASHERS[0])


@cache
def _hash_with(hasher: str) -> str:  # the hasher is the cache key
    from django.contrib.auth.hashers import make_password

    return make_password(DEMO_PASSWORD)


def personas_ensure() -> dict[str, Any]:
    """Creates the personas that do not exist yet (idempotent); returns them keyed by role."""
    from .models import User
    from .services import organisation_get_or_create, user_create

    users: dict[str, Any] = {}
    for persona in PERSONAS:
        existing = User.objects.filter(username=persona.username).first()
        if existing is not None:
            users[persona.role] = existing
            continue
        org = None
        if persona.org_kind:
            org = organisation_get_or_create(
                kind=persona.org_kind, name=persona.org_name, bureau=persona.bureau
            )
        users[persona.role] = user_create(
            username=persona.username,
            password=DEMO_PASSWORD,
            role=persona.role,
            display_name=persona.display_name,
            phone=persona.phone,
            organisation=org,
            validate=False,
            password_hash=demo_password_hash(),
        )
    return users
