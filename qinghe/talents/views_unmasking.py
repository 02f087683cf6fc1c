"""Who unmasked how many: a report for HR bureau staff and auditors. Thin: parse, select,
render."""

from __future__ import annotations

from django.http import HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from qinghe.core.http import AuthedRequest

from . import unmasking


@require_GET
def unmask_report(request: AuthedRequest) -> HttpResponse:
    """Per user and day for the last 30 days; ``?actor=<id>&day=YYYY-MM-DD`` lists the audit
    entries behind one line."""
    actor = request.GET.get("actor", "")
    day = request.GET.get("day", "")
    entries = (
        list(unmasking.unmask_entries(actor_id=int(actor), day=day))
        if actor.isdigit() and day
        else None
    )
    return render(
        request,
        "talents/unmask_report.html",
        {
            "rows": unmasking.unmask_report(),
            "limit": unmasking.unmask_limit_per_day(),
            "entries": entries,
            "day": day,
        },
    )
