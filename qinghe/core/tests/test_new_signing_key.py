from __future__ import annotations

import io
import json

from django.core.management import call_command

from qinghe.cards.tokens import _keys


def test_the_printed_key_is_what_the_card_and_event_settings_accept() -> None:
    out = io.StringIO()
    call_command("new_signing_key", "card-2026-12", stdout=out)
    listed = json.loads(out.getvalue())
    assert [(k["kty"], k["crv"], k["kid"]) for k in listed] == [("OKP", "Ed25519", "card-2026-12")]
    assert set(listed[0]) == {"kty", "crv", "x", "d", "kid"}
    keys = _keys(out.getvalue())
    assert [k.kid for k in keys] == ["card-2026-12"]
    other = io.StringIO()
    call_command("new_signing_key", "card-2026-12", stdout=other)
    assert json.loads(other.getvalue())[0]["d"] != listed[0]["d"]
