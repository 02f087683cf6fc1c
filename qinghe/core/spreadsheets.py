"""Spreadsheet exports: every cell a user could have typed goes through ``escape_cell``."""

from __future__ import annotations

from typing import Any


def escape_cell(value: Any) -> Any:
    """Spreadsheet formula injection: text starting with = + - @ (or a tab or carriage return)
    is prefixed with a quote so no spreadsheet program evaluates it."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value
