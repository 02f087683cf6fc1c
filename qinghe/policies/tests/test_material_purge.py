"""The retention purge of subsidy materials: files of rejected or withdrawn applications go
QINGHE_SUBSIDY_MATERIAL_RETENTION_DAYS (180) after the decision, approved ones stay, each run
is recorded, and a purged file answers 404 with the reason."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.files.storage import default_storage
from django.test import Client, override_settings
from django.utils import timezone

from qinghe.accounts.models import User
from qinghe.core.models import AuditLog
from qinghe.core.roles import Role
from qinghe.policies.models import Application, Material, Programme
from qinghe.policies.services import application_move, materials_purge
from qinghe.scheduler.models import JobRun
from qinghe.scheduler.schedule import job_by_name
from qinghe.scheduler.services import Scheduler

from .test_applications import programme, student, submit  # noqa: F401

pytestmark = pytest.mark.django_db


def files_of(app: Application) -> list[tuple[str, str, bool]]:
    return [
        (m.filename, "" if m.purged_at is None else m.purged_at.isoformat(), bool(m.storage_name))
        for m in app.files.order_by("id")
    ]


def test_rejected_and_withdrawn_materials_go_after_180_days_approved_ones_stay(
    student: User,  # noqa: F811
    programme: Programme,  # noqa: F811
    personas: dict[str, User],
) -> None:
    hr = personas[Role.HR_STAFF]
    rejected = submit(student, programme)
    application_move(actor=hr, application=rejected, action="reject", reason="材料不实")
    rejected.refresh_from_db()
    assert rejected.decided_at is not None
    decided = rejected.decided_at
    withdrawn = submit(student, programme)
    application_move(actor=student, application=withdrawn, action="withdraw")
    withdrawn.refresh_from_db()
    approved = submit(student, programme)
    application_move(actor=hr, application=approved, action="review")
    application_move(actor=personas[Role.SYSADMIN], application=approved, action="approve")
    # Align the withdrawal with the rejection so one boundary serves both.
    Application.objects.filter(pk=withdrawn.pk).update(updated_at=decided)
    Application.objects.filter(pk=approved.pk).update(decided_at=decided, updated_at=decided)
    names = list(Material.objects.order_by("id").values_list("storage_name", flat=True))
    assert len(names) == 6 and all(default_storage.exists(n) for n in names)

    day_before = decided + dt.timedelta(days=180) - dt.timedelta(seconds=1)
    assert materials_purge(now=day_before).files == 0
    assert all(default_storage.exists(n) for n in names)

    at_limit = decided + dt.timedelta(days=180)
    result = materials_purge(now=at_limit)
    assert (result.files, result.applications) == (4, 2)
    for app in (rejected, withdrawn):
        assert files_of(app) == [("", at_limit.isoformat(), False)] * 2
    assert files_of(approved) == [("执照.pdf", "", True), ("社保.pdf", "", True)]
    assert [default_storage.exists(n) for n in names] == [False] * 4 + [True] * 2
    assert list(
        AuditLog.objects.filter(summary__startswith="补贴申请材料超过保留期")
        .order_by("id")
        .values_list("target_id", "summary")
    ) == [
        (str(rejected.pk), "补贴申请材料超过保留期（180 天），删除 2 个文件"),
        (str(withdrawn.pk), "补贴申请材料超过保留期（180 天），删除 2 个文件"),
    ]
    # Again: nothing left to do, nothing changed.
    assert materials_purge(now=at_limit + dt.timedelta(days=1)).files == 0
    assert AuditLog.objects.filter(summary__startswith="补贴申请材料超过保留期").count() == 2

    # The student's page says what happened; the download is a 404 with the reason.
    client = Client()
    client.force_login(student)
    page = client.get(f"/policies/applications/{rejected.pk}/").content.decode()
    assert f"已于 {timezone.localtime(at_limit):%Y-%m-%d} 按保留期限删除" in page
    gone = rejected.files.first()
    assert gone is not None
    assert client.get(f"/policies/applications/{rejected.pk}/files/{gone.pk}/").status_code == 404


@override_settings(QINGHE_SUBSIDY_MATERIAL_RETENTION_DAYS=30)
def test_the_retention_is_a_setting_and_the_daily_job_records_its_run(
    student: User,  # noqa: F811
    programme: Programme,  # noqa: F811
    personas: dict[str, User],
) -> None:
    rejected = submit(student, programme)
    application_move(
        actor=personas[Role.HR_STAFF], application=rejected, action="reject", reason="不符合条件"
    )
    # decided 31 days ago (the job's service reads the real time)
    Application.objects.filter(pk=rejected.pk).update(
        decided_at=timezone.now() - dt.timedelta(days=31)
    )
    job = job_by_name("purge_subsidy_materials")
    assert job is not None and job.cron == "40 3 * * *"
    Scheduler((job,)).tick()
    run = JobRun.objects.get(job="purge_subsidy_materials")
    assert (run.outcome, run.summary) == ("succeeded", "删除材料 2 个，涉及申请 1 件")
    assert Material.objects.filter(purged_at__isnull=False).count() == 2
