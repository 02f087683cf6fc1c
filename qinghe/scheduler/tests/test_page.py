"""系统 → 定时任务: the schedule and the run records, for the system administrator only."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest

from qinghe.core.errors import PermissionDenied
from qinghe.core.roles import Role
from qinghe.scheduler import selectors
from qinghe.scheduler.models import JobRun
from qinghe.scheduler.schedule import SCHEDULE

from .clock import at

pytestmark = pytest.mark.django_db

# session, user, 4 for the jobs, interrupted tasks, count + page of runs, unread badge, session save (3)
PAGE_QUERIES = 13


def _run(job: str, when: str, outcome: str, **fields: Any) -> JobRun:
    scheduled = at(when)
    return JobRun.objects.create(
        job=job,
        scheduled_for=scheduled,
        started_at=scheduled,
        finished_at=scheduled + dt.timedelta(minutes=2) if outcome != "running" else None,
        outcome=outcome,
        worker="web1:4242",
        lease_expires_at=scheduled + dt.timedelta(minutes=5),
        **fields,
    )


def test_the_administrator_sees_every_job_its_latest_run_and_a_masked_error(
    client_as: Any, django_assert_num_queries: Any
) -> None:
    _run("expire_postings", "2026-12-02 00:05", "succeeded", summary="过期岗位 3 个", count=3)
    _run(
        "expire_postings",
        "2026-12-03 00:05",
        "failed",
        error="执行失败（ValueError）：学生 138****5678 的记录无效",
    )
    _run(
        "recompute_recommendations", "2026-12-03 02:30", "succeeded", summary="学生 9 人", missed=2
    )
    admin = client_as(Role.SYSADMIN)
    with django_assert_num_queries(PAGE_QUERIES):
        response = admin.get("/system/schedule/")
    assert response.status_code == 200
    page = response.content.decode()
    assert re.findall(r'data-job="([a-z_]+)"', page) == [job.name for job in SCHEDULE]
    card = page.split('data-job="expire_postings"')[1].split('data-job="')[0]
    assert 'data-outcome="failed"' in card
    assert "学生 138****5678 的记录无效" in card
    assert "2026-12-02 00:07" in card  # the latest success finished then
    assert re.findall(r'data-run="([a-z_]+)"', page) == [
        "recompute_recommendations",
        "expire_postings",
        "expire_postings",
    ]
    assert "补执行：停机期间错过 2 个周期，只执行最近一次" in page

    filtered = admin.get("/system/schedule/", {"job": "expire_postings", "outcome": "failed"})
    assert re.findall(r'data-run="([a-z_]+)"', filtered.content.decode()) == ["expire_postings"]
    # An unknown filter value is ignored rather than showing nothing.
    unknown = admin.get("/system/schedule/", {"job": "nope", "outcome": "nope"})
    assert len(re.findall(r'data-run="', unknown.content.decode())) == 3


@pytest.mark.parametrize("role", [Role.HR_STAFF, Role.AUDITOR, Role.STUDENT])
def test_other_roles_are_refused_the_page(client_as: Any, role: str) -> None:
    assert client_as(role).get("/system/schedule/").status_code == 403


def test_the_selectors_refuse_anyone_but_the_administrator(personas: Any) -> None:
    with pytest.raises(PermissionDenied):
        selectors.job_run_list(viewer=personas[Role.HR_STAFF])
    with pytest.raises(PermissionDenied):
        selectors.job_status_list(viewer=personas[Role.HR_STAFF])
