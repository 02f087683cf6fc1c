"""Reads of chapters and memberships, scoped by who asks.

Public reads (the chapter list and a chapter's page) carry no personal data: names, kinds,
places, member counts and upcoming events. A chapter's members are read only by League staff
and by the chapter's own leaders; a student reads their own memberships. Missing and forbidden
objects alike raise NotFound."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Count, Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from qinghe.accounts.models import User
from qinghe.core.errors import NotFound
from qinghe.core.roles import Role
from qinghe.events.models import Event
from qinghe.talents.models import Education, Talent

from .models import Chapter, Membership, Nomination

# League staff run the alliance (and the system administrator).
ALLIANCE_STAFF = frozenset({Role.LEAGUE_STAFF, Role.SYSADMIN})
# Who joins chapters: students, and ambassadors (student volunteers).
MEMBER_ROLES = frozenset({Role.STUDENT, Role.AMBASSADOR})


def is_alliance_staff(user: User) -> bool:
    return getattr(user, "role", None) in ALLIANCE_STAFF


def is_member_role(user: User) -> bool:
    return getattr(user, "role", None) in MEMBER_ROLES


def _active_members() -> Q:
    return Q(memberships__status=Membership.Status.ACTIVE)


def chapter_list_public(*, kind: str = "", q: str = "") -> QuerySet[Chapter]:
    """Active chapters with their member counts, for anyone."""
    qs = Chapter.objects.filter(state=Chapter.State.ACTIVE)
    if kind in Chapter.Kind.values:
        qs = qs.filter(kind=kind)
    q = (q or "").strip()[:50]
    if q:
        qs = qs.filter(Q(name__icontains=q) | Q(city__icontains=q) | Q(school_name__icontains=q))
    return qs.annotate(member_count=Count("memberships", filter=_active_members())).order_by(
        "kind", "name"
    )


def chapter_get_public(*, chapter_id: int) -> Chapter:
    """An active chapter, or a merged one (its page says where it went); retired ones are
    gone for the public."""
    chapter = (
        Chapter.objects.filter(
            pk=chapter_id, state__in=(Chapter.State.ACTIVE, Chapter.State.MERGED)
        )
        .select_related("merged_into", "university")
        .annotate(member_count=Count("memberships", filter=_active_members()))
        .first()
    )
    if chapter is None:
        raise NotFound("未找到该分会")
    return chapter


def chapter_upcoming_events(*, chapter: Chapter, limit: int = 5) -> list[Event]:
    """Published events the chapter organises that have not ended yet."""
    return list(
        Event.objects.filter(
            organiser_id=chapter.organisation_id,
            state=Event.State.PUBLISHED,
            ends_at__gte=timezone.now(),
        ).order_by("starts_at")[:limit]
    )


def membership_of(*, user: User, chapter: Chapter) -> Membership | None:
    """The user's open (pending, invited or active) membership of a chapter, if any."""
    if not getattr(user, "pk", None):
        return None
    return (
        Membership.objects.filter(
            user=user,
            chapter=chapter,
            status__in=(
                Membership.Status.PENDING,
                Membership.Status.INVITED,
                Membership.Status.ACTIVE,
            ),
        )
        .order_by("-id")
        .first()
    )


def my_memberships(*, user: User) -> QuerySet[Membership]:
    return (
        Membership.objects.filter(user=user)
        .select_related("chapter", "invited_by")
        .order_by("-updated_at", "-id")
    )


def is_leader(*, user: User, chapter: Chapter) -> bool:
    return (
        is_member_role(user)
        and Membership.objects.filter(
            user=user,
            chapter=chapter,
            status=Membership.Status.ACTIVE,
            role=Membership.Role.LEADER,
        ).exists()
    )


def is_current_ambassador(*, user: User, chapter: Chapter) -> bool:
    """Whether the user is this year's ambassador of the chapter (term not yet over)."""
    return Nomination.objects.filter(
        nominee=user,
        chapter=chapter,
        state=Nomination.State.APPOINTED,
        term_ends_on__gte=timezone.localdate(),
    ).exists()


def chapter_manage_list(*, viewer: User, state: str = "", kind: str = "") -> QuerySet[Chapter]:
    """Staff: every chapter; a leader or this year's ambassador: the active chapters they lead
    or serve; anyone else: none."""
    qs = Chapter.objects.all()
    if not is_alliance_staff(viewer):
        if not is_member_role(viewer):
            return qs.none()
        led = Membership.objects.filter(
            chapter=OuterRef("pk"),
            user=viewer,
            status=Membership.Status.ACTIVE,
            role=Membership.Role.LEADER,
        )
        serving = Nomination.objects.filter(
            chapter=OuterRef("pk"),
            nominee=viewer,
            state=Nomination.State.APPOINTED,
            term_ends_on__gte=timezone.localdate(),
        )
        qs = qs.filter(Exists(led) | Exists(serving), state=Chapter.State.ACTIVE)
    if state in Chapter.State.values:
        qs = qs.filter(state=state)
    if kind in Chapter.Kind.values:
        qs = qs.filter(kind=kind)
    return qs.annotate(
        member_count=Count("memberships", filter=_active_members(), distinct=True),
        pending_count=Count(
            "memberships",
            filter=Q(memberships__status=Membership.Status.PENDING),
            distinct=True,
        ),
    ).order_by("state", "kind", "name")


def chapter_get_for_manager(*, viewer: User, chapter_id: int) -> Chapter:
    chapter = Chapter.objects.filter(pk=chapter_id).select_related("university").first()
    if chapter is None:
        raise NotFound("未找到该分会")
    if is_alliance_staff(viewer):
        return chapter
    if chapter.is_active and (
        is_leader(user=viewer, chapter=chapter)
        or is_current_ambassador(user=viewer, chapter=chapter)
    ):
        return chapter
    raise NotFound("未找到该分会")


def membership_get_for_manager(*, viewer: User, membership_id: int) -> Membership:
    membership = (
        Membership.objects.filter(pk=membership_id).select_related("chapter", "user").first()
    )
    if membership is None:
        raise NotFound("未找到该申请")
    # Raises NotFound alike when the viewer may not manage the chapter.
    chapter_get_for_manager(viewer=viewer, chapter_id=membership.chapter_id)
    return membership


def membership_get_own(*, user: User, membership_id: int) -> Membership:
    membership = (
        Membership.objects.filter(pk=membership_id, user=user).select_related("chapter").first()
    )
    if membership is None:
        raise NotFound("未找到该邀请")
    return membership


@dataclass
class MemberRow:
    membership: Membership
    name: str
    school: str
    graduation_year: int | None


def _latest_educations(user_ids: list[int]) -> dict[int, Education]:
    """The latest education of each user's talent record, by user id."""
    out: dict[int, Education] = {}
    educations = (
        Education.objects.filter(talent__user_id__in=user_ids, talent__merged_into__isnull=True)
        .select_related("talent", "university")
        .order_by("talent_id", "graduation_year", "id")
    )
    for edu in educations:
        uid = edu.talent.user_id
        if uid is not None:
            out[uid] = edu  # ordered ascending: the last one wins
    return out


def chapter_members(*, chapter: Chapter, status: str = Membership.Status.ACTIVE) -> list[MemberRow]:
    """A chapter's memberships in one status, with each member's name, school and graduation
    year (no phone, no ID number). For the manager's page only: call after
    ``chapter_get_for_manager``."""
    memberships = list(
        Membership.objects.filter(chapter=chapter, status=status)
        .select_related("user")
        .order_by("-role", "joined_at", "id")
    )
    educations = _latest_educations([m.user_id for m in memberships])
    talents = {
        t.user_id: t
        for t in Talent.objects.filter(
            user_id__in=[m.user_id for m in memberships], merged_into__isnull=True
        )
    }
    rows = []
    for m in memberships:
        edu = educations.get(m.user_id)
        talent = talents.get(m.user_id)
        rows.append(
            MemberRow(
                membership=m,
                name=(talent.name if talent else "") or m.user.display_name or m.user.username,
                school=edu.university_name if edu else "",
                graduation_year=(
                    (edu.graduation_year if edu else None)
                    or (talent.graduation_year if talent else None)
                ),
            )
        )
    return rows


@dataclass
class AllianceFigures:
    members: int = 0
    chapters: int = 0
    chapters_by_kind: list[tuple[str, int]] = field(default_factory=list)
    universities: int = 0
    cities: int = 0
    pending: int = 0
    by_university: list[tuple[str, int]] = field(default_factory=list)
    by_city: list[tuple[str, int]] = field(default_factory=list)
    by_year: list[tuple[str, int]] = field(default_factory=list)


@dataclass
class _MemberRow:
    university: str = ""
    city: str = ""
    year: int | None = None


def _member_rows(member_ids: list[int], members: Any = None) -> dict[int, _MemberRow]:
    """Each member's latest education (university, its city, graduation year), or their
    talent record's graduation year: one query. ``members``: the same ids as a subquery (a
    literal list of thousands of ids made PostgreSQL plan the query for 100-750 ms)."""
    rows: dict[int, _MemberRow] = {uid: _MemberRow() for uid in member_ids}
    for uid, name, city, edu_year, talent_year in (
        Talent.objects.filter(
            user_id__in=member_ids if members is None else members, merged_into__isnull=True
        )
        .values_list(
            "user_id",
            "educations__university_name",
            "educations__university__city",
            "educations__graduation_year",
            "graduation_year",
        )
        .order_by("user_id", "educations__graduation_year", "educations__id")
    ):
        row = rows[uid]
        if name is not None:  # ordered ascending: the latest education wins
            row.university, row.city = name or "", city or ""
        row.year = edu_year or talent_year or row.year
    return rows


def _active_memberships() -> QuerySet[Membership]:
    return Membership.objects.filter(
        status=Membership.Status.ACTIVE, chapter__state=Chapter.State.ACTIVE
    )


def _active_chapters() -> list[tuple[str, str | None, str]]:
    """(kind, university name, city) of every active chapter: one query."""
    return list(
        Chapter.objects.filter(state=Chapter.State.ACTIVE).values_list(
            "kind", "university__name", "city"
        )
    )


def _alliance_base() -> tuple[list[int], list[tuple[str, str | None, str]], dict[int, _MemberRow]]:
    active = _active_memberships()
    # Distinct in SQL, unordered (the model's default order sorted every membership by its
    # creation for nothing).
    member_ids = sorted(active.order_by().values_list("user_id", flat=True).distinct())
    chapters = _active_chapters()
    return member_ids, chapters, _member_rows(member_ids, active.values("user_id"))


def _covered(
    chapters: list[tuple[str, str | None, str]], rows: dict[int, _MemberRow]
) -> tuple[set[str], set[str]]:
    universities = {r.university for r in rows.values() if r.university}
    universities |= {name for _kind, name, _city in chapters if name}
    cities = {r.city for r in rows.values() if r.city}
    cities |= {city for _kind, _name, city in chapters if city}
    return universities, cities


def alliance_figures() -> AllianceFigures:
    """The alliance in numbers, computed from the rows as they are now (never cached).

    Members are distinct students with at least one active membership; universities are those
    of members' latest education plus those of university chapters; cities are chapters' cities
    plus members' universities' cities."""
    member_ids, chapters, rows = _alliance_base()
    kind_labels = dict(Chapter.Kind.choices)
    by_kind = Counter(kind for kind, _name, _city in chapters)
    by_university: Counter[str] = Counter()
    by_city: Counter[str] = Counter()
    by_year: Counter[str] = Counter()
    for row in rows.values():
        by_university[row.university or "未填写院校"] += 1
        by_city[row.city or "未知城市"] += 1
        by_year[str(row.year) if row.year else "未填写"] += 1
    universities, cities = _covered(chapters, rows)
    return AllianceFigures(
        members=len(member_ids),
        chapters=len(chapters),
        chapters_by_kind=[(str(kind_labels[k]), n) for k, n in sorted(by_kind.items())],
        universities=len(universities),
        cities=len(cities),
        pending=Membership.objects.filter(
            status=Membership.Status.PENDING, chapter__state=Chapter.State.ACTIVE
        ).count(),
        by_university=by_university.most_common(),
        by_city=by_city.most_common(),
        by_year=sorted(by_year.items(), key=lambda kv: (kv[0] == "未填写", kv[0])),
    )


def counts_for_plan() -> dict[str, Any]:
    """What the plan page reports for measure 3 (see qinghe.plan): three queries, set-based —
    the same figures as ``alliance_figures`` without reading every member into Python: the
    members counted in SQL, each member's latest education picked by a window function
    (newest graduation year, then newest row, over the member's unmerged talent records; the
    same row ``_member_rows`` keeps on either database) and only the distinct
    (university, city) pairs of those returned."""
    from django.db.models import F, Window
    from django.db.models.functions import RowNumber

    active = _active_memberships()
    members = active.aggregate(n=Count("user_id", distinct=True))["n"] or 0
    chapters = _active_chapters()
    latest = (
        Education.objects.filter(
            talent__user_id__in=active.values("user_id"), talent__merged_into__isnull=True
        )
        .annotate(
            rank=Window(
                RowNumber(),
                partition_by=[F("talent__user_id")],
                order_by=[F("graduation_year").desc(), F("id").desc()],
            )
        )
        .filter(rank=1)
    )
    pairs = set(latest.values_list("university_name", "university__city"))
    universities = {name for name, _city in pairs if name}
    universities |= {name for _kind, name, _city in chapters if name}
    cities = {city for _name, city in pairs if city}
    cities |= {city for _kind, _name, city in chapters if city}
    return {
        "members": members,
        "chapters": len(chapters),
        "universities": len(universities),
        "cities": len(cities),
    }
