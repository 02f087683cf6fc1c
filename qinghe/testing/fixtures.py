"""Fixtures shared by every app's tests, registered once by the root conftest.py
(``pytest_plugins``) so that no app imports another app's conftest."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from qinghe.accounts.models import User
from qinghe.enterprises.tests.factories import Ref, make_reference
from qinghe.notifications.fakes import FakeWechat

from .wechat import wechat_fake_running
from .world import World, make_world


@pytest.fixture
def ref(db: Any) -> Ref:
    return make_reference()


@pytest.fixture
def world(personas: dict[str, User], ref: Ref) -> World:
    """Enterprises A, B (verified) and C (pending) with their HR users, students X and Y, and
    postings of A and B in several states (qinghe.testing.world)."""
    return make_world(personas, ref)


@pytest.fixture
def wechat_fake(settings: Any) -> Iterator[FakeWechat]:
    """The local fake of WeChat's OAuth and template-message endpoints, in the settings."""
    with wechat_fake_running(settings) as fake:
        yield fake
