"""Offline check-in at the door: codes signed with Ed25519 that a phone verifies with the
public key alone, the list a door phone downloads, and the idempotent sync of its queue."""

from __future__ import annotations

import base64
import datetime as dt
import json
from typing import Any

import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from django.test import Client, override_settings
from django.utils import timezone

from qinghe.core.errors import ApplicationError, NotFound
from qinghe.core.models import AuditLog
from qinghe.core.roles import Role
from qinghe.events import checkin, services
from qinghe.events.checkin import InvalidCode, make_code, public_jwks, read_code
from qinghe.events.models import Event, Registration
from qinghe.events.services import SyncItem, checkins_sync
from qinghe.outreach.models import ContactLog

from .conftest import World
from .factories import NOW, at, make_event, make_student

pytestmark = pytest.mark.django_db


def b64d(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def b64e(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def confirmed(world: World, username: str, event: Event | None = None, **kw: Any) -> Registration:
    user = make_student(username, **kw)
    return services.registration_create(user=user, event=event or world.talk, now=NOW).registration


def attended_state(event: Event) -> list[tuple[int, Any, Any, Any]]:
    return list(
        Registration.objects.filter(event=event)
        .order_by("id")
        .values_list("id", "attended_at", "checked_in_by_id", "checkin_synced_at")
    )


# ---- the code ------------------------------------------------------------------------------


def test_a_code_is_a_compact_jws_that_the_public_key_alone_verifies() -> None:
    code = make_code(registration_id=12, event_id=34)
    assert code.startswith("QHE2:")
    header, payload, signature = code[len("QHE2:") :].split(".")
    assert json.loads(b64d(header)) == {"alg": "EdDSA", "kid": public_jwks()["keys"][0]["kid"]}
    assert json.loads(b64d(payload)) == {"r": 12, "e": 34}
    # What the phone does: verify with nothing but the published x.
    (jwk,) = public_jwks()["keys"]
    assert set(jwk) == {"kty", "crv", "x", "kid", "use", "alg"}  # never "d"
    public = Ed25519PublicKey.from_public_bytes(b64d(jwk["x"]))
    public.verify(b64d(signature), f"{header}.{payload}".encode())
    with pytest.raises(InvalidSignature):
        changed = b64e(b'{"r":13,"e":34}')
        public.verify(b64d(signature), f"{header}.{changed}".encode())
    assert read_code(code) == checkin.CodePayload(registration_id=12, event_id=34)


def test_forged_and_changed_codes_are_refused() -> None:
    code = make_code(registration_id=12, event_id=34)
    header, payload, signature = code[len("QHE2:") :].split(".")
    other_payload = b64e(json.dumps({"r": 13, "e": 34}, separators=(",", ":")).encode())
    # a key that is not ours, with our kid in the header
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    stranger = Ed25519PrivateKey.generate()
    forged_sig = b64e(stranger.sign(f"{header}.{other_payload}".encode()))
    none_header = b64e(b'{"alg":"none"}')
    for bad in (
        f"QHE2:{header}.{other_payload}.{signature}",  # payload changed, signature kept
        f"QHE2:{header}.{other_payload}.{forged_sig}",  # signed by a stranger
        f"QHE2:{none_header}.{payload}.",  # unsigned
        f"QHE2:{header}.{payload}",  # signature dropped
        "QHE2:" + "a" * 700,  # too long
        "",
    ):
        with pytest.raises(InvalidCode):
            read_code(bad)


def test_a_new_key_first_still_reads_codes_of_the_old_one() -> None:
    old = checkin._dev_key()
    code = make_code(registration_id=5, event_id=6)
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    seed = bytes(range(32))
    x = Ed25519PrivateKey.from_private_bytes(seed).public_key().public_bytes_raw()
    new = {"kty": "OKP", "crv": "Ed25519", "x": b64e(x), "d": b64e(seed), "kid": "ev-2027"}
    with override_settings(QINGHE_EVENT_SIGNING_KEYS=json.dumps([new, old])):
        assert read_code(code).registration_id == 5
        fresh = make_code(registration_id=7, event_id=6)
        assert json.loads(b64d(fresh[5:].split(".")[0]))["kid"] == "ev-2027"
        assert [k["kid"] for k in public_jwks()["keys"]] == ["ev-2027", old["kid"]]
    with override_settings(QINGHE_EVENT_SIGNING_KEYS=json.dumps([new])):
        with pytest.raises(InvalidCode):
            read_code(code)


def test_a_code_of_the_first_hmac_format_still_checks_in_online(world: World) -> None:
    from django.core import signing

    reg = confirmed(world, "x")
    legacy = "QHE:" + signing.dumps({"r": reg.pk, "e": world.talk.pk}, salt=checkin.SALT)
    result = services.registration_check_in(
        actor=world.staff, event=world.talk, code=legacy, now=at(days=10)
    )
    assert (result.already, result.registration.attended_at) == (False, at(days=10))


# ---- what the phone downloads ----------------------------------------------------------------


def test_the_door_phone_gets_public_keys_and_confirmed_masked_names_only(
    world: World, client_as: Any
) -> None:
    x = confirmed(world, "x")
    y = confirmed(world, "y")
    confirmed(world, "z")  # waitlisted: two places
    services.registration_check_in(
        actor=world.staff,
        event=world.talk,
        code=make_code(registration_id=y.pk, event_id=world.talk.pk),
        now=at(days=10),
    )
    response = client_as(Role.LEAGUE_STAFF).get(f"/events/{world.talk.pk}/checkin/offline.json")
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    data = response.json()
    assert data["event"] == {"id": world.talk.pk, "title": world.talk.title}
    assert data["keys"] == public_jwks()["keys"]
    assert all("d" not in key for key in data["keys"])
    assert data["registrations"] == [
        {"id": x.pk, "name": "学**", "attended_at": None},
        {"id": y.pk, "name": "学**", "attended_at": at(days=10).isoformat()},
    ]
    body = response.content.decode()
    assert "学子x" not in body and "学子y" not in body and "学子z" not in body


def test_another_events_list_is_not_reachable_by_an_enterprise(
    world: World, client_as: Any
) -> None:
    confirmed(world, "x")
    assert client_as(Role.ENTERPRISE_HR).get(
        f"/events/{world.talk.pk}/checkin/offline.json"
    ).status_code in (403, 404)


# ---- the sync -------------------------------------------------------------------------------


def test_sync_records_each_check_in_once_with_its_offline_time(world: World) -> None:
    x = confirmed(world, "x", talent=True)
    y = confirmed(world, "y")
    code_x = make_code(registration_id=x.pk, event_id=world.talk.pk)
    code_y = make_code(registration_id=y.pk, event_id=world.talk.pk)
    scanned_x, scanned_y = at(days=10, minutes=3), at(days=10, minutes=4)
    synced = at(days=10, hours=1)
    items = [SyncItem(code_x, scanned_x), SyncItem(code_y, scanned_y), SyncItem(code_x, scanned_y)]
    outcomes = checkins_sync(actor=world.league, event=world.talk, items=items, now=synced)
    assert [(o.index, o.status, o.registration_id) for o in outcomes] == [
        (0, "recorded", x.pk),
        (1, "recorded", y.pk),
        (2, "already", x.pk),
    ]
    assert outcomes[2].message.endswith("；离线记录未重复计入")
    state = attended_state(world.talk)
    assert state == [
        (x.pk, scanned_x, world.league.pk, synced),
        (y.pk, scanned_y, world.league.pk, synced),
    ]
    assert ContactLog.objects.filter(talent__user=x.user).count() == 1
    assert ContactLog.objects.get(talent__user=x.user).contacted_at == scanned_x
    assert AuditLog.objects.filter(summary__contains="离线签到").count() == 2

    # The same queue sent again (its answer lost on the way): nothing changes.
    again = checkins_sync(
        actor=world.staff, event=world.talk, items=items, now=at(days=10, hours=2)
    )
    assert [o.status for o in again] == ["already", "already", "already"]
    assert attended_state(world.talk) == state
    assert ContactLog.objects.count() == 1
    assert AuditLog.objects.filter(summary__contains="离线签到").count() == 2


def test_sync_reports_conflicts_in_chinese_and_records_the_rest(world: World) -> None:
    x = confirmed(world, "x")
    y = confirmed(world, "y")
    other = make_event(world.a.organisation, title="另一场")
    w = confirmed(world, "w", event=other)
    # y cancelled after the phone downloaded its list
    services.registration_cancel(user=y.user, event=world.talk, now=NOW)
    code_x = make_code(registration_id=x.pk, event_id=world.talk.pk)
    header, _payload, sig = code_x[5:].split(".")
    forged = f"QHE2:{header}.{b64e(json.dumps({'r': y.pk, 'e': world.talk.pk}).encode())}.{sig}"
    now = at(days=10, hours=1)
    items = [
        SyncItem(make_code(registration_id=y.pk, event_id=world.talk.pk), at(days=10)),
        SyncItem(make_code(registration_id=w.pk, event_id=other.pk), at(days=10)),
        SyncItem(forged, at(days=10)),
        SyncItem(code_x, now + dt.timedelta(minutes=6)),
        SyncItem(code_x, world.talk.starts_at - dt.timedelta(hours=13)),
        SyncItem(code_x, at(days=10, minutes=1)),
    ]
    outcomes = checkins_sync(actor=world.staff, event=world.talk, items=items, now=now)
    assert [(o.status, o.message) for o in outcomes] == [
        ("refused", "该报名已取消，不能签到"),
        ("refused", "该签到码不属于本活动"),
        ("refused", "签到码无效，请让学子打开“我的活动”重新出示二维码"),
        ("refused", "离线签到时间晚于服务器当前时间，请校准手机时间"),
        ("refused", "离线签到时间早于活动开始前 12 小时"),
        (
            "recorded",
            f"学子x 签到成功（{timezone.localtime(at(days=10, minutes=1)):%Y-%m-%d %H:%M}）",
        ),
    ]
    assert [r for r in attended_state(world.talk) if r[1] is not None] == [
        (x.pk, at(days=10, minutes=1), world.staff.pk, now)
    ]
    assert Registration.objects.get(pk=w.pk).attended_at is None


def test_only_event_staff_sync_and_a_batch_too_long_changes_nothing(
    world: World, personas: dict
) -> None:
    x = confirmed(world, "x")
    item = SyncItem(make_code(registration_id=x.pk, event_id=world.talk.pk), at(days=10))
    for role in (Role.ENTERPRISE_HR, Role.LIAISON, Role.STUDENT):
        with pytest.raises(NotFound):
            checkins_sync(actor=personas[role], event=world.talk, items=[item], now=at(days=10))
    with pytest.raises(ApplicationError) as exc:
        checkins_sync(actor=world.staff, event=world.talk, items=[item] * 501, now=at(days=10))
    assert exc.value.message == "一次最多同步 500 条离线签到，请分批同步"
    assert Registration.objects.get(pk=x.pk).attended_at is None


def test_the_sync_endpoint_answers_per_item_and_refuses_a_broken_body(
    world: World, personas: dict
) -> None:
    real_now = timezone.now()
    live = make_event(
        world.a.organisation,
        now=real_now - dt.timedelta(days=1),
        title="鹤山青年人才分享会",
        starts_at=real_now - dt.timedelta(minutes=30),
        registration_closes_at=real_now + dt.timedelta(hours=1),
    )
    reg = services.registration_create(user=make_student("x"), event=live).registration
    staff = Client(enforce_csrf_checks=True)
    staff.force_login(world.league)
    page = staff.get(f"/events/{live.pk}/checkin/")
    token = page.cookies["csrftoken"].value if "csrftoken" in page.cookies else ""
    url = f"/events/{live.pk}/checkin/sync/"
    scanned = timezone.now() - dt.timedelta(minutes=1)
    body = {
        "checkins": [
            {"code": make_code(registration_id=reg.pk, event_id=live.pk), "at": scanned.isoformat()}
        ]
    }
    # without the CSRF token: refused, nothing changed
    refused = staff.post(url, body, content_type="application/json")
    assert refused.status_code == 403
    assert Registration.objects.get(pk=reg.pk).attended_at is None
    for bad, message in (
        (b"not json", "同步内容不是有效的 JSON"),
        (b'{"items": []}', "同步内容缺少离线签到列表"),
        (
            b'{"checkins": [{"code": "x", "at": "2026-05-10 09:00"}]}',
            "第 1 条离线签到缺少签到码或带时区的签到时间",
        ),
    ):
        answer = staff.post(
            url, bad, content_type="application/json", headers={"X-CSRFToken": token}
        )
        assert (answer.status_code, answer.json()) == (400, {"detail": message})
    assert Registration.objects.get(pk=reg.pk).attended_at is None
    ok = staff.post(url, body, content_type="application/json", headers={"X-CSRFToken": token})
    assert ok.status_code == 200
    assert ok.json()["results"][0]["status"] == "recorded"
    assert ok.json()["attended"] == 1
    again = staff.post(url, body, content_type="application/json", headers={"X-CSRFToken": token})
    assert [r["status"] for r in again.json()["results"]] == ["already"]
    reg.refresh_from_db()
    assert reg.attended_at == scanned
    assert reg.checkin_synced_at is not None


def test_the_service_worker_is_served_from_events_with_its_scope(client: Client) -> None:
    response = client.get("/events/checkin-sw.js")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/javascript")
    assert response["Service-Worker-Allowed"] == "/events/"
    assert "qinghe-checkin-v1" in response.content.decode()
    page_js = open("static/js/events-checkin-offline.js", encoding="utf-8").read()
    assert 'var CACHE = "qinghe-checkin-v1"' in page_js
