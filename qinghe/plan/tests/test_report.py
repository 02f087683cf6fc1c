"""The leaders' monthly report: a real PDF with Chinese text and charts, an .xlsx with the same
figures, the job on the 1st (once a month, leaders told), on demand, downloads audited."""

from __future__ import annotations

import datetime as dt
import io
from typing import Any

import pytest
from openpyxl import load_workbook
from pypdf import PdfReader

from qinghe.core.models import AuditLog
from qinghe.core.roles import Role
from qinghe.enterprises.tests.factories import make_posting
from qinghe.notifications.models import OutboxMessage
from qinghe.plan.models import MonthlyReport, YearTarget
from qinghe.plan.services import monthly_report_scheduled
from qinghe.scheduler.schedule import job_by_name
from qinghe.testing.world import World

pytestmark = pytest.mark.django_db

TODAY = dt.date(2026, 12, 1)


def text_of(pdf: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)


def test_the_job_on_the_first_writes_last_months_report_once_and_tells_the_leaders(
    world: World, personas: dict[str, Any]
) -> None:
    YearTarget.objects.create(year=2026, quality_jobs=40)
    make_posting(
        world.a,
        title="优质",
        is_quality=True,
        quality_certified_at=dt.datetime(2026, 3, 1, tzinfo=dt.UTC),
    )
    assert monthly_report_scheduled(today=TODAY) == 1
    report = MonthlyReport.objects.get()
    assert (report.month, report.created_by) == (dt.date(2026, 11, 1), None)
    pdf = bytes(report.pdf)
    assert pdf.startswith(b"%PDF-")
    reader = PdfReader(io.BytesIO(pdf))
    assert len(reader.pages) == report.pages >= 2
    text = text_of(pdf)
    for words in ("青鹤归巢", "2026 年 11 月", "措施4", "云招聘会", "返乡漏斗"):
        assert words in text, words
    assert "优质岗位" in text and "40（2%）" in text
    book = load_workbook(io.BytesIO(bytes(report.xlsx)), read_only=True)
    rows = list(book["十个一指标"].iter_rows(values_only=True))
    by_name = {r[1]: r for r in rows[1:]}
    assert by_name["优质岗位"][3:7] == (1, "个", 40, 2)
    assert by_name["云招聘会"][3] == 0
    assert set(book.sheetnames) == {"十个一指标", "返乡漏斗", "就业去向"}
    told = set(
        OutboxMessage.objects.filter(channel="inbox", data__url="/plan/reports/").values_list(
            "user__role", flat=True
        )
    )
    assert told == {Role.HR_STAFF, Role.EDU_STAFF, Role.LEAGUE_STAFF, Role.SYSADMIN}
    assert AuditLog.objects.filter(action="create", target_type="plan.monthlyreport").count() == 1
    # the same month again: nothing written, nobody told twice
    messages = OutboxMessage.objects.count()
    assert monthly_report_scheduled(today=TODAY + dt.timedelta(days=1)) == 0
    assert MonthlyReport.objects.count() == 1 and OutboxMessage.objects.count() == messages
    job = job_by_name("monthly_plan_report")
    assert job is not None and job.target == "qinghe.plan.services.monthly_report_scheduled"


def test_leaders_generate_on_demand_and_every_download_is_audited(
    client_as: Any, world: World
) -> None:
    client = client_as(Role.EDU_STAFF)
    response = client.post("/plan/reports/generate/", {"month": "2026-10"})
    assert response.status_code == 302 and response["Location"] == "/plan/reports/"
    report = MonthlyReport.objects.get(month=dt.date(2026, 10, 1))
    assert report.created_by is not None and report.created_by.role == Role.EDU_STAFF
    page = client.get("/plan/reports/")
    assert "2026 年 10 月" in page.content.decode()
    pdf = client.get(f"/plan/reports/{report.pk}/pdf/")
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"
    assert b"".join(pdf.streaming_content if pdf.streaming else [pdf.content]) == bytes(report.pdf)
    xlsx = client.get(f"/plan/reports/{report.pk}/xlsx/")
    assert xlsx.status_code == 200 and bytes(xlsx.content) == bytes(report.xlsx)
    assert AuditLog.objects.filter(action="export", target_id=str(report.pk)).count() == 2
    assert client.get(f"/plan/reports/{report.pk}/doc/").status_code == 404


def test_a_bad_month_or_a_role_outside_the_leaders_changes_nothing(
    client_as: Any, world: World
) -> None:
    response = client_as(Role.HR_STAFF).post("/plan/reports/generate/", {"month": "2026-13"})
    assert response.status_code == 302
    future = client_as(Role.HR_STAFF).post("/plan/reports/generate/", {"month": "2099-01"})
    assert future.status_code == 302
    assert (
        client_as(Role.LIAISON).post("/plan/reports/generate/", {"month": "2026-10"}).status_code
        == 403
    )
    assert not MonthlyReport.objects.exists()
    assert not AuditLog.objects.filter(target_type="plan.monthlyreport").exists()
    client_as(Role.HR_STAFF).post("/plan/reports/generate/", {"month": "2026-10"})
    report = MonthlyReport.objects.get()
    for role in (Role.LIAISON, Role.STATION_STAFF, Role.ENTERPRISE_HR, Role.STUDENT):
        assert client_as(role).get(f"/plan/reports/{report.pk}/pdf/").status_code == 403
    assert not AuditLog.objects.filter(action="export").exists()
