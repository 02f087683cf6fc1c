"""Shared fixtures. The personas are the demo accounts of qinghe.accounts.demo, one per role,
so tests read as sentences about named people ("the auditor 罗文静 cannot ...")."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from qinghe.accounts.demo import personas_ensure
from qinghe.accounts.models import User

# Cross-app fixtures (ref, world): one plugin instead of apps importing each other's conftest.
pytest_plugins = ["qinghe.testing.fixtures"]


@pytest.fixture(autouse=True)
def _empty_cache() -> None:
    """Each test starts with empty caches (a fragment cached by one test is not another's)."""
    from django.core.cache import caches

    for alias in ("default", "fragments", "badges", "versions", "shared"):
        caches[alias].clear()


def make_persona_users() -> dict[str, User]:
    return personas_ensure()


@pytest.fixture
def personas(db: Any) -> dict[str, User]:
    """One user per role, keyed by role value."""
    return make_persona_users()


@pytest.fixture
def client_as(personas: dict[str, User]) -> Any:
    """client_as("hr_staff") -> a test client signed in as that role's persona."""

    def _client(role: str) -> Client:
        client = Client()
        client.force_login(personas[role])
        return client

    return _client
