from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from qinghe.accounts.services import user_create
from qinghe.reference.models import (
    Discipline,
    Industry,
    Major,
    MajorCategory,
    Occupation,
    Region,
    Town,
    University,
)
from qinghe.reference.services import LoadResult, reference_load


def _clear_reference_tables() -> None:
    Major.objects.all().delete()
    MajorCategory.objects.all().delete()
    Discipline.objects.all().delete()
    Industry.objects.filter(parent__isnull=False).delete()
    Industry.objects.all().delete()
    for model in (University, Region, Town, Occupation):
        model.objects.all().delete()


@pytest.fixture(scope="module")
def reference_data(django_db_setup: Any, django_db_blocker: Any) -> Iterator[LoadResult]:
    """The full reference data, loaded once per test module (about two seconds) and removed
    afterwards, so that tests elsewhere still start from empty reference tables."""
    with django_db_blocker.unblock():
        result = reference_load()
    try:
        yield result
    finally:
        with django_db_blocker.unblock():
            _clear_reference_tables()


@pytest.fixture
def alice(db: Any) -> Any:
    """Alice works at the HR bureau: she may browse reference data."""
    return user_create(username="alice", password="alice-pass-123", role="hr_staff", validate=False)


@pytest.fixture
def bob(db: Any) -> Any:
    """Bob is a student: reference pages are not for him."""
    return user_create(username="bob", password="bob-pass-1234", role="student", validate=False)
