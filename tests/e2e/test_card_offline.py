"""The partner verifies an e-card with no network: the partner page, loaded while online,
keeps the published JWK Set; with the browser context offline, a photographed or pasted code
is checked in the page with WebCrypto (Ed25519) and shows valid/invalid, the tier, the masked
name and the expiry; a changed code, an expired one and one signed by another key are
refused. Nothing reaches the server while offline."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
from django.test import override_settings
from django.utils import timezone
from joserfc.jwk import OKPKey
from playwright.sync_api import expect

from qinghe.cards import tokens
from qinghe.cards.models import BenefitUse
from qinghe.cards.selectors import ecard_for_holder
from tests.e2e.test_card_scan import partner_page, qr_png, world  # noqa: F401 - fixture

pytestmark = pytest.mark.django_db(transaction=True)


def claims_of(card: Any) -> tokens.CardClaims:
    return tokens.CardClaims(
        number=card.number,
        tier=card.tier,
        valid_from=card.valid_from,
        valid_until=card.valid_until,
        serial=card.status_serial,
        masked_name="李**",
    )


def test_the_partner_page_verifies_the_signature_in_the_browser_when_offline(
    browser: Any,
    live_server: Any,
    world: dict[str, Any],  # noqa: F811
    tmp_path: Path,
) -> None:
    card = world["card"]
    shown = ecard_for_holder(viewer=world["student"])
    assert shown is not None
    expired, _ = tokens.sign(claims_of(card), now=timezone.now() - dt.timedelta(minutes=10))
    stranger = OKPKey.generate_key("Ed25519", parameters={"kid": tokens.signing_keys()[0].kid})
    with override_settings(QINGHE_CARD_SIGNING_KEYS=json.dumps([stranger.as_dict(private=True)])):
        forged, _ = tokens.sign(claims_of(card))

    context = browser.new_context(locale="zh-CN", base_url=live_server.url)
    page = partner_page(context)
    result = page.get_by_test_id("offline-result")
    assert result.is_hidden()
    context.set_offline(True)

    # A photo of the holder's QR, decoded and checked on the phone.
    page.get_by_test_id("scan-photo").set_input_files(str(qr_png(shown.token, tmp_path / "q.png")))
    expect(result).to_have_attribute("data-valid", "1", timeout=15_000)
    text = result.inner_text()
    assert text.startswith("有效（离线核验） · A 类（高层次青年人才） · 持卡人 李** · 有效期至 ")
    assert f"有效期至 {card.valid_until:%Y-%m-%d}" in text
    assert page.get_by_test_id("partner-token").input_value() == shown.token
    assert page.url.endswith("/cards/partner/")  # no round trip

    field = page.get_by_test_id("partner-token")
    button = page.get_by_role("button", name="核验")
    for bad, reason in [
        (shown.token[:-4] + "AAAA", "签名无效"),
        (expired, "电子卡二维码已过期"),
        (forged, "签名无效"),
        ("不是二维码", "二维码内容无效"),
    ]:
        field.fill(bad)
        button.click()
        expect(result).to_have_attribute("data-valid", "0", timeout=15_000)
        expect(result).to_contain_text(f"无效（离线核验） · {reason}")
        field.fill(shown.token)
        button.click()
        expect(result).to_have_attribute("data-valid", "1", timeout=15_000)

    context.set_offline(False)
    assert page.console_errors == []
    context.close()
    assert BenefitUse.objects.count() == 0
