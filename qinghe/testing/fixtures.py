"""Fixtures shared by every app's tests, registered once by the root conftest.py
(``pytest_plugins``) so that no app imports another app's conftest."""

from __future__ import annotations

from typing import Any

import pytest

from qinghe.accounts.models import User
from qinghe.enterprises.tests.factories import Ref, make_reference

from .world import World, make_world


@pytest.fixture
def ref(db: Any) -> Ref:
    return make_reference()


@pytest.fixture
def world(personas: dict[str, User], ref: Ref) -> World:
    """Enterprises A, B (verified) and C (pending) with their HR users, students X and Y, and
    postings of A and B in several states (qinghe.testing.world)."""
    return make_world(personas, ref)
