"""Reads of enterprises and internship bases, scoped by who asks. Missing and forbidden
objects alike raise NotFound: an enterprise never learns that another's record exists."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from django.db.models import Q, QuerySet

from qinghe.core.errors import NotFound
from qinghe.core.roles import Role

from .models import Enterprise, EnterpriseEvent, InternshipBase

if TYPE_CHECKING:
    from qinghe.accounts.models import User

# HR bureau staff (and the system administrator) verify enterprises and certify bases.
ENTERPRISE_STAFF = frozenset({Role.HR_STAFF, Role.SYSADMIN})


def is_enterprise_staff(user: User | None) -> bool:
    return getattr(user, "role", None) in ENTERPRISE_STAFF


def enterprise_for_user(*, user: User) -> Enterprise | None:
    """The enterprise an enterprise HR user works for (None for everyone else)."""
    if getattr(user, "role", None) != Role.ENTERPRISE_HR or not user.organisation_id:
        return None
    return (
        Enterprise.objects.select_related("industry", "town", "organisation")
        .filter(organisation_id=user.organisation_id)
        .first()
    )


def enterprise_list(*, viewer: User, state: str = "", q: str = "") -> QuerySet[Enterprise]:
    if not is_enterprise_staff(viewer):
        return Enterprise.objects.none()
    qs = Enterprise.objects.select_related("industry", "town")
    if state in Enterprise.State.values:
        qs = qs.filter(state=state)
    q = (q or "").strip()[:50]
    if q:
        qs = qs.filter(Q(name__contains=q) | Q(uscc__contains=q.upper()))
    # The review queue first: pending, oldest first; then the rest by name.
    return (
        qs.order_by("-state", "created_at", "id")
        if state == Enterprise.State.PENDING
        else qs.order_by("name", "id")
    )


def enterprise_get_for_viewer(*, viewer: User, enterprise_id: int) -> Enterprise:
    qs = Enterprise.objects.select_related("industry", "industry__parent", "town", "organisation")
    if is_enterprise_staff(viewer):
        enterprise = qs.filter(pk=enterprise_id).first()
    elif getattr(viewer, "role", None) == Role.ENTERPRISE_HR and viewer.organisation_id:
        enterprise = qs.filter(pk=enterprise_id, organisation_id=viewer.organisation_id).first()
    else:
        enterprise = None
    if enterprise is None:
        raise NotFound()
    return enterprise


def enterprise_colleagues(*, enterprise: Enterprise) -> QuerySet[Any]:
    from qinghe.accounts.models import User

    return User.objects.filter(
        organisation_id=enterprise.organisation_id, role=Role.ENTERPRISE_HR
    ).order_by("date_joined", "id")


def enterprise_events(*, enterprise: Enterprise) -> QuerySet[EnterpriseEvent]:
    return enterprise.events.select_related("actor", "internship_base")


def internship_base_list(*, viewer: User, state: str = "") -> QuerySet[InternshipBase]:
    qs = InternshipBase.objects.select_related("enterprise", "enterprise__town")
    if is_enterprise_staff(viewer):
        pass
    elif getattr(viewer, "role", None) == Role.ENTERPRISE_HR and viewer.organisation_id:
        qs = qs.filter(enterprise__organisation_id=viewer.organisation_id)
    else:
        return InternshipBase.objects.none()
    if state in InternshipBase.State.values:
        qs = qs.filter(state=state)
    return qs.order_by("-created_at", "-id")


def internship_base_get_for_viewer(*, viewer: User, base_id: int) -> InternshipBase:
    base = internship_base_list(viewer=viewer).filter(pk=base_id).first()
    if base is None:
        raise NotFound()
    return base


def certified_bases_in_year(*, year: int) -> QuerySet[InternshipBase]:
    """Bases whose certified period overlaps the year (the count towards the plan's goal)."""
    start, end = dt.date(year, 1, 1), dt.date(year, 12, 31)
    return InternshipBase.objects.filter(
        state=InternshipBase.State.CERTIFIED, valid_from__lte=end, valid_to__gte=start
    )
