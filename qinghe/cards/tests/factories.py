"""The card world: the centre and 沙坪街道人才驿站 with its staff 何伟雄, HR bureau staff
梁志强 and 黄家明, a partner (鹤山市人民医院, 周敏仪), and 李晓彤, a 双一流 master's graduate
working in Heshan with her record on the platform."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from qinghe.accounts.models import Organisation, User
from qinghe.accounts.services import organisation_get_or_create, user_create
from qinghe.cards import services
from qinghe.cards.materials import Upload
from qinghe.core.roles import Role
from qinghe.reference.models import Town
from qinghe.stations.models import Station
from qinghe.talents.models import Education, Source, Talent

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
PASSWORD = "Qinghe-test-2026"


def user(username: str, role: str, org: Organisation | None = None, name: str = "") -> User:
    return user_create(
        username=username,
        password=PASSWORD,
        role=role,
        display_name=name or username,
        organisation=org,
        validate=False,
    )


@dataclass
class CardWorld:
    centre: Station
    shaping: Station
    station_staff: User
    hr: User
    hr2: User
    partner: User
    student: User
    talent: Talent


def make_card_world() -> CardWorld:
    town, _ = Town.objects.get_or_create(
        code="440784001", defaults={"name": "沙坪街道", "county_code": "440784"}
    )
    centre_org = organisation_get_or_create(kind="station", name="鹤山市人才服务中心")
    station_org = organisation_get_or_create(kind="station", name="沙坪街道人才驿站")
    centre = Station.objects.create(
        kind=Station.Kind.CENTRE,
        name="鹤山市人才服务中心",
        organisation=centre_org,
        address="鹤山市沙坪街道人民路 1 号",
        hours="周一至周五 8:30-12:00, 14:30-17:30",
    )
    shaping = Station.objects.create(
        kind=Station.Kind.TOWN,
        name="沙坪街道人才驿站",
        organisation=station_org,
        town=town,
        parent=centre,
        address="鹤山市沙坪街道中山路 8 号",
        hours="周一至周五 8:30-17:30",
    )
    hrss = organisation_get_or_create(
        kind="bureau", name="鹤山市人力资源和社会保障局", bureau="hrss"
    )
    hospital = organisation_get_or_create(kind="partner", name="鹤山市人民医院")
    student = user("xiaotong", Role.STUDENT, name="李晓彤")
    talent = Talent.objects.create(name="李晓彤", user=student, town=town)
    Education.objects.create(
        talent=talent,
        university_name="华南理工大学",
        level="master",
        is_double_first_class=True,
        graduation_year=2025,
        source=Source.STUDENT,
    )
    return CardWorld(
        centre=centre,
        shaping=shaping,
        station_staff=user("yizhan1", Role.STATION_STAFF, station_org, "何伟雄"),
        hr=user("renshe1", Role.HR_STAFF, hrss, "梁志强"),
        hr2=user("renshe2", Role.HR_STAFF, hrss, "黄家明"),
        partner=user("hezuo1", Role.PARTNER, hospital, "周敏仪"),
        student=student,
        talent=talent,
    )


def uploads(*kinds: str) -> list[Upload]:
    kinds = kinds or ("contract", "employer_form", "degree")
    return [Upload(kind=k, file_name=f"{k}.pdf", data=PDF) for k in kinds]


def apply_data(today: dt.date, **overrides: object) -> services.ApplyData:
    data = services.ApplyData(
        employer="鹤山市雅图仕印刷有限公司",
        employer_since=today - dt.timedelta(days=60),
        contract_end=today.replace(year=today.year + 3),
        requested_tier="A",
        uploads=uploads(),
    )
    for name, value in overrides.items():
        setattr(data, name, value)
    return data


def issue_card(cw: CardWorld, now: dt.datetime) -> object:
    """李晓彤's card, reviewed by the station and approved by HR."""
    today = now.astimezone(dt.timezone(dt.timedelta(hours=8))).date()
    card = services.card_apply(user=cw.student, data=apply_data(today), now=now)
    card = services.card_transition(card=card, action="review", actor=cw.station_staff, now=now)
    return services.card_transition(card=card, action="approve", actor=cw.hr, now=now)


def card_with_dependant(
    *, holder: User, reviewer: User, approver: User, child_id: str
) -> tuple[object, object]:
    """An A-tier card for ``holder`` (their degrees raised to a 双一流 doctorate so the tier
    fits) with an issued child's card: for walks that need a real card and dependant id."""
    from qinghe.cards import dependants

    talent = Talent.objects.get(user=holder)
    Education.objects.filter(talent=talent).update(level="doctor", is_double_first_class=True)
    today = dt.date.today()
    card = services.card_apply(user=holder, data=apply_data(today))
    card = services.card_transition(card=card, action="review", actor=reviewer)
    card = services.card_transition(card=card, action="approve", actor=approver)
    dep = dependants.dependant_apply(
        user=holder,
        data=dependants.DependantData(
            relation="child",
            name="李小满",
            id_number=child_id,
            uploads=[
                Upload(kind="relation_proof", file_name="a.pdf", data=PDF),
                Upload(kind="id_doc", file_name="b.pdf", data=PDF),
            ],
        ),
    )
    dep = dependants.dependant_transition(dependant=dep, action="review", actor=reviewer)
    dep = dependants.dependant_transition(dependant=dep, action="approve", actor=approver)
    return card, dep
