"""Helpers for tests that walk every route of the project (authorisation, PII exposure)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from django.urls import get_resolver

from qinghe.core.policies import Access, Rule, iter_view_names

PARAM_RE = re.compile(r"<(?:(?P<conv>[^>:]+):)?(?P<name>[^>]+)>|\(\?P<(?P<rname>[^>]+)>[^)]*\)")


def walk_routes(patterns: list[Any] | None = None) -> list[tuple[str, str]]:
    """(view name, full route pattern) for every URL pattern of the project."""
    return list(iter_view_names(get_resolver().url_patterns if patterns is None else patterns))


def concrete_path(route: str, params: Mapping[str, str]) -> str | None:
    """The route with its parameters filled from ``params``, or None if one is missing."""
    missing: list[str] = []

    def fill(match: re.Match[str]) -> str:
        name = match.group("name") or match.group("rname")
        if name not in params:
            missing.append(name)
            return ""
        return str(params[name])

    path = PARAM_RE.sub(fill, route)
    if missing:
        return None
    return "/" + path.replace("^", "").replace("$", "").replace("\\", "")


def methods_of(rule: Rule) -> list[str]:
    if isinstance(rule, Access):
        return ["GET"]
    return sorted(rule.keys())


def access_of(rule: Rule, method: str) -> Access:
    return rule if isinstance(rule, Access) else rule[method]
