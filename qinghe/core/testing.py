"""Helpers for tests that walk every route of the project (authorisation, PII exposure)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from django.urls import URLPattern, URLResolver, get_resolver

from .policies import Access, Rule

PARAM_RE = re.compile(r"<(?:(?P<conv>[^>:]+):)?(?P<name>[^>]+)>|\(\?P<(?P<rname>[^>]+)>[^)]*\)")


def walk_routes(
    patterns: list[Any] | None = None, prefix: str = "", namespace: str = ""
) -> list[tuple[str, str]]:
    """(view name, route pattern) for every URL pattern, named as resolve() names them."""
    if patterns is None:
        patterns = get_resolver().url_patterns
    routes: list[tuple[str, str]] = []
    for entry in patterns:
        if isinstance(entry, URLResolver):
            ns = namespace
            if entry.namespace:
                ns = f"{namespace}:{entry.namespace}" if namespace else entry.namespace
            routes += walk_routes(entry.url_patterns, prefix + str(entry.pattern), ns)
        elif isinstance(entry, URLPattern):
            name = entry.name or f"{entry.callback.__module__}.{entry.callback.__qualname__}"
            routes.append(
                (f"{namespace}:{name}" if namespace else name, prefix + str(entry.pattern))
            )
    return routes


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
