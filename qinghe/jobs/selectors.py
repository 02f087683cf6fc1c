"""Reads of postings, scoped by who asks, the job search and favourites.

Missing and forbidden postings alike raise NotFound: an enterprise's HR never learns that
another enterprise's draft exists."""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

from django.db import connections, models
from django.db.models import F, Func, Q, QuerySet
from django.http import QueryDict
from django.utils import timezone

from qinghe.core.errors import NotFound
from qinghe.core.roles import REFERENCE_READERS, Role
from qinghe.enterprises.models import Enterprise
from qinghe.reference.models import Industry, Major, MajorCategory, Town

from . import search
from .models import LEVEL_RANK, Favourite, MinLevel, Posting

if TYPE_CHECKING:
    from qinghe.accounts.models import User

# Staff who may see every posting (reading); HR bureau staff also review and certify.
POSTING_STAFF_READERS = REFERENCE_READERS
INTERNSHIP_KINDS = (Posting.Kind.INTERNSHIP, Posting.Kind.TRAINEESHIP)
PUBLIC_STATES = (Posting.State.PUBLISHED, Posting.State.CLOSED, Posting.State.EXPIRED)


def _today(today: dt.date | None) -> dt.date:
    return today or timezone.localdate()


def open_postings(*, today: dt.date | None = None) -> QuerySet[Posting]:
    """Published, not past the closing date (whether or not the expiry job has run yet), of a
    verified enterprise: what students see in the search."""
    return Posting.objects.filter(
        Q(closing_date__isnull=True) | Q(closing_date__gte=_today(today)),
        state=Posting.State.PUBLISHED,
        enterprise__state=Enterprise.State.VERIFIED,
    )


@dataclass
class PostingFilter:
    q: str = ""
    kind: str = ""
    industry: str = ""
    town: str = ""
    major: str = ""
    level: str = ""
    salary: int | None = None

    @classmethod
    def from_query(cls, data: QueryDict | dict[str, Any]) -> PostingFilter:
        def get(name: str) -> str:
            value = data.get(name, "")
            return str(value).strip() if value is not None else ""

        salary = get("salary")
        level = get("level")
        return cls(
            q=get("q")[:100],
            kind=get("kind") if get("kind") in Posting.Kind.values else "",
            industry=get("industry")[:4],
            town=get("town")[:12],
            major=get("major")[:12],
            level=level if level in MinLevel.values and level else "",
            salary=int(salary) if salary.isdigit() and int(salary) <= 1_000_000 else None,
        )

    def as_dict(self) -> dict[str, Any]:
        return {k: v for k, v in asdict(self).items() if v not in ("", None)}


class _TokenArray(Func):
    """string_to_array(search_tokens, ' ') — written exactly as the GIN index of migration
    0003 is, so that PostgreSQL uses the index."""

    template = "string_to_array(%(expressions)s, ' ')"

    def __init__(self, expression: Any) -> None:
        from django.contrib.postgres.fields import ArrayField

        super().__init__(expression, output_field=ArrayField(models.TextField()))


def keyword_filter(qs: QuerySet[Posting], query: str) -> QuerySet[Posting]:
    """Every query word must be a whole token of the posting (see qinghe.jobs.search)."""
    words = search.query_words(query)
    if not words:
        return qs
    if connections[qs.db].vendor == "postgresql":
        qs = qs.alias(token_array=_TokenArray(F("search_tokens")))
        plain = [w.word for w in words if not w.parts]
        if plain:
            qs = qs.filter(token_array__contains=plain)  # type: ignore[misc]
        for word in words:
            if word.parts:
                qs = qs.filter(
                    Q(token_array__contains=[word.word]) | Q(token_array__contains=list(word.parts))
                )
        return qs
    for word in words:
        condition = Q()
        for alternative in word.alternatives():
            both = Q()
            for token in alternative:
                both &= Q(search_tokens__contains=f" {token} ")
            condition |= both
        qs = qs.filter(condition)
    return qs


def _major_condition(code: str) -> Q | None:
    """Postings open to a major (or a major category): those requiring it, its category, or
    no particular major (不限). None when the code is unknown. Uncorrelated ``IN`` subqueries
    (hashed once) rather than per-row EXISTS keep PostgreSQL's cost estimate honest."""
    majors = Posting.required_majors.through.objects
    categories = Posting.required_categories.through.objects
    major = Major.objects.filter(code=code).only("pk", "category_id").first()
    if major is not None:
        return (
            Q(majors_unrestricted=True)
            | Q(pk__in=majors.filter(major_id=major.pk).values("posting_id"))
            | Q(pk__in=categories.filter(majorcategory_id=major.category_id).values("posting_id"))
        )
    category = MajorCategory.objects.filter(code=code).only("pk").first()
    if category is not None:
        return (
            Q(majors_unrestricted=True)
            | Q(pk__in=categories.filter(majorcategory_id=category.pk).values("posting_id"))
            | Q(pk__in=majors.filter(major__category_id=category.pk).values("posting_id"))
        )
    return None


def apply_filters(qs: QuerySet[Posting], filters: PostingFilter) -> QuerySet[Posting]:
    if filters.q:
        qs = keyword_filter(qs, filters.q)
    if filters.kind:
        qs = qs.filter(kind=filters.kind)
    # Codes are resolved to ids first: joining through the small reference tables would hide
    # the selectivity of a filter from PostgreSQL's planner (it then walks every enterprise).
    if filters.industry:
        code = filters.industry.upper()
        industry_ids = list(
            Industry.objects.filter(Q(code=code) | Q(parent__code=code)).values_list(
                "pk", flat=True
            )
        )
        qs = qs.filter(enterprise__industry_id__in=industry_ids)
    if filters.town:
        qs = qs.filter(
            town_id__in=list(Town.objects.filter(code=filters.town).values_list("pk", flat=True))
        )
    if filters.major:
        condition = _major_condition(filters.major)
        if condition is not None:
            qs = qs.filter(condition)
    if filters.level:
        rank = LEVEL_RANK[filters.level]
        qs = qs.filter(min_level__in=[lvl for lvl, r in LEVEL_RANK.items() if r <= rank])
    if filters.salary:
        qs = qs.filter(salary_min__gte=filters.salary)
    return qs


# The columns a posting's card shows (the search's list, 为你推荐; qinghe/jobs/cards.py):
# a list reads only these. The others cost every row for nothing —
# the long texts, and the enterprise's contact phone, decrypted row by row.
POSTING_CARD_FIELDS = (
    "id",
    "title",
    "kind",
    "salary_min",
    "salary_max",
    "headcount",
    "closing_date",
    "is_quality",
    "natives_first",
    "published_at",
    "enterprise",
    "enterprise__name",
    "town",
    "town__name",
)


def posting_card_fields(prefix: str = "") -> list[str]:
    """POSTING_CARD_FIELDS for ``QuerySet.only``, from a model that reaches the posting
    through ``prefix`` (e.g. "posting__")."""
    return [prefix + name for name in POSTING_CARD_FIELDS]


def posting_search(
    *, viewer: User, filters: PostingFilter, today: dt.date | None = None
) -> QuerySet[Posting]:
    """The students' job search (any signed-in user): open postings only."""
    if not getattr(viewer, "is_authenticated", False):
        return Posting.objects.none()
    qs = apply_filters(open_postings(today=today), filters)
    return qs.select_related("enterprise", "town").order_by("-published_at", "-id")


def posting_get_for_viewer(
    *, viewer: User, posting_id: int, today: dt.date | None = None
) -> Posting:
    """A posting's public page: published, closed or expired postings of verified
    enterprises (a closed or expired one shows that it takes no applications)."""
    posting = (
        Posting.objects.select_related("enterprise", "enterprise__industry", "town")
        .filter(
            pk=posting_id,
            state__in=PUBLIC_STATES,
            enterprise__state=Enterprise.State.VERIFIED,
        )
        .first()
    )
    if posting is None or not getattr(viewer, "is_authenticated", False):
        raise NotFound()
    return posting


# A published posting closing within this many days is "near expiry" on the workbench.
EXPIRING_DAYS = 7
# Quick filters of the enterprise's posting list that the workbench links to.
OWN_POSTING_SHOW_LABELS: dict[str, str] = {
    "expiring": f"{EXPIRING_DAYS} 天内截止的在招岗位",
    "returned": "审核退回、待修改的岗位",
}


def own_postings(
    *, viewer: User, state: str = "", show: str = "", today: dt.date | None = None
) -> QuerySet[Posting]:
    """An enterprise HR user's postings: those of their own organisation only. ``show``
    "expiring": published and closing within EXPIRING_DAYS days (today included);
    "returned": drafts the HR bureau sent back with a note (submitting again clears it)."""
    if getattr(viewer, "role", None) != Role.ENTERPRISE_HR or not viewer.organisation_id:
        return Posting.objects.none()
    qs = Posting.objects.filter(enterprise__organisation_id=viewer.organisation_id)
    if state in Posting.State.values:
        qs = qs.filter(state=state)
    if show == "expiring":
        day = _today(today)
        qs = qs.filter(
            state=Posting.State.PUBLISHED,
            closing_date__gte=day,
            closing_date__lte=day + dt.timedelta(days=EXPIRING_DAYS),
        )
    elif show == "returned":
        qs = qs.filter(state=Posting.State.DRAFT).exclude(review_note="")
    return qs.select_related("enterprise", "town").order_by("-updated_at", "-id")


def own_posting_get(*, viewer: User, posting_id: int) -> Posting:
    posting = own_postings(viewer=viewer).filter(pk=posting_id).first()
    if posting is None:
        raise NotFound()
    return posting


@dataclass
class StaffPostingFilter:
    q: str = ""
    state: str = ""
    kind: str = ""
    quality: str = ""
    town: str = ""

    @classmethod
    def from_query(cls, data: QueryDict | dict[str, Any]) -> StaffPostingFilter:
        def get(name: str) -> str:
            value = data.get(name, "")
            return str(value).strip() if value is not None else ""

        return cls(
            q=get("q")[:50],
            state=get("state") if get("state") in Posting.State.values else "",
            kind=get("kind") if get("kind") in Posting.Kind.values else "",
            quality=get("quality") if get("quality") in {"1", "0"} else "",
            town=get("town")[:12],
        )


def staff_postings(*, viewer: User, filters: StaffPostingFilter) -> QuerySet[Posting]:
    if getattr(viewer, "role", None) not in POSTING_STAFF_READERS:
        return Posting.objects.none()
    qs = Posting.objects.select_related("enterprise", "town")
    if filters.q:
        qs = qs.filter(Q(title__contains=filters.q) | Q(enterprise__name__contains=filters.q))
    if filters.state:
        qs = qs.filter(state=filters.state)
    if filters.kind:
        qs = qs.filter(kind=filters.kind)
    if filters.quality:
        qs = qs.filter(is_quality=filters.quality == "1")
    if filters.town:
        qs = qs.filter(town__code=filters.town)
    if filters.state == Posting.State.REVIEW:
        return qs.order_by("submitted_at", "id")  # the review queue: oldest first
    return qs.order_by("-updated_at", "-id")


def staff_posting_get(*, viewer: User, posting_id: int) -> Posting:
    posting = (
        staff_postings(viewer=viewer, filters=StaffPostingFilter()).filter(pk=posting_id).first()
    )
    if posting is None:
        raise NotFound()
    return posting


def posting_events(*, posting: Posting) -> QuerySet[Any]:
    return posting.events.select_related("actor").order_by("-created_at", "-id")


def favourite_postings(*, viewer: User) -> QuerySet[Posting]:
    return (
        Posting.objects.filter(favourites__user=viewer)
        .select_related("enterprise", "town")
        .order_by("-favourites__created_at", "-id")
    )


def favourite_ids(*, viewer: User, posting_ids: list[int]) -> set[int]:
    if not getattr(viewer, "is_authenticated", False):
        return set()
    return set(
        Favourite.objects.filter(user=viewer, posting_id__in=posting_ids).values_list(
            "posting_id", flat=True
        )
    )


def viewer_major_code(*, viewer: User) -> str:
    """The student's latest major (for the 'fits my major' shortcut), or ''."""
    if getattr(viewer, "role", None) not in (Role.STUDENT, Role.AMBASSADOR):
        return ""
    from qinghe.talents.models import Education

    code = (
        Education.objects.filter(
            talent__user=viewer, talent__merged_into__isnull=True, major__isnull=False
        )
        .order_by("-graduation_year", "-id")
        .values_list("major__code", flat=True)
        .first()
    )
    return code or ""
