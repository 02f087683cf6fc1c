"""Scoring weights from settings (MATCHING_WEIGHTS), checked at start-up."""

from __future__ import annotations

import math
from dataclasses import fields, replace
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from ..scoring import Weights


def weights_problems(overrides: Any) -> list[str]:
    """What is wrong with a MATCHING_WEIGHTS value (empty when it can be used): it must be a
    mapping of ``Weights`` field names to finite numbers, none negative."""
    if overrides is None:
        return []
    if not isinstance(overrides, dict):
        return ['MATCHING_WEIGHTS 应为 JSON 对象，例如 {"major": 40, "salary": 5}']
    known = [f.name for f in fields(Weights)]
    problems: list[str] = []
    for key, value in overrides.items():
        if key not in known:
            problems.append(f"未知的评分项 {key!r}（可用：{'、'.join(known)}）")
        elif isinstance(value, bool) or not isinstance(value, int | float):
            problems.append(f"评分项 {key} 的值应为数字，而不是 {value!r}")
        elif not math.isfinite(value) or value < 0:
            problems.append(f"评分项 {key} 的值应为不小于 0 的有限数，而不是 {value!r}")
    return problems


def weights_from_settings() -> Weights:
    """``Weights`` with the values given in settings.MATCHING_WEIGHTS (a dict of field name to
    number; from the environment variable QINGHE_MATCHING_WEIGHTS, JSON). A bad value is an
    ImproperlyConfigured error (and a failing system check at start-up), never silently
    ignored. The native boost stays capped by ``scoring.NATIVE_BOOST_CAP`` whatever is set."""
    overrides = getattr(settings, "MATCHING_WEIGHTS", None)
    problems = weights_problems(overrides)
    if problems:
        raise ImproperlyConfigured("；".join(problems))
    return replace(Weights(), **{k: float(v) for k, v in (overrides or {}).items()})
