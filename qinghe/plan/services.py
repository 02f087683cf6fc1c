"""Writes of the plan: the yearly targets, set by HR bureau staff (audited); the monthly
indicator snapshots; the leaders' monthly report."""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from qinghe.accounts.models import User
from qinghe.core import fragments
from qinghe.core.audit import audit_record
from qinghe.core.errors import PermissionDenied
from qinghe.core.roles import Role

from .models import IndicatorSnapshot, MonthlyReport, YearTarget

TARGET_FIELDS = (
    "quality_jobs",
    "internship_bases",
    "internship_posts",
    "native_hires",
    "recruitment_events",
)


@transaction.atomic
def year_target_set(*, actor: User, year: int, values: dict[str, int]) -> YearTarget:
    if getattr(actor, "role", None) not in (Role.HR_STAFF, Role.SYSADMIN):
        raise PermissionDenied("只有人社局工作人员可以设置年度目标")
    if not 2000 <= int(year) <= 2100:
        raise ValidationError({"year": "年度不正确"})
    errors = {
        name: "请填写 0 到 100000 之间的整数"
        for name in TARGET_FIELDS
        if not isinstance(values.get(name), int) or not 0 <= values[name] <= 100000
    }
    if errors:
        raise ValidationError(errors)
    target, _ = YearTarget.objects.select_for_update().get_or_create(year=year)
    before = {name: getattr(target, name) for name in TARGET_FIELDS}
    for name in TARGET_FIELDS:
        setattr(target, name, values[name])
    target.updated_by = actor
    target.save()
    fragments.bump(fragments.PLAN_TARGETS)
    audit_record(
        action="update",
        actor=actor,
        target=target,
        summary=f"设置 {year} 年度目标",
        data={"before": before, "after": {name: values[name] for name in TARGET_FIELDS}},
    )
    return target


def snapshots_record(*, today: dt.date | None = None, backfilled: bool = False) -> int:
    """Records each indicator's value for the month that ended before ``today`` (run on the
    1st: the month just closed). Idempotent: a month already recorded is left as it is.
    Indicators without data (``None``) are not recorded. Returns the rows written."""
    from .indicators import Measured, measure_all

    today = today or timezone.localdate()
    last_day = today.replace(day=1) - dt.timedelta(days=1)
    month = last_day.replace(day=1)
    done = set(IndicatorSnapshot.objects.filter(month=month).values_list("code", flat=True))
    values = measure_all(Measured(year=month.year, today=last_day))
    rows = [
        IndicatorSnapshot(code=code, month=month, value=float(value), backfilled=backfilled)
        for code, value in values.items()
        if value is not None and code not in done
    ]
    IndicatorSnapshot.objects.bulk_create(rows, ignore_conflicts=True)
    return len(rows)


# Who reads the leaders' reports (the same roles as core.policies.PLAN_READERS).
REPORT_READERS = frozenset({Role.HR_STAFF, Role.EDU_STAFF, Role.LEAGUE_STAFF, Role.SYSADMIN})


def _previous_month(today: dt.date) -> dt.date:
    return (today.replace(day=1) - dt.timedelta(days=1)).replace(day=1)


@transaction.atomic
def monthly_report_generate(
    *, month: dt.date, actor: User | None = None, today: dt.date | None = None
) -> MonthlyReport:
    """Renders the report of ``month`` (its first day) into the archive, replacing an earlier
    rendering of the same month; a new month's report goes to the leaders' inboxes. Audited."""
    from qinghe.accounts.models import User as UserModel
    from qinghe.notifications.models import Category, Channel
    from qinghe.notifications.services import notify_bulk

    from .report import render_pdf, render_xlsx, report_data

    if actor is not None and getattr(actor, "role", None) not in REPORT_READERS:
        raise PermissionDenied("只有人社局、教育局、团市委（组织部）工作人员可以生成月度报告")
    today = today or timezone.localdate()
    month = month.replace(day=1)
    if month > today or month.year < 2000:
        raise ValidationError({"month": "只能生成本月及以前月份的报告"})
    data = report_data(month=month, today=today)
    pdf, pages = render_pdf(data)
    xlsx = render_xlsx(data)
    report = MonthlyReport.objects.select_for_update().filter(month=month).first()
    created = report is None
    if report is None:
        report = MonthlyReport(month=month)
    report.pdf, report.xlsx, report.pages, report.created_by = pdf, xlsx, pages, actor
    report.save()
    audit_record(
        action="create" if created else "update",
        actor=actor,
        target=report,
        summary=f"{'生成' if created else '重新生成'} {month:%Y 年 %m 月}月度报告（{pages} 页）",
    )
    if created:
        readers = list(
            UserModel.objects.filter(role__in=REPORT_READERS, is_active=True).values_list(
                "pk", flat=True
            )
        )
        notify_bulk(
            user_ids=readers,
            channels=[Channel.INBOX],
            category=Category.SYSTEM,
            subject=f"{month:%Y 年 %m 月}“青鹤归巢”月度报告已生成",
            body="十个一指标、返乡漏斗与毕业生去向的月度报告（PDF 与 Excel）已归档，可在报告库下载。",
            key=f"plan.report.{month:%Y-%m}",
            data={"url": reverse("board:reports")},
        )
    return report


def monthly_report_scheduled(*, today: dt.date | None = None) -> int:
    """The schedule's job on the 1st: last month's report, once (a month already in the
    archive is left as it is). Returns the reports written (0 or 1)."""
    today = today or timezone.localdate()
    month = _previous_month(today)
    if MonthlyReport.objects.filter(month=month).exists():
        return 0
    monthly_report_generate(month=month, today=today)
    return 1


def monthly_report_download(*, actor: User, report: MonthlyReport, kind: str) -> bytes:
    """The stored file (``pdf`` or ``xlsx``); every download is audited."""
    if getattr(actor, "role", None) not in REPORT_READERS:
        raise PermissionDenied("无权下载月度报告")
    data = bytes(report.pdf if kind == "pdf" else report.xlsx)
    audit_record(
        action="export",
        actor=actor,
        target=report,
        summary=f"下载 {report.month:%Y 年 %m 月}月度报告（{'PDF' if kind == 'pdf' else 'Excel'}）",
    )
    return data
