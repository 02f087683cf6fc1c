"""Every role's 工作台 at phone size (390x844): nothing runs off the right edge, so the page
never scrolls sideways."""

from __future__ import annotations

from typing import Any

import pytest

from qinghe.accounts.demo import DEMO_PASSWORD, PERSONAS
from qinghe.accounts.demo import personas_ensure as make_persona_users
from qinghe.outreach.demo import seed_outreach
from tests.e2e.conftest import sign_in

pytestmark = pytest.mark.django_db(transaction=True)

# How far the document reaches beyond the viewport, and the elements that stick out.
OVERFLOW = """() => {
  const width = document.documentElement.clientWidth;
  const wide = [];
  for (const el of document.querySelectorAll('body *')) {
    const box = el.getBoundingClientRect();
    if (box.width > 0 && box.right > width + 1) {
      wide.push(el.tagName.toLowerCase() + (el.dataset.testid ? '[' + el.dataset.testid + ']' : '')
        + ' ' + Math.round(box.right));
    }
  }
  return {scroll: document.documentElement.scrollWidth - width, wide: wide.slice(0, 5)};
}"""


def overflow_at_phone_width(browser: Any, base_url: str, username: str) -> dict[str, Any]:
    """Signs in at 390x844 and measures the workbench: {} when it fits."""
    context = browser.new_context(
        locale="zh-CN", base_url=base_url, viewport={"width": 390, "height": 844}
    )
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    try:
        sign_in(page, username, DEMO_PASSWORD)
        assert page.get_by_test_id("todos").is_visible()
        assert page.get_by_test_id("figures").locator("a").count() >= 3
        overflow = page.evaluate(OVERFLOW)
    finally:
        context.close()
    if overflow["scroll"] > 0 or overflow["wide"] or errors:
        return {**overflow, "console": errors}
    return {}


def test_every_roles_workbench_fits_a_phone(browser: Any, live_server: Any) -> None:
    make_persona_users()
    seed_outreach()
    failures = {
        str(p.role): found
        for p in PERSONAS
        if (found := overflow_at_phone_width(browser, live_server.url, p.username))
    }
    assert failures == {}
