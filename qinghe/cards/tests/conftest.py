from __future__ import annotations

import pytest

from .factories import CardWorld, make_card_world


@pytest.fixture
def cw(db: object) -> CardWorld:
    return make_card_world()
