"""Reads of matching, scoped by who asks: a student's recommendations, an enterprise's
recommended talents (consenting only, masked unless shared), the staff's tag and majors
pages, the skills-gap analysis and the fairness report.

Missing and forbidden objects alike raise NotFound."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django.db.models import Count, Exists, F, OuterRef, Q, QuerySet
from django.utils import timezone

from qinghe.core.errors import NotFound
from qinghe.core.masking import mask_name
from qinghe.core.roles import Role
from qinghe.jobs.models import Posting
from qinghe.jobs.selectors import posting_card_fields
from qinghe.reference.models import MajorCategory, Occupation
from qinghe.talents.consent import consent_in_force
from qinghe.talents.models import Consent, Education, Resume, Talent

from . import classify, fetch, scoring
from . import fairness as fair
from .models import (
    Candidate,
    Invitation,
    MajorOccupation,
    PostingFairness,
    PostingOccupation,
    Recommendation,
    TagSource,
)

if TYPE_CHECKING:
    from qinghe.accounts.models import User

STAFF_EDITORS = frozenset({Role.HR_STAFF, Role.SYSADMIN})
GAP_READERS = frozenset({Role.HR_STAFF, Role.SYSADMIN, Role.LEAGUE_STAFF})
INTERNSHIP_KINDS = (Posting.Kind.INTERNSHIP, Posting.Kind.TRAINEESHIP)


def _role(viewer: User) -> str | None:
    return getattr(viewer, "role", None)


# --- the student: 为你推荐 ---------------------------------------------------------------------


@dataclass
class StudentRecommendations:
    state: str  # "no_talent" | "no_consent" | "ok"
    talent: Talent | None = None
    jobs: list[Recommendation] = field(default_factory=list)
    internships: list[Recommendation] = field(default_factory=list)
    invitations: list[Invitation] = field(default_factory=list)
    computed: bool = False
    computed_at: dt.datetime | None = None


# A recommended posting published within this many days is a "new" recommendation.
NEW_RECOMMENDATION_DAYS = 7


def new_recommendations(
    *, talent: Talent, now: dt.datetime | None = None
) -> QuerySet[Recommendation]:
    """Recommendations of open postings published in the last NEW_RECOMMENDATION_DAYS days."""
    since = (now or timezone.now()) - dt.timedelta(days=NEW_RECOMMENDATION_DAYS)
    return Recommendation.objects.filter(
        talent=talent, posting__in=fetch.open_postings(), posting__published_at__gte=since
    )


def student_recommendations(
    *, user: User, new_only: bool = False, lists: bool = True
) -> StudentRecommendations:
    """为你推荐: the student's recommendations of open postings; ``new_only`` keeps those of
    ``new_recommendations`` (the workbench's 新推荐). ``lists=False`` leaves ``jobs`` and
    ``internships`` empty (the page fills them with ``recommendation_lists`` when its kept
    part is missing: matching/views.py)."""
    # The student's record (its id only), the matching consent in force and when the lists
    # were computed, in one query (talent_for_student, consent_state and the profile were
    # three, and read the whole record).
    talent = (
        Talent.objects.filter(user=user, merged_into__isnull=True)
        .annotate(
            matching_ok=consent_in_force(Consent.Purpose.MATCHING),
            recommended_at=F("matching_profile__recommended_at"),
        )
        .only("id")
        .order_by("pk")
        .first()
    )
    if talent is None:
        return StudentRecommendations(state="no_talent")
    if not talent.matching_ok:
        return StudentRecommendations(state="no_consent", talent=talent)
    computed_at = talent.recommended_at
    invitations = list(
        Invitation.objects.filter(talent=talent, state=Invitation.State.PENDING)
        .select_related("posting", "enterprise")
        .order_by("-created_at")
    )
    view = StudentRecommendations(
        state="ok",
        talent=talent,
        invitations=invitations,
        computed=computed_at is not None,
        computed_at=computed_at,
    )
    if lists:
        recommendation_lists(view, new_only=new_only)
    return view


def recommendation_lists(view: StudentRecommendations, *, new_only: bool = False) -> None:
    """Fills ``view.jobs`` and ``view.internships``: the talent's 40 best recommendations of
    open postings (one query)."""
    talent = view.talent
    assert talent is not None and view.state == "ok"
    base = (
        new_recommendations(talent=talent)
        if new_only
        else Recommendation.objects.filter(talent=talent, posting__in=fetch.open_postings())
    )
    recs = list(
        base.select_related("posting", "posting__enterprise", "posting__town")
        # the posting's card columns only (qinghe.jobs.selectors.POSTING_CARD_FIELDS)
        .only(
            "id",
            "talent",
            "posting",
            "score",
            "reasons",
            "computed_at",
            *posting_card_fields("posting__"),
        )
        .order_by("-score", "posting_id")[:40]
    )
    view.jobs = [r for r in recs if r.posting.kind == Posting.Kind.JOB]
    view.internships = [r for r in recs if r.posting.kind in INTERNSHIP_KINDS]


# --- the enterprise: 推荐人才 ------------------------------------------------------------------


def enterprise_postings(*, viewer: User) -> QuerySet[Posting]:
    """An enterprise HR user's postings that can have recommended talents (published, or
    closed with their list kept for reference), with how many candidates each has."""
    if _role(viewer) != Role.ENTERPRISE_HR or not viewer.organisation_id:
        return Posting.objects.none()
    return (
        Posting.objects.filter(
            enterprise__organisation_id=viewer.organisation_id,
            state__in=(Posting.State.PUBLISHED, Posting.State.CLOSED, Posting.State.EXPIRED),
        )
        .select_related("town")
        .annotate(n_candidates=Count("candidates"))
        .order_by("-published_at", "-id")
    )


def enterprise_posting_get_for_viewer(*, viewer: User, posting_id: int) -> Posting:
    """One of the viewer's own postings; another enterprise's (or none) is NotFound."""
    posting = (
        enterprise_postings(viewer=viewer)
        .select_related("enterprise", "enterprise__organisation")
        .filter(pk=posting_id)
        .first()
    )
    if posting is None:
        raise NotFound()
    return posting


def _matching_consent_filter(qs: QuerySet[Any], talent_ref: str) -> QuerySet[Any]:
    return qs.annotate(
        matching_ok=consent_in_force(Consent.Purpose.MATCHING, talent_ref=talent_ref)
    ).filter(matching_ok=True, **{f"{talent_ref.replace('_id', '')}__merged_into__isnull": True})


def candidate_talent_ids(*, posting: Posting) -> set[int]:
    qs = _matching_consent_filter(Candidate.objects.filter(posting=posting), "talent_id")
    return set(qs.values_list("talent_id", flat=True))


@dataclass
class CandidateRow:
    talent_id: int
    display_name: str
    shared: bool
    level: str
    major: str
    graduation_year: int | None
    university: str
    score: float
    reasons: list[dict[str, Any]]
    invitation: str  # "", or the invitation's state label
    applied: bool
    # An accepted invitation whose student uploaded a résumé: the enterprise may open it.
    resume_invitation_id: int | None = None


# Reasons that would tell an enterprise something private about a student who has not
# shared their information: said in general words instead.
_PRIVATE_REASON_TEXT = {
    "town": "工作地点符合其意向或离家较近",
    "salary": None,  # by fit, below
}


def enterprise_reason_text(reason: dict[str, Any]) -> str:
    criterion = reason.get("criterion")
    text = str(reason.get("text", ""))
    if criterion == "town":
        return _PRIVATE_REASON_TEXT["town"]  # type: ignore[return-value]
    if criterion == "salary":
        if text.startswith("薪酬符合"):
            return "薪酬符合其期望"
        if text.startswith("薪酬略低"):
            return "薪酬略低于其期望"
        return "薪酬低于其期望"
    if criterion == "timing":
        return text.replace("你", "其")
    return text


def posting_candidates(*, posting: Posting) -> list[CandidateRow]:
    """The posting's recommended talents who consent to matching now, best first. A talent
    is shown by name only after sharing their information with this enterprise (applying,
    or accepting its invitation); until then masked, without school, and with reasons in
    general words."""
    organisation_id = posting.enterprise.organisation_id
    shared_in_force = consent_in_force(
        Consent.Purpose.SHARE_ENTERPRISE, talent_ref="talent_id", enterprise=organisation_id
    )
    from qinghe.recruitment.models import Application

    rows = list(
        _matching_consent_filter(Candidate.objects.filter(posting=posting), "talent_id")
        .annotate(
            shared=shared_in_force,
            applied=Exists(
                Application.objects.filter(posting=posting, talent_id=OuterRef("talent_id"))
            ),
        )
        .select_related("talent")
        .order_by("-score", "talent_id")
    )
    ids = [r.talent_id for r in rows]
    educations: dict[int, Education] = {}
    for edu in (
        Education.objects.filter(talent_id__in=ids)
        .select_related("major", "major_category")
        .order_by("talent_id", "-graduation_year", "-id")
    ):
        educations.setdefault(edu.talent_id, edu)
    invitations = {
        i.talent_id: i for i in Invitation.objects.filter(posting=posting, talent_id__in=ids)
    }
    accepted_users = [
        row.talent.user_id
        for row in rows
        if row.talent.user_id
        and (i := invitations.get(row.talent_id)) is not None
        and i.state == Invitation.State.ACCEPTED
    ]
    with_resume = (
        set(Resume.objects.filter(user_id__in=accepted_users).values_list("user_id", flat=True))
        if accepted_users
        else set()
    )
    out: list[CandidateRow] = []
    for row in rows:
        education = educations.get(row.talent_id)
        shared = bool(row.shared)
        major = ""
        if education is not None:
            major = (
                (education.major.name if education.major else "")
                or education.major_name
                or (education.major_category.name if education.major_category else "")
            )
        reasons = (
            row.reasons
            if shared
            else [{**r, "text": enterprise_reason_text(r)} for r in row.reasons]
        )
        invitation = invitations.get(row.talent_id)
        out.append(
            CandidateRow(
                talent_id=row.talent_id,
                display_name=row.talent.name if shared else mask_name(row.talent.name),
                shared=shared,
                level=education.get_level_display() if education and education.level else "",
                major=major,
                graduation_year=row.talent.graduation_year,
                university=(education.university_name if education else "") if shared else "",
                score=row.score,
                reasons=reasons,
                invitation=str(invitation.get_state_display()) if invitation else "",
                applied=bool(row.applied),
                resume_invitation_id=(
                    invitation.pk
                    if invitation is not None
                    and invitation.state == Invitation.State.ACCEPTED
                    and row.talent.user_id in with_resume
                    else None
                ),
            )
        )
    return out


# --- staff: tags of postings ----------------------------------------------------------------------


def tag_postings(*, viewer: User, q: str = "", corrected: str = "") -> QuerySet[Posting]:
    if _role(viewer) not in STAFF_EDITORS:
        return Posting.objects.none()
    qs = Posting.objects.filter(
        state__in=(Posting.State.PUBLISHED, Posting.State.CLOSED, Posting.State.EXPIRED)
    ).select_related("enterprise")
    q = (q or "").strip()[:50]
    if q:
        qs = qs.filter(Q(title__contains=q) | Q(enterprise__name__contains=q))
    staff = PostingOccupation.objects.filter(posting=OuterRef("pk"), source=TagSource.STAFF)
    qs = qs.annotate(corrected=Exists(staff), unsure=Exists(_unsure_first_tag()))
    if corrected in {"1", "0"}:
        qs = qs.filter(corrected=corrected == "1")
    return qs.order_by("-published_at", "-id")


def _unsure_first_tag() -> QuerySet[PostingOccupation]:
    """The posting's first automatic tag when the classifier was not sure of it."""
    return PostingOccupation.objects.filter(
        posting=OuterRef("pk"),
        source=TagSource.AUTO,
        rank=1,
        not_sure=True,
    )


def occupation_review_postings(*, viewer: User) -> QuerySet[Posting]:
    """Published postings whose occupation needs a person: the classifier was not sure
    (``PostingOccupation.not_sure``) and no staff member has tagged them. Oldest first (the longest
    without matching by occupation)."""
    if _role(viewer) not in STAFF_EDITORS:
        return Posting.objects.none()
    staff = PostingOccupation.objects.filter(posting=OuterRef("pk"), source=TagSource.STAFF)
    return (
        Posting.objects.filter(state=Posting.State.PUBLISHED)
        .filter(Exists(_unsure_first_tag()))
        .exclude(Exists(staff))
        .select_related("enterprise")
        .order_by("published_at", "id")
    )


def occupation_review_get_for_viewer(*, viewer: User, posting_id: int) -> Posting:
    posting = occupation_review_postings(viewer=viewer).filter(pk=posting_id).first()
    if posting is None:
        raise NotFound()
    return posting


def review_candidates(posting_ids: list[int]) -> dict[int, list[PostingOccupation]]:
    """The classifier's candidates (its automatic tags, best first) of each posting."""
    out: dict[int, list[PostingOccupation]] = defaultdict(list)
    for row in (
        PostingOccupation.objects.filter(posting_id__in=posting_ids, source=TagSource.AUTO)
        .select_related("occupation")
        .order_by("posting_id", "rank", "id")
    ):
        out[row.posting_id].append(row)
    return {pid: out.get(pid, []) for pid in posting_ids}


def tags_for(posting_ids: list[int]) -> dict[int, list[PostingOccupation]]:
    """Each posting's tags in force (staff ones if any, else automatic unless the classifier
    was not sure: then none, the posting waits for a person), in order."""
    rows = (
        PostingOccupation.objects.filter(posting_id__in=posting_ids)
        .select_related("occupation")
        .order_by("posting_id", "rank", "id")
    )
    staff: dict[int, list[PostingOccupation]] = defaultdict(list)
    auto: dict[int, list[PostingOccupation]] = defaultdict(list)
    for row in rows:
        (auto if row.source == TagSource.AUTO else staff)[row.posting_id].append(row)
    return {
        pid: staff.get(pid) or [t for t in auto.get(pid, []) if not t.not_sure]
        for pid in posting_ids
    }


def tag_posting_get_for_viewer(*, viewer: User, posting_id: int) -> Posting:
    posting = tag_postings(viewer=viewer).filter(pk=posting_id).first()
    if posting is None:
        raise NotFound()
    return posting


def posting_tag_detail(*, posting: Posting) -> dict[str, Any]:
    rows = list(
        PostingOccupation.objects.filter(posting=posting)
        .select_related("occupation", "corrected_by")
        .order_by("rank", "id")
    )
    return {
        "auto": [r for r in rows if r.source == TagSource.AUTO],
        "staff": [r for r in rows if r.source != TagSource.AUTO],
    }


def occupation_search(*, q: str, limit: int = 15) -> list[Occupation]:
    q = (q or "").strip()[:50]
    if not q:
        return []
    return list(
        Occupation.objects.filter(level=Occupation.Level.OCCUPATION)
        .filter(Q(code__startswith=q) | Q(name__contains=q) | Q(aliases__contains=q))
        .order_by("code")[:limit]
    )


# --- staff: majors to occupations ------------------------------------------------------------------


def major_categories(*, viewer: User) -> list[dict[str, Any]]:
    if _role(viewer) not in STAFF_EDITORS:
        return []
    links: dict[int, list[MajorOccupation]] = defaultdict(list)
    for link in (
        MajorOccupation.objects.filter(removed=False)
        .select_related("occupation")
        .order_by("category_id", "rank", "id")
    ):
        links[link.category_id].append(link)
    return [
        {
            "category": c,
            "count": len(links.get(c.pk, [])),
            "top": links.get(c.pk, [])[:3],
            "edited": any(link.source == TagSource.STAFF for link in links.get(c.pk, [])),
        }
        for c in MajorCategory.objects.order_by("kind", "code")
    ]


def major_category_get_for_viewer(*, viewer: User, category_id: int) -> MajorCategory:
    category = MajorCategory.objects.filter(pk=category_id).first()
    if category is None or _role(viewer) not in STAFF_EDITORS:
        raise NotFound()
    return category


def category_links(*, category: MajorCategory) -> dict[str, list[MajorOccupation]]:
    rows = list(
        MajorOccupation.objects.filter(category=category)
        .select_related("occupation", "corrected_by")
        .order_by("removed", "rank", "id")
    )
    return {"active": [r for r in rows if not r.removed], "removed": [r for r in rows if r.removed]}


# --- the skills-gap analysis (急需紧缺人才需求分析) -------------------------------------------------


@dataclass
class GapRow:
    code: str
    name: str
    postings: float = 0.0
    headcount: float = 0.0
    supply: float = 0.0
    shortage: float = 0.0
    link_code: str = ""  # for the outreach link (a major category's code)

    @property
    def ratio(self) -> float | None:
        return self.supply / self.headcount if self.headcount else None


@dataclass
class GapReport:
    years: tuple[int, ...]
    kind: str
    categories: list[GapRow]
    groups: list[GapRow]
    total_headcount: float
    total_supply: float
    notes: list[str]

    def chart(self, rows: list[GapRow], limit: int = 15) -> dict[str, Any]:
        top = list(reversed(rows[:limit]))
        return {
            "tooltip": {"trigger": "axis", "axisPointer": {"type": "shadow"}},
            "legend": {"data": ["招聘人数", "未来三年毕业的鹤山籍学子"]},
            "grid": {"left": 150, "right": 30, "top": 50, "bottom": 30},
            "xAxis": [
                {"type": "value", "name": "招聘人数", "position": "bottom"},
                {"type": "value", "name": "学子", "position": "top"},
            ],
            "yAxis": {"type": "category", "data": [r.name for r in top]},
            "series": [
                {
                    "name": "招聘人数",
                    "type": "bar",
                    "xAxisIndex": 0,
                    "data": [round(r.headcount, 1) for r in top],
                },
                {
                    "name": "未来三年毕业的鹤山籍学子",
                    "type": "bar",
                    "xAxisIndex": 1,
                    "data": [round(r.supply, 1) for r in top],
                },
            ],
        }


def _shortage(rows: list[GapRow], total_headcount: float, total_supply: float) -> list[GapRow]:
    """紧缺指数: (招聘人数 + 1) / (学子按需求总量折算 + 1); above 1, the city asks for relatively
    more of these than its own students will bring. Ranked by it, then by headcount."""
    scale = total_headcount / total_supply if total_supply else 0.0
    for row in rows:
        row.shortage = (row.headcount + 1.0) / (row.supply * scale + 1.0)
    return sorted(
        [r for r in rows if r.headcount > 0 or r.supply > 0],
        key=lambda r: (-r.shortage, -r.headcount, r.code),
    )


def gap_analysis(*, viewer: User, today: dt.date | None = None, kind: str = "") -> GapReport:
    """Open posts (招聘人数) against Heshan students graduating this year and the next two, per
    major category and per occupation group (小类).

    Demand of a posting goes to its required categories (the categories of its required
    majors count too), shared equally; a posting open to any major goes to the categories
    whose ranked occupations include its first occupation, by their weight. Supply of a
    student goes to the category of their latest education; for occupation groups, to the
    groups of their category's first three occupations, by weight."""
    if _role(viewer) not in GAP_READERS:
        return GapReport((), kind, [], [], 0.0, 0.0, [])
    today = today or timezone.localdate()
    years = (today.year, today.year + 1, today.year + 2)
    postings = fetch.open_postings(today=today)
    if kind in Posting.Kind.values:
        postings = postings.filter(kind=kind)
    rows = list(postings.values_list("id", "headcount"))
    ids = [pid for pid, _ in rows]
    categories = {c.pk: c for c in MajorCategory.objects.all()}
    by_cat: dict[int, GapRow] = {
        pk: GapRow(code=c.code, name=c.name, link_code=c.code) for pk, c in categories.items()
    }
    unmatched = GapRow(code="—", name="未对应专业类")
    required: dict[int, set[int]] = defaultdict(set)
    for posting_id, category_id in Posting.required_categories.through.objects.filter(
        posting_id__in=ids
    ).values_list("posting_id", "majorcategory_id"):
        required[posting_id].add(category_id)
    for posting_id, category_id in Posting.required_majors.through.objects.filter(
        posting_id__in=ids
    ).values_list("posting_id", "major__category_id"):
        required[posting_id].add(category_id)
    occupations = fetch.posting_occupations(ids)
    # Which categories lead to which occupation, and how strongly.
    lists = fetch.category_occupations()
    reverse: dict[str, list[tuple[int, float]]] = defaultdict(list)
    for category_id, occs in lists.items():
        for code, weight in occs:
            reverse[code].append((category_id, weight))
    group_name = _group_namer()
    by_group: dict[str, GapRow] = {}

    def group_row(code: str) -> GapRow:
        minor = classify.minor_group(code)
        if minor not in by_group:
            by_group[minor] = GapRow(code=minor, name=group_name(minor))
        return by_group[minor]

    total_headcount = 0.0
    for posting_id, count in rows:
        headcount = float(count or 1)
        total_headcount += headcount
        tags = occupations.get(posting_id, ())
        if tags:
            grow = group_row(tags[0][0])
            grow.postings += 1
            grow.headcount += headcount
        targets: list[tuple[int, float]] = []
        if required.get(posting_id):
            cats = sorted(required[posting_id])
            targets = [(c, 1.0 / len(cats)) for c in cats]
        elif tags:
            linked = reverse.get(tags[0][0], [])
            total = sum(w for _, w in linked)
            targets = [(c, w / total) for c, w in linked] if total else []
        if not targets:
            unmatched.postings += 1
            unmatched.headcount += headcount
        for category_id, share in targets:
            row = by_cat.get(category_id)
            if row is not None:
                row.postings += share
                row.headcount += headcount * share
    # Supply: natives graduating in the three years, by their latest education's category.
    students = Talent.objects.filter(merged_into__isnull=True, graduation_year__in=years).exclude(
        native_evidence=Talent.Evidence.NONE
    )
    latest: dict[int, int | None] = {}
    for talent_id, own_category_id, major_category_id in (
        Education.objects.filter(talent__in=students)
        .order_by("talent_id", "-graduation_year", "-id")
        .values_list("talent_id", "major_category_id", "major__category_id")
    ):
        latest.setdefault(talent_id, own_category_id or major_category_id)
    counts: dict[int, int] = defaultdict(int)
    for found in latest.values():
        if found is not None:
            counts[found] += 1
    total_supply = float(sum(counts.values()))
    for category_id, n in counts.items():
        if category_id in by_cat:
            by_cat[category_id].supply += n
        first = lists.get(category_id, ())[:3]
        weight_total = sum(w for _, w in first)
        for code, weight in first:
            group_row(code).supply += n * weight / weight_total
    category_rows = _shortage(list(by_cat.values()), total_headcount, total_supply)
    if unmatched.headcount:
        category_rows.append(unmatched)
    return GapReport(
        years=years,
        kind=kind,
        categories=category_rows,
        groups=_shortage(list(by_group.values()), total_headcount, total_supply),
        total_headcount=total_headcount,
        total_supply=total_supply,
        notes=[
            f"统计日期：{today:%Y-%m-%d}；在招岗位：已发布且未过截止日期的岗位"
            + (f"（仅{Posting.Kind(kind).label}）" if kind in Posting.Kind.values else "")
            + "。",
            f"本地生源：{years[0]}–{years[-1]} 年毕业的鹤山籍学子（按最近一段教育经历的专业类）。",
            "岗位限定专业（类）的，招聘人数在所限专业类间平分；专业不限的，按岗位第一职业与各专业类"
            "对应职业的权重分配。职业小类按岗位第一职业统计；学子按其专业类前三个对应职业折算。",
            "紧缺指数 =（招聘人数 + 1）÷（学子数按全市需求总量折算 + 1）；大于 1 表示需求相对本地生源"
            "偏多，宜优先开发优质岗位、定向联络相关专业学子。",
        ],
    )


def _group_namer() -> Callable[[str], str]:
    """Names of the 小类 (minor groups). The source lacks some 小类 rows: then the name of
    the occupation that carries the 小类's own code (an undivided 小类, 2-06-03-00), else
    the 中类's name with the code."""
    level3: dict[str, str] = {}
    same_code: dict[str, str] = {}
    level2: dict[str, str] = {}
    for code, level, name in Occupation.objects.filter(level__in=(2, 3, 4)).values_list(
        "code", "level", "name"
    ):
        if level == 3:
            level3[classify.minor_group(code)] = name
        elif level == 4 and code.endswith("-00"):
            same_code.setdefault(classify.minor_group(code), name)
        elif level == 2:
            level2[classify.sub_major_group(code)] = name

    def name_of(minor: str) -> str:
        if minor in level3:
            return level3[minor]
        if minor in same_code:
            return same_code[minor]
        parent = level2.get(classify.sub_major_group(minor))
        return f"{parent}（{minor}）" if parent else minor

    return name_of


# --- the fairness report ---------------------------------------------------------------------------


@dataclass
class FairnessRow:
    posting: Posting
    stats: PostingFairness

    @staticmethod
    def _share(part: int, whole: int) -> float | None:
        return part / whole if whole else None

    @property
    def pool_native_share(self) -> float | None:
        return self._share(self.stats.pool_natives, self.stats.pool)

    @property
    def top_native_share(self) -> float | None:
        return self._share(self.stats.top_natives, self.stats.top)

    @property
    def top_native_share_without_boost(self) -> float | None:
        return self._share(self.stats.top_natives_without_boost, self.stats.top)

    @property
    def pool_dfc_share(self) -> float | None:
        return self._share(self.stats.pool_double_first_class, self.stats.pool)

    @property
    def top_dfc_share(self) -> float | None:
        return self._share(self.stats.top_double_first_class, self.stats.top)

    @property
    def verdicts(self) -> list[fair.Verdict]:
        """The four-fifths verdict of each group on this posting, with its explanation."""
        return fair.verdicts(self.stats.groups or {}, self.stats.pool, self.stats.top)

    @property
    def flags(self) -> list[fair.Verdict]:
        return [v for v in self.verdicts if v.flagged]

    @property
    def boost_effect(self) -> int:
        """How many more natives the boost put in the top list."""
        return self.stats.top_natives - self.stats.top_natives_without_boost


def fairness_report(*, viewer: User, q: str = "") -> QuerySet[PostingFairness]:
    if _role(viewer) not in STAFF_EDITORS:
        return PostingFairness.objects.none()
    qs = PostingFairness.objects.select_related("posting", "posting__enterprise")
    q = (q or "").strip()[:50]
    if q:
        qs = qs.filter(Q(posting__title__contains=q) | Q(posting__enterprise__name__contains=q))
    return qs.order_by("-posting__published_at", "-posting_id")


def fairness_summary(qs: QuerySet[PostingFairness]) -> dict[str, Any]:
    rows: list[Any] = list(
        qs.values(
            "pool",
            "pool_natives",
            "pool_double_first_class",
            "top",
            "top_natives",
            "top_double_first_class",
            "top_natives_without_boost",
            "groups",
        )
    )
    pool = sum(r["pool"] for r in rows)
    top = sum(r["top"] for r in rows)

    def share(key: str, whole: int) -> float | None:
        """Percent."""
        return 100.0 * sum(r[key] for r in rows) / whole if whole else None

    return {
        "postings": len(rows),
        "pool_native": share("pool_natives", pool),
        "top_native": share("top_natives", top),
        "top_native_without_boost": share("top_natives_without_boost", top),
        "pool_dfc": share("pool_double_first_class", pool),
        "top_dfc": share("top_double_first_class", top),
        "cap": scoring.NATIVE_BOOST_CAP,
        "groups": _overall_groups(rows, pool, top),
    }


@dataclass
class GroupOverall:
    """One group over every posting in the report: summed pool and top-20 counts (as
    recommended, without the boost, without 离家近), the overall four-fifths verdict, and how
    many postings flag the group / have too small a pool for a verdict."""

    verdict: fair.Verdict
    flagged_postings: int
    small_postings: int


def _overall_groups(rows: list[Any], pool: int, top: int) -> list[GroupOverall]:
    out: list[GroupOverall] = []
    for group in fair.GROUPS:
        summed = {"pool": 0, "top": 0, "no_boost": 0, "no_home": 0}
        flagged = small = 0
        for r in rows:
            figures = (r["groups"] or {}).get(group) or {}
            for key in summed:
                summed[key] += int(figures.get(key, 0))
            status = fair.verdict(group, figures, r["pool"], r["top"], explain=False).status
            flagged += status == "flag"
            small += status == "small"
        out.append(
            GroupOverall(fair.verdict(group, summed, pool, top, explain=False), flagged, small)
        )
    return out
