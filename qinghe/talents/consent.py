"""Which consent is in force: the one place that answers it.

A ``Consent`` row is a decision (granted or withdrawn) for a purpose, recorded with its time;
sharing with an enterprise is decided per enterprise (``enterprise`` set), the other purposes
once for all (``enterprise`` NULL). Rows are never changed: the decision in force is the
newest row for (talent, purpose, enterprise), by ``recorded_at`` then ``id``. No row means
nothing was consented.

- ``consent_in_force(...)``: that decision as a subquery, to annotate or filter a queryset of
  talents or of rows that point at one (candidates, applications), with the enterprise fixed
  or taken from each row;
- ``talents_consenting(...)``: the same rule as a set, the ids of the talents whose decision
  in force is a consent (one window over the purpose's decisions, not a lookup per row);
- ``consent_decisions(talent=...)``: every decision in force of one talent;
- ``consent_state(talent=...)``: one talent's general purposes as booleans;
- ``consent_granted_by_talent(...)``: one general purpose for many talents, in bulk."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db.models import F, OuterRef, QuerySet, Subquery, Window
from django.db.models.functions import FirstValue

from .models import Consent, Talent

# The newest decision first (the model's default ordering says the same).
NEWEST_FIRST = ("-recorded_at", "-id")
OLDEST_FIRST = ("recorded_at", "id")


def consent_in_force(
    purpose: str, *, talent_ref: str = "pk", enterprise: int | OuterRef | None = None
) -> Subquery:
    """The ``granted`` value (True, False, or NULL when never decided) of the decision in
    force, for the talent whose id is at ``talent_ref`` in the outer query ("pk" on talents,
    "talent_id" on rows that point at one).

    ``enterprise``: None for a general purpose (liaison, matching); for sharing, the
    organisation's id, or ``OuterRef("...")`` to take it from each row (an application's
    ``enterprise__organisation_id``).

    Filter with ``.annotate(ok=consent_in_force(...)).filter(ok=True)``: a withdrawn consent
    and a missing one both fail it."""
    decisions = Consent.objects.filter(talent_id=OuterRef(talent_ref), purpose=purpose)
    if enterprise is None:
        decisions = decisions.filter(enterprise__isnull=True)
    else:
        decisions = decisions.filter(enterprise_id=enterprise)
    return Subquery(decisions.order_by(*NEWEST_FIRST).values("granted")[:1])


def talents_consenting(purpose: str, *, enterprise: int | None = None) -> QuerySet[Any]:
    """The ids (``talent_id`` values) of the talents whose decision in force for ``purpose``
    (with ``enterprise`` for sharing, None for a general purpose) is a consent: the rule of
    ``consent_in_force`` as one set, for ``talent_id__in=``. A withdrawal or no decision is
    left out. On a large list (an enterprise's 5,600 applications on the board bench) the
    correlated lookup per row cost ~45 ms; the set is one hashed subplan over the decisions."""
    decisions = Consent.objects.filter(purpose=purpose)
    if enterprise is None:
        decisions = decisions.filter(enterprise__isnull=True)
    else:
        decisions = decisions.filter(enterprise_id=enterprise)
    return (
        decisions.annotate(
            in_force=Window(
                FirstValue("granted"),
                partition_by=[F("talent_id")],
                order_by=[F("recorded_at").desc(), F("id").desc()],
            )
        )
        .filter(in_force=True)
        .values("talent_id")
    )


def consent_decisions(*, talent: Talent) -> dict[tuple[str, int | None], Consent]:
    """The decision in force of one talent per (purpose, enterprise id or None), with its
    enterprise loaded; undecided pairs are absent."""
    latest: dict[tuple[str, int | None], Consent] = {}
    for consent in talent.consents.select_related("enterprise").order_by(*OLDEST_FIRST):
        latest[(consent.purpose, consent.enterprise_id)] = consent
    return latest


def consent_state(*, talent: Talent) -> dict[str, bool]:
    """Every purpose of one talent: whether its general consent is in force (enterprise
    sharing, decided per enterprise, is never in force here)."""
    state: dict[str, bool] = {}
    for consent in talent.consents.filter(enterprise__isnull=True).order_by(*OLDEST_FIRST):
        state[consent.purpose] = consent.granted
    return {purpose: state.get(purpose, False) for purpose in Consent.Purpose.values}


def consent_granted_by_talent(
    talent_ids: Iterable[int], purpose: str, *, chunk: int = 5000
) -> dict[int, bool]:
    """A general purpose's decision in force for many talents, by talent id (absent: never
    decided), ``chunk`` ids a query."""
    ids = list(talent_ids)
    out: dict[int, bool] = {}
    for start in range(0, len(ids), chunk):
        rows: Iterable[Any] = (
            Consent.objects.filter(
                talent_id__in=ids[start : start + chunk], purpose=purpose, enterprise__isnull=True
            )
            .order_by(*OLDEST_FIRST)
            .values_list("talent_id", "granted")
        )
        for talent_id, granted in rows:
            out[talent_id] = granted
    return out
