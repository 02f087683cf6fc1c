"""Demo alliance for seed_demo: the chapters where Heshan students gather (universities,
cities, the home town's high school and vocational school, and the cross-border 粤港联分部),
members drawn from the demo talents already assigned to a chapter (each given a sign-in-less
student account), the demo ambassador as leader of 华南理工大学分会 and a pending application
for the leader to review. Idempotent: chapters are found by name, members by account."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone

from qinghe.accounts.models import Organisation, User
from qinghe.core.roles import Role
from qinghe.reference.models import University
from qinghe.talents.models import Talent

from .models import Chapter, Membership, Story

# name -> (kind, university or city or school, city)
DEMO_CHAPTERS: dict[str, tuple[str, str, str]] = {
    "青鹤联盟·华南理工大学分会": (Chapter.Kind.UNIVERSITY, "华南理工大学", ""),
    "青鹤联盟·广东工业大学分会": (Chapter.Kind.UNIVERSITY, "广东工业大学", ""),
    "青鹤联盟·五邑大学分会": (Chapter.Kind.UNIVERSITY, "五邑大学", ""),
    "青鹤联盟·广州分会": (Chapter.Kind.CITY, "", "广州"),
    "青鹤联盟·深圳分会": (Chapter.Kind.CITY, "", "深圳"),
    "青鹤联盟·鹤山一中分会": (Chapter.Kind.HIGH_SCHOOL, "鹤山市第一中学", "鹤山"),
    "青鹤联盟·鹤山职校分会": (Chapter.Kind.VOCATIONAL, "鹤山市职业技术学校", "鹤山"),
    "青鹤联盟·粤港联分部": (Chapter.Kind.PARTNER, "", "香港"),
}
MAX_MEMBERS_PER_CHAPTER = 40


def _chapter(name: str, kind: str, key: str, city: str, actor: User | None) -> Chapter:
    organisation, _ = Organisation.objects.get_or_create(kind=Organisation.Kind.CHAPTER, name=name)
    chapter = Chapter.objects.filter(organisation=organisation).first()
    if chapter is not None:
        return chapter
    university = (
        University.objects.filter(name=key).first() if kind == Chapter.Kind.UNIVERSITY else None
    )
    return Chapter.objects.create(
        organisation=organisation,
        name=name,
        kind=kind,
        university=university,
        city=city or (university.city if university else ""),
        school_name=key if kind in (Chapter.Kind.HIGH_SCHOOL, Chapter.Kind.VOCATIONAL) else "",
        description="青鹤联盟分会：联络在外鹤山学子，组织返乡见习、企业参访与分享会。",
        created_by=actor,
    )


def _member_account(talent: Talent) -> User:
    """The talent's student account, created without a usable password when missing."""
    if talent.user_id:
        return talent.user  # type: ignore[return-value]
    username = f"demo_member_{talent.pk}"
    user = User.objects.filter(username=username).first()
    if user is None:
        user = User(username=username, role=Role.STUDENT, display_name=talent.name)
        user.set_unusable_password()
        user.save()
    Talent.objects.filter(pk=talent.pk, user__isnull=True).update(user=user)
    return user


@transaction.atomic
def seed_alliance(*, stdout: Any = None, scale: int = 0, seed: int = 0) -> dict[str, int]:
    league = User.objects.filter(username="tuanwei").first()
    now = timezone.now()
    chapters = {
        name: _chapter(name, kind, key, city, league)
        for name, (kind, key, city) in DEMO_CHAPTERS.items()
    }
    created = 0
    for chapter in chapters.values():
        talents = Talent.objects.filter(
            chapter_id=chapter.organisation_id, merged_into__isnull=True
        ).order_by("pk")[:MAX_MEMBERS_PER_CHAPTER]
        for talent in talents:
            user = _member_account(talent)
            if Membership.objects.filter(user=user, slot=chapter.slot).exists():
                continue
            Membership.objects.create(
                chapter=chapter,
                user=user,
                slot=chapter.slot,
                status=Membership.Status.ACTIVE,
                joined_at=now,
                decided_at=now,
                decided_by=league,
                note="演示数据",
            )
            created += 1
    scut = chapters["青鹤联盟·华南理工大学分会"]
    ambassador = User.objects.filter(username="dashi").first()
    if (
        ambassador is not None
        and not Membership.objects.filter(user=ambassador, chapter=scut).exists()
    ):
        Membership.objects.create(
            chapter=scut,
            user=ambassador,
            slot=scut.slot,
            status=Membership.Status.ACTIVE,
            role=Membership.Role.LEADER,
            joined_at=now,
            decided_at=now,
            decided_by=league,
            note="演示数据",
        )
    student = User.objects.filter(username="xuezi").first()
    if student is not None and not Membership.objects.filter(user=student).exists():
        # the demo student: a member in Guangzhou, and an application to their university's
        # chapter waiting for the ambassador (its leader) to review
        Membership.objects.create(
            chapter=chapters["青鹤联盟·广州分会"],
            user=student,
            slot="place",
            status=Membership.Status.ACTIVE,
            joined_at=now,
            decided_at=now,
            decided_by=league,
            note="演示数据",
        )
        Membership.objects.create(
            chapter=scut, user=student, slot=scut.slot, status=Membership.Status.PENDING
        )
    _ambassadors(league, scut, ambassador, now)
    _stories(league, now)
    if stdout is not None:
        stdout.write(
            f"demo alliance: {len(chapters)} chapters, {created} new members "
            f"({Membership.objects.filter(status=Membership.Status.ACTIVE).count()} active)"
        )
    return {"chapters": len(chapters), "members": created}


# Demo stories (invented people, marked as demo in the consent note).
DEMO_STORIES = [
    (
        "从广州回到沙坪：在家乡做新材料研发",
        "梁嘉豪",
        "新材料企业研发工程师",
        "华南理工大学材料专业毕业后，他回到鹤山，在工业城一家新材料企业做研发。",
        "华南理工大学",
        "沙坪街道",
    ),
    (
        "古劳水乡的民宿主理人",
        "区晓彤",
        "民宿创业者",
        "大学毕业后回乡创业，把祖屋改成民宿，带动了村里的农产品销售。",
        "广东工业大学",
        "古劳镇",
    ),
    (
        "返乡当老师：鹤山一中的年轻班主任",
        "何文静",
        "中学教师",
        "师范毕业后回到母校任教，也是青鹤联盟鹤山一中分会的联络人。",
        "",
        "鹤城镇",
    ),
]


def _stories(league: User | None, now: Any) -> None:
    from qinghe.reference.models import Town

    for title, person, role, summary, university, town in DEMO_STORIES:
        if Story.objects.filter(title=title).exists():
            continue
        Story.objects.create(
            title=title,
            person_name=person,
            person_role=role,
            summary=summary,
            body=summary + "\n\n（演示数据：人物与经历为虚构。）",
            consent_on=now.date(),
            consent_note="演示数据（虚构人物）",
            university=University.objects.filter(name=university).first() if university else None,
            town=Town.objects.filter(county_code="440784", name=town).first(),
            state=Story.State.PUBLISHED,
            published_at=now,
            created_by=league,
        )


def _ambassadors(league: User | None, scut: Chapter, ambassador: User | None, now: Any) -> None:
    """This year's round, closed, with the demo ambassador appointed for 华南理工大学分会."""
    import datetime as dt

    from .models import AmbassadorRound, Nomination

    if ambassador is None:
        return
    year = timezone.localdate().year
    round_, _ = AmbassadorRound.objects.get_or_create(
        year=year,
        defaults={
            "mode": AmbassadorRound.Mode.APPOINT,
            "state": AmbassadorRound.State.CLOSED,
            "opened_by": league,
            "closed_at": now,
        },
    )
    Nomination.objects.get_or_create(
        round=round_,
        chapter=scut,
        nominee=ambassador,
        defaults={
            "nominated_by": ambassador,
            "statement": "组织过三次返乡见习分享会（演示数据）",
            "state": Nomination.State.APPOINTED,
            "decided_by": league,
            "decided_at": now,
            "term_ends_on": dt.date(year, 12, 31),
        },
    )
