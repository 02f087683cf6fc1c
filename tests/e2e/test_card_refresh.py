"""The e-card QR refreshes itself before the shown token runs out: with the page's clock
under Playwright's control, four minutes pass on the holder's phone (the display token lives
five), the page fetches a fresh token by itself and the QR it shows changes to a newer token
that the online check accepts, while the old one is still valid until its own expiry."""

from __future__ import annotations

import base64
import json
import time
from typing import Any

import pytest
from playwright.sync_api import expect

from qinghe.accounts.demo import DEMO_PASSWORD
from qinghe.cards import tokens
from qinghe.cards.selectors import card_check
from tests.e2e.conftest import sign_in
from tests.e2e.test_card_scan import PHONE, world  # noqa: F401 - the card world fixture

pytestmark = pytest.mark.django_db(transaction=True)


def payload(token: str) -> dict[str, Any]:
    part = token.split(".")[1]
    return dict(json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))))


def test_the_shown_qr_changes_to_a_fresh_token_before_the_old_one_expires(
    page: Any,
    live_server: Any,
    world: dict[str, Any],  # noqa: F811
) -> None:
    page.set_viewport_size(PHONE)
    sign_in(page, "xuezi", DEMO_PASSWORD)
    page.clock.install()
    page.goto("/cards/ecard/")
    qr = page.get_by_test_id("ecard-qr")
    first = qr.get_attribute("data-token")
    assert first and first.count(".") == 2
    box = page.locator("[data-ecard]")
    assert box.get_attribute("data-seconds") == str(tokens.DISPLAY_SECONDS) == "300"
    time.sleep(1.1)  # the server signs with whole seconds: the next token is a later one

    page.clock.run_for(200_000)  # 200 s (and the few real seconds since loading): not yet
    assert qr.get_attribute("data-token") == first
    assert 25 <= int(page.locator("[data-ecard-left]").inner_text()) <= 40
    page.clock.run_for(45_000)  # past 240 s: a minute before expiry the page asks anew
    expect(qr).not_to_have_attribute("data-token", first, timeout=15_000)
    second = qr.get_attribute("data-token")
    assert second and second != first
    assert tokens.read(second).number == world["card"].number
    assert card_check(token=second).valid is True
    old, new = (payload(t)["exp"] for t in (first, second))
    assert new > old
    assert qr.get_attribute("src", timeout=5_000).startswith("data:image/")
    assert page.console_errors == []
