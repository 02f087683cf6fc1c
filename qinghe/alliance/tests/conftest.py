"""The alliance world: League staff 区嘉欣 ("tuanwei"), the student 李晓彤 ("xuezi"), the
ambassador 黄子晴 ("dashi"), more students, and three active chapters: 华南理工大学分会
(university), 广州分会 (city) and 鹤山一中分会 (high school)."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from qinghe.accounts.models import User
from qinghe.accounts.services import user_create
from qinghe.alliance.models import Chapter
from qinghe.alliance.services import ChapterData, chapter_create
from qinghe.core.roles import Role
from qinghe.reference.models import University
from qinghe.talents.models import Education, Source, Talent


def make_student(
    username: str,
    *,
    phone: str = "",
    university: University | None = None,
    graduation_year: int | None = None,
) -> User:
    user = user_create(
        username=username,
        password="Qinghe-test-2026",
        role=Role.STUDENT,
        display_name=f"学子{username}",
        phone=phone,
        validate=False,
    )
    if university is not None or graduation_year:
        talent = Talent.objects.create(
            name=f"梁{username}", user=user, graduation_year=graduation_year
        )
        if university is not None:
            Education.objects.create(
                talent=talent,
                university=university,
                university_name=university.name,
                graduation_year=graduation_year,
                source=Source.STUDENT,
            )
    return user


@dataclass
class World:
    league: User
    student: User
    ambassador: User
    scut: University
    sysu: University
    uni: Chapter
    uni2: Chapter
    city: Chapter
    school: Chapter


@pytest.fixture
def alliance(personas: dict[str, User]) -> World:
    scut = University.objects.create(source_id="10561", name="华南理工大学", city="广州")
    sysu = University.objects.create(source_id="10558", name="中山大学", city="广州")
    league = personas[Role.LEAGUE_STAFF]

    def create(**kw: object) -> Chapter:
        return chapter_create(actor=league, data=ChapterData(**kw))  # type: ignore[arg-type]

    return World(
        league=league,
        student=personas[Role.STUDENT],
        ambassador=personas[Role.AMBASSADOR],
        scut=scut,
        sysu=sysu,
        uni=create(name="青鹤联盟·华南理工大学分会", kind=Chapter.Kind.UNIVERSITY, university=scut),
        uni2=create(name="青鹤联盟·中山大学分会", kind=Chapter.Kind.UNIVERSITY, university=sysu),
        city=create(name="青鹤联盟·广州分会", kind=Chapter.Kind.CITY, city="广州"),
        school=create(
            name="青鹤联盟·鹤山一中分会",
            kind=Chapter.Kind.HIGH_SCHOOL,
            school_name="鹤山市第一中学",
        ),
    )
