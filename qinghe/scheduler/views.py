from __future__ import annotations

from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from qinghe.core.http import AuthedRequest

from . import selectors
from .models import JobRun
from .schedule import SCHEDULE


@require_GET
def schedule(request: AuthedRequest) -> HttpResponse:
    """The schedule, each job's next and latest run, and the run history (system
    administrators only, see qinghe.core.policies)."""
    names = {job.name for job in SCHEDULE}
    job = request.GET.get("job", "")
    job = job if job in names else ""
    outcome = request.GET.get("outcome", "")
    outcome = outcome if outcome in JobRun.Outcome.values else ""
    runs = selectors.job_run_list(viewer=request.user, job=job, outcome=outcome)
    page = Paginator(runs, 50).get_page(request.GET.get("page"))
    labels = {j.name: j.description for j in SCHEDULE}
    for run in page:
        # A job removed from the schedule keeps its records, shown by its code name.
        run.label = labels.get(run.job, run.job)  # type: ignore[attr-defined]
    return render(
        request,
        "scheduler/schedule.html",
        {
            "statuses": selectors.job_status_list(viewer=request.user),
            "interrupted": selectors.interrupted_task_list(viewer=request.user),
            "page": page,
            "jobs": SCHEDULE,
            "outcomes": JobRun.Outcome.choices,
            "job": job,
            "outcome": outcome,
        },
    )
