"""Writes of the plan: the yearly targets, set by HR bureau staff (audited)."""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from qinghe.accounts.models import User
from qinghe.core.audit import audit_record
from qinghe.core.errors import PermissionDenied
from qinghe.core.roles import Role

from .models import IndicatorSnapshot, YearTarget

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
