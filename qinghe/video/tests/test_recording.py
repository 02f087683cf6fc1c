"""Recording a video interview: only when both sides agreed (each side's consent stored on the
room), started, uploaded chunk by chunk and stopped by the interviewer side, stored encrypted at
rest, downloaded by the two sides and HR bureau staff only (audited), stopped at once when a
side withdraws, and deleted after the retention period by the scheduled purge. Every refusal
says why in Chinese and stores nothing."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.core.files.storage import default_storage
from django.test import Client, override_settings
from django.utils import timezone

from qinghe.core.crypto import decrypt_file
from qinghe.core.models import AuditLog
from qinghe.core.roles import Role
from qinghe.outreach.services import assignment_set
from qinghe.testing.recruiting import X_PHONE, claim_talent
from qinghe.testing.world import World
from qinghe.video import purge, services
from qinghe.video.models import VideoRecording, VideoRecordingChunk, VideoRoom

pytestmark = pytest.mark.django_db

WEBM = b"\x1a\x45\xdf\xa3" + "面试录像第一段".encode() * 50
MORE = "第二段的内容".encode() * 80


def _room(world: World) -> VideoRoom:
    return services.room_create(
        interviewer=world.hr_a, student=world.x, minutes=20, source=VideoRoom.Source.DIRECT
    )


def _client(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _url(room: VideoRoom, tail: str = "") -> str:
    return f"/video/{room.uuid}/{tail}"


def _agree(world: World, room: VideoRoom) -> None:
    for user in (world.hr_a, world.x):
        response = _client(user).post(_url(room, "recording-consent/"), {"agreed": "1"})
        assert response.status_code == 302


def _files(room: VideoRoom) -> list[str]:
    """The stored files of the room's recordings (the tests' in-memory storage outlives a
    test's database, so only this test's recordings' folders are looked at)."""
    found: list[str] = []
    for recording in VideoRecording.objects.filter(room=room):
        folder = f"video/{room.pk}/{recording.uuid.hex}"
        try:
            found += [f"{folder}/{name}" for name in default_storage.listdir(folder)[1]]
        except FileNotFoundError:
            continue
    return sorted(found)


def _start(user: Any, room: VideoRoom) -> Any:
    return _client(user).post(_url(room, "recordings/"), HTTP_ACCEPT="application/json")


def _chunk(user: Any, room: VideoRoom, recording: str, seq: int, data: bytes) -> Any:
    return _client(user).post(
        _url(room, f"recordings/{recording}/chunks/{seq}/"), data=data, content_type="video/webm"
    )


def test_consent_is_stored_per_side_audited_and_withdrawn(world: World) -> None:
    room = _room(world)
    response = _client(world.x).post(
        _url(room, "recording-consent/"), {"agreed": "1"}, HTTP_ACCEPT="application/json"
    )
    assert response.status_code == 200
    assert response.json() == {
        "type": "room.recording",
        "interviewer": False,
        "student": True,
        "recording": False,
    }
    room.refresh_from_db()
    assert room.student_recording_consent_at is not None
    assert room.interviewer_recording_consent_at is None
    assert room.recording_agreed is False
    _client(world.hr_a).post(_url(room, "recording-consent/"), {"agreed": "1"})
    room.refresh_from_db()
    assert room.recording_agreed is True
    assert list(
        AuditLog.objects.filter(target_type="video.videoroom", target_id=str(room.pk))
        .order_by("pk")
        .values_list("summary", flat=True)
    ) == ["开设视频面试间", "学生同意录制视频面试", "面试官同意录制视频面试"]
    _client(world.x).post(_url(room, "recording-consent/"), {"agreed": "0"})
    room.refresh_from_db()
    assert (room.student_recording_consent_at, room.recording_agreed) == (None, False)


@pytest.mark.parametrize("who", ["y", "hr_b"])
def test_outsiders_cannot_consent_and_nothing_changes(world: World, who: str) -> None:
    room = _room(world)
    response = _client(getattr(world, who)).post(
        _url(room, "recording-consent/"), {"agreed": "1"}, HTTP_ACCEPT="application/json"
    )
    assert response.status_code == 403
    assert response.json() == {"detail": "你不是本场视频面试的参与者，不能进入"}
    room.refresh_from_db()
    assert (room.interviewer_recording_consent_at, room.student_recording_consent_at) == (
        None,
        None,
    )


@pytest.mark.parametrize("agreeing", [(), ("x",), ("hr_a",)])
def test_without_both_agreeing_nothing_is_recorded(world: World, agreeing: tuple[str, ...]) -> None:
    room = _room(world)
    for who in agreeing:
        services.room_set_recording_consent(actor=getattr(world, who), room=room, agreed=True)
    response = _start(world.hr_a, room)
    assert response.status_code == 422
    assert response.json() == {"detail": "双方都同意录制后才能录制"}
    assert VideoRecording.objects.count() == 0
    assert _files(room) == []


def test_the_student_side_and_other_enterprises_cannot_start(world: World) -> None:
    room = _room(world)
    _agree(world, room)
    assert _start(world.x, room).status_code == 403  # the policy: enterprise HR only
    refused = _start(world.hr_b, room)
    assert (refused.status_code, refused.json()) == (
        403,
        {"detail": "你不是本场视频面试的参与者，不能进入"},
    )
    assert VideoRecording.objects.count() == 0


def test_a_recording_is_stored_encrypted_and_downloaded_by_the_sides_and_staff(
    world: World, personas: dict[str, Any]
) -> None:
    room = _room(world)
    _agree(world, room)
    before = timezone.now()
    started = _start(world.hr_a, room)
    after = timezone.now()
    assert started.status_code == 201
    uid = started.json()["recording"]
    assert started.json()["chunks"] == _url(room, f"recordings/{uid}/chunks/")
    assert started.json()["stop"] == _url(room, f"recordings/{uid}/stop/")
    recording = VideoRecording.objects.get()
    assert (recording.state, recording.started_by) == (VideoRecording.State.RECORDING, world.hr_a)
    assert before + dt.timedelta(days=90) <= recording.expires_at <= after + dt.timedelta(days=90)
    assert _start(world.hr_a, room).json() == {"detail": "本场面试正在录制"}

    assert _chunk(world.hr_a, room, uid, 0, WEBM).json() == {"seq": 0, "size": len(WEBM)}
    assert _chunk(world.hr_a, room, uid, 1, MORE).status_code == 201
    files = _files(room)
    assert files == [
        f"video/{room.pk}/{recording.uuid.hex}/000000.webm.enc",
        f"video/{room.pk}/{recording.uuid.hex}/000001.webm.enc",
    ]
    for name, plain in zip(files, (WEBM, MORE), strict=True):
        with default_storage.open(name, "rb") as handle:
            blob = handle.read()
        assert blob.startswith(b"QHF1")
        assert plain[:40] not in blob
        assert decrypt_file(blob, name=name) == plain

    stopped = _client(world.hr_a).post(_url(room, f"recordings/{uid}/stop/"))
    assert stopped.json() == {"state": "complete", "chunks": 2, "size": len(WEBM) + len(MORE)}
    # After the end, nothing more is taken.
    late = _chunk(world.hr_a, room, uid, 2, MORE)
    assert (late.status_code, late.json()) == (422, {"detail": "本次录制已结束"})

    for user in (world.x, world.hr_a, personas[Role.HR_STAFF], personas[Role.SYSADMIN]):
        response = _client(user).get(_url(room, f"recordings/{uid}/"))
        assert response.status_code == 200
        assert response["Content-Type"] == "video/webm"
        assert response["Content-Disposition"].startswith("attachment;")
        assert response.streaming is True
        assert response.getvalue() == WEBM + MORE
    downloads = AuditLog.objects.filter(action="export", target_id=str(recording.pk))
    assert list(downloads.order_by("pk").values_list("actor__username", "summary")) == [
        (world.x.username, "下载视频面试录像（学生）"),
        (world.hr_a.username, "下载视频面试录像（面试官）"),
        (personas[Role.HR_STAFF].username, "下载视频面试录像（工作人员）"),
        (personas[Role.SYSADMIN].username, "下载视频面试录像（工作人员）"),
    ]


def test_others_cannot_download_and_their_attempt_leaves_no_download(
    world: World, personas: dict[str, Any]
) -> None:
    room = _room(world)
    assignment_set(
        talent=claim_talent(world.x, name="李晓彤", seq="102", phone=X_PHONE),
        liaison=personas[Role.LIAISON],
        actor=None,
    )
    services.room_set_observers(actor=world.x, room=room, allowed=True)
    _agree(world, room)
    recording = services.recording_start(actor=world.hr_a, room=room)
    services.recording_add_chunk(actor=world.hr_a, recording=recording, seq=0, data=WEBM)
    path = _url(room, f"recordings/{recording.uuid}/")
    expected = {
        "y": 404,
        "hr_b": 404,
        "liaison": 403,  # may observe (the student agreed) but not download: the policy
        "auditor": 403,  # the policy
        "edu_staff": 403,
        "partner": 403,
    }
    users = {
        "y": world.y,
        "hr_b": world.hr_b,
        "liaison": personas[Role.LIAISON],
        "auditor": personas[Role.AUDITOR],
        "edu_staff": personas[Role.EDU_STAFF],
        "partner": personas[Role.PARTNER],
    }
    got = {name: _client(user).get(path).status_code for name, user in users.items()}
    assert got == expected
    assert AuditLog.objects.filter(action="export").count() == 0
    # Nor may anyone but the one recording add to it.
    statuses = [
        _chunk(user, room, str(recording.uuid), 1, MORE).status_code
        for user in (world.x, world.hr_b, personas[Role.HR_STAFF])
    ]
    assert statuses == [403, 404, 403]  # the policy, the selector, the policy
    recording.refresh_from_db()
    assert (recording.chunks, recording.size) == (1, len(WEBM))
    assert VideoRecordingChunk.objects.count() == 1


@pytest.mark.parametrize(
    ("seq", "data", "message"),
    [
        (3, WEBM, "录像片段顺序不对：应为第 0 段"),
        (0, b"not a webm file", "只接受 WebM 格式的录像"),
        (0, b"", "录像片段为空"),
        (0, WEBM[:4] + b"x" * (4 * 1024 * 1024), "录像片段不能超过 4 MB"),
    ],
)
def test_bad_chunks_are_refused_with_nothing_stored(
    world: World, seq: int, data: bytes, message: str
) -> None:
    room = _room(world)
    _agree(world, room)
    uid = _start(world.hr_a, room).json()["recording"]
    response = _chunk(world.hr_a, room, uid, seq, data)
    assert (response.status_code, response.json()) == (422, {"detail": message})
    assert _files(room) == []
    assert VideoRecordingChunk.objects.count() == 0
    assert VideoRecording.objects.values_list("chunks", "size").get() == (0, 0)


@override_settings(QINGHE_VIDEO_RECORDING_MAX_MB=1)
def test_a_recording_stops_taking_chunks_at_the_size_limit(world: World) -> None:
    room = _room(world)
    _agree(world, room)
    uid = _start(world.hr_a, room).json()["recording"]
    assert _chunk(world.hr_a, room, uid, 0, WEBM + b"x" * 600_000).status_code == 201
    response = _chunk(world.hr_a, room, uid, 1, b"y" * 600_000)
    assert (response.status_code, response.json()) == (422, {"detail": "录像超过大小上限，已停止"})
    assert len(_files(room)) == 1


@pytest.mark.parametrize("who", ["x", "hr_a"])
def test_withdrawing_stops_the_recording_and_refuses_further_chunks(world: World, who: str) -> None:
    room = _room(world)
    _agree(world, room)
    uid = _start(world.hr_a, room).json()["recording"]
    _chunk(world.hr_a, room, uid, 0, WEBM)
    _client(getattr(world, who)).post(_url(room, "recording-consent/"), {"agreed": "0"})
    recording = VideoRecording.objects.get()
    assert recording.state == VideoRecording.State.COMPLETE
    assert recording.finished_at is not None
    response = _chunk(world.hr_a, room, uid, 1, MORE)
    assert (response.status_code, response.json()) == (422, {"detail": "双方都同意录制后才能录制"})
    assert len(_files(room)) == 1
    assert _start(world.hr_a, room).json() == {"detail": "双方都同意录制后才能录制"}
    assert VideoRecording.objects.count() == 1


def test_the_purge_deletes_recordings_past_their_retention_and_only_those(world: World) -> None:
    room = _room(world)
    _agree(world, room)
    old = services.recording_start(actor=world.hr_a, room=room)
    services.recording_add_chunk(actor=world.hr_a, recording=old, seq=0, data=WEBM)
    services.recording_add_chunk(actor=world.hr_a, recording=old, seq=1, data=MORE)
    services.recording_stop(actor=world.hr_a, recording=old)
    new = services.recording_start(actor=world.hr_a, room=room)
    services.recording_add_chunk(actor=world.hr_a, recording=new, seq=0, data=WEBM)
    VideoRecording.objects.filter(pk=old.pk).update(
        expires_at=timezone.now() - dt.timedelta(minutes=1)
    )
    assert len(_files(room)) == 3

    result = purge.recordings_purge()
    assert (result.recordings, result.files) == (1, 2)
    old.refresh_from_db()
    assert (old.state, old.chunks, old.purged_at is not None) == (
        VideoRecording.State.PURGED,
        2,
        True,
    )
    assert old.pieces.count() == 0
    assert _files(room) == [f"video/{room.pk}/{new.uuid.hex}/000000.webm.enc"]
    assert (
        AuditLog.objects.filter(
            action="delete", target_id=str(old.pk), summary="删除超过保留期的视频面试录像（2 段）"
        ).count()
        == 1
    )
    # Idempotent; a purged recording is gone for downloads too.
    assert purge.recordings_purge() == purge.PurgeResult(recordings=0, files=0)
    response = _client(world.x).get(_url(room, f"recordings/{old.uuid}/"))
    assert response.status_code == 400
    assert "该录像已过保留期并已删除" in response.content.decode()


def test_the_room_page_lists_the_sides_recordings_and_staff_have_their_list(
    world: World, personas: dict[str, Any]
) -> None:
    room = _room(world)
    _agree(world, room)
    recording = services.recording_start(actor=world.hr_a, room=room)
    services.recording_add_chunk(actor=world.hr_a, recording=recording, seq=0, data=WEBM)
    services.recording_stop(actor=world.hr_a, recording=recording)
    link = f'href="{_url(room, f"recordings/{recording.uuid}/")}"'
    page = _client(world.x).get(_url(room)).content.decode()
    assert link in page and "下载录像" in page
    assert "录像加密保存 90 天后删除" in page
    listing = _client(personas[Role.HR_STAFF]).get("/video/recordings/")
    assert listing.status_code == 200
    assert link in listing.content.decode()
    assert "学生 李*" in listing.content.decode()


def test_every_role_against_every_recording_route(world: World, personas: dict[str, Any]) -> None:
    """The two sides are the enterprise HR persona (hr_a) and the student persona (x); every
    other role, and a visitor, is refused exactly as expected and changes nothing, except HR
    bureau staff and administrators, who may read recordings."""
    room = _room(world)
    _agree(world, room)
    recording = services.recording_start(actor=world.hr_a, room=room)
    services.recording_add_chunk(actor=world.hr_a, recording=recording, seq=0, data=WEBM)
    uid = recording.uuid
    routes = {
        "consent": ("post", _url(room, "recording-consent/")),
        "start": ("post", _url(room, "recordings/")),
        "chunk": ("post", _url(room, f"recordings/{uid}/chunks/1/")),
        "stop": ("post", _url(room, f"recordings/{uid}/stop/")),
        "download": ("get", _url(room, f"recordings/{uid}/")),
        "list": ("get", "/video/recordings/"),
    }
    refused = {
        "consent": 403,
        "start": 403,
        "chunk": 403,
        "stop": 403,
        "download": 403,
        "list": 403,
    }
    expected: dict[str, dict[str, int]] = {
        role: dict(refused)
        for role in (
            Role.AUDITOR,
            Role.EDU_STAFF,
            Role.LEAGUE_STAFF,
            Role.LIAISON,
            Role.PARTNER,
            Role.STATION_STAFF,
        )
    }
    expected[Role.AMBASSADOR] = {**refused, "download": 404}  # past the policy, not a side
    expected[Role.HR_STAFF] = {**refused, "download": 200, "list": 200}
    expected[Role.SYSADMIN] = {**refused, "download": 200, "list": 200}
    expected["anonymous"] = dict.fromkeys(routes, 302)

    def status(client: Client, method: str, path: str) -> int:
        if method == "get":
            return client.get(path).status_code
        return client.post(
            path, data=MORE, content_type="video/webm", HTTP_ACCEPT="application/json"
        ).status_code

    got = {
        role: {
            name: status(Client() if role == "anonymous" else _client(personas[role]), *route)
            for name, route in routes.items()
        }
        for role in expected
    }
    assert got == expected
    room.refresh_from_db()
    recording.refresh_from_db()
    assert room.recording_agreed is True
    assert (recording.state, recording.chunks, recording.size) == ("recording", 1, len(WEBM))
    assert VideoRecording.objects.count() == 1
    assert len(_files(room)) == 1
    assert AuditLog.objects.filter(action="export").count() == 2  # the two staff downloads

    # The two sides (personas too): what they may do, they do.
    assert personas[Role.ENTERPRISE_HR] == world.hr_a and personas[Role.STUDENT] == world.x
    assert status(_client(world.hr_a), *routes["chunk"]) == 201
    assert status(_client(world.hr_a), *routes["stop"]) == 200
    assert status(_client(world.x), "get", routes["download"][1]) == 200
    assert status(_client(world.x), "get", routes["list"][1]) == 403
