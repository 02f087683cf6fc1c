"""``manage.py check`` fails when a line of the schedule names something that does not import,
or when two lines share a name."""

from __future__ import annotations

from typing import Any

from django.core.checks import Error, register


@register()
def schedule_check(app_configs: Any = None, **kwargs: Any) -> list[Error]:
    from .schedule import SCHEDULE

    errors: list[Error] = []
    seen: set[str] = set()
    for job in SCHEDULE:
        if job.name in seen:
            errors.append(Error(f"定时任务 {job.name} 重复声明", id="scheduler.E001"))
        seen.add(job.name)
        try:
            target = job.callable
        except ImportError as exc:
            errors.append(Error(f"定时任务 {job.name} 无法导入：{exc}", id="scheduler.E002"))
            continue
        if not callable(target):
            errors.append(Error(f"定时任务 {job.name} 的目标不可调用", id="scheduler.E002"))
    return errors
