"""The talent list export in the background: a list longer than the threshold is queued, its
progress moves, the file is the same masked workbook as the immediate export, only its owner
downloads it (audited), the owner is told in 我的消息, a failure says why in Chinese, and the
file is deleted after its expiry."""

from __future__ import annotations

import datetime as dt
import io
from typing import Any

import openpyxl
import pytest
from django.db import connection
from django.test import Client
from django.utils import timezone

from qinghe.accounts.models import User
from qinghe.core.models import AuditLog
from qinghe.core.roles import Role
from qinghe.exports import services as export_services
from qinghe.exports import storage
from qinghe.exports.models import Export
from qinghe.exports.services import export_run, exports_purge
from qinghe.notifications.models import Channel, OutboxMessage
from qinghe.talents import services as talent_services
from qinghe.talents.models import Talent
from qinghe.talents.tests.factories import make_id, make_talent

pytestmark = pytest.mark.django_db

ROWS = 12
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
GIVEN = "嘉怡晓彤志伟浩然诗婷文静俊杰子涵永康国强乐乐敏敏"


def talent_ids() -> list[str]:
    return [make_id("440784", "20030512", f"{100 + i:03d}") for i in range(ROWS)]


def phones() -> list[str]:
    return [f"1391234{5000 + i:04d}" for i in range(ROWS)]


@pytest.fixture(autouse=True)
def empty_export_storage() -> None:
    """The tests' in-memory storage lives as long as the process: start each test empty."""
    for name in storage.walk():
        storage.delete(name)


@pytest.fixture
def talents(settings: Any) -> list[Talent]:
    """Twelve 2026 graduates with ID numbers and phones; the threshold is five rows."""
    settings.QINGHE_EXPORT_BACKGROUND_ROWS = 5
    return [
        make_talent(name=f"黄{GIVEN[i]}", id_number=number, phone=phone, graduation_year=2026)
        for i, (number, phone) in enumerate(zip(talent_ids(), phones(), strict=True))
    ]


def sheet_rows(content: bytes) -> list[list[Any]]:
    sheet = openpyxl.load_workbook(io.BytesIO(content)).active
    return [[c.value for c in row] for row in sheet.iter_rows()]


def queue(client: Any, capture: Any, **fields: str) -> Export:
    """Presses the list page's export button; the immediate test backend runs the task when
    the request's transaction commits."""
    with capture(execute=True):
        response = client.post("/talents/export/", {"graduation_year": "2026", **fields})
    export = Export.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/exports/{export.pk}/"
    return export


def test_a_long_list_is_exported_in_the_background_masked_exactly_like_the_immediate_export(
    talents: list[Talent], client_as: Any, personas: Any, django_capture_on_commit_callbacks: Any
) -> None:
    client = client_as(Role.HR_STAFF)
    export = queue(client, django_capture_on_commit_callbacks)
    export.refresh_from_db()
    assert (export.state, export.rows_done, export.rows_total, export.unmasked) == (
        "done",
        ROWS,
        ROWS,
        False,
    )
    assert export.owner == personas[Role.HR_STAFF]
    assert export.description == "人才名单（2026 届）"
    assert export.finished_at is not None
    assert export.expires_at == export.finished_at + dt.timedelta(hours=24)
    # Encrypted at rest.
    with storage.default_storage.open(export.file_name, "rb") as handle:
        blob = handle.read()
    assert export.file_name.startswith(f"exports/{export.pk}/") and blob[:4] != b"PK\x03\x04"

    page = client.get(f"/exports/{export.pk}/").content.decode()
    assert 'data-state="done"' in page and "hx-trigger" not in page
    assert f'href="/exports/{export.pk}/download/"' in page
    response = client.get(f"/exports/{export.pk}/download/")
    assert response.status_code == 200 and response["Content-Type"] == XLSX
    assert response["X-Row-Count"] == str(ROWS)
    rows = sheet_rows(response.content)

    # The immediate export of the same list, computed the same way, is the same workbook.
    immediate, count = talent_services.talents_export(
        viewer=personas[Role.HR_STAFF],
        filters=talent_services.TalentFilter.from_query({"graduation_year": "2026"}),
        unmask=False,
    )
    assert count == ROWS
    assert rows == sheet_rows(immediate)
    assert len(rows) == ROWS + 1
    assert rows[0] == [
        "姓名", "性别", "身份证号", "手机号", "院校", "专业", "学历", "毕业年份", "状态",
        "鹤山籍依据", "镇街",
    ]  # fmt: skip
    assert sorted(r[0] for r in rows[1:]) == sorted(f"黄{'*'}" for _ in range(ROWS))
    assert sorted(r[2] for r in rows[1:]) == sorted(f"440784********{n[-4:]}" for n in talent_ids())
    assert sorted(r[3] for r in rows[1:]) == sorted(f"{p[:3]}****{p[-4:]}" for p in phones())
    flat = " ".join(str(v) for r in rows for v in r if v)
    for secret in (*talent_ids(), *phones(), "黄嘉怡"):
        assert secret not in flat

    # Audited: the export when it was written, each download.
    made, downloaded = AuditLog.objects.filter(action="export").order_by("id")[:2]
    assert (made.count, made.summary, made.actor_label) == (
        ROWS,
        f"导出人才名单 {ROWS} 条（脱敏）",
        "renshe",
    )
    assert (downloaded.target_type, downloaded.target_id, downloaded.count) == (
        "exports.export",
        str(export.pk),
        ROWS,
    )
    assert downloaded.summary == "下载导出文件：人才名单（2026 届）（脱敏）"
    assert AuditLog.objects.filter(action="export").count() == 3  # + the immediate one above
    export.refresh_from_db()
    assert export.downloads == 1

    # The owner is told in 我的消息, with a link to the export.
    message = OutboxMessage.objects.get(user=personas[Role.HR_STAFF], channel=Channel.INBOX)
    assert message.subject == "【青鹤】导出文件已生成：人才名单"
    assert message.data == {"url": f"/exports/{export.pk}/"}
    assert message.body.startswith(f"人才名单（2026 届），共 {ROWS} 条。请在 ")


def test_a_short_list_stays_immediate_and_queues_nothing(
    talents: list[Talent], client_as: Any, settings: Any
) -> None:
    settings.QINGHE_EXPORT_BACKGROUND_ROWS = ROWS
    response = client_as(Role.HR_STAFF).post("/talents/export/", {"graduation_year": "2026"})
    assert response.status_code == 200 and response["X-Row-Count"] == str(ROWS)
    assert Export.objects.count() == 0


def test_the_progress_moves_chunk_by_chunk_and_the_page_polls_until_done(
    talents: list[Talent],
    client_as: Any,
    personas: Any,
    monkeypatch: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    client = client_as(Role.HR_STAFF)
    monkeypatch.setattr(talent_services, "EXPORT_CHUNK", 5)
    seen: list[tuple[int, int, str]] = []
    pages: list[str] = []
    step = export_services._progress

    def watched(export_id: int, done: int, total: int) -> None:
        step(export_id, done, total)
        export = Export.objects.get(pk=export_id)
        seen.append((export.rows_done, export.rows_total, export.state))
        pages.append(client.get(f"/exports/{export_id}/progress/").content.decode())

    monkeypatch.setattr(export_services, "_progress", watched)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = client.post("/talents/export/", {"graduation_year": "2026"})
    export = Export.objects.get()
    assert response["Location"] == f"/exports/{export.pk}/"
    queued = client.get(f"/exports/{export.pk}/").content.decode()
    assert 'data-state="queued"' in queued
    assert f'hx-get="/exports/{export.pk}/progress/" hx-trigger="every 1s"' in queued
    assert f"已处理 0 / {ROWS} 行 · 0%" in queued

    for callback in callbacks:
        callback()

    assert seen == [
        (0, ROWS, "running"),
        (5, ROWS, "running"),
        (10, ROWS, "running"),
        (12, ROWS, "running"),
    ]
    assert "已处理 5 / 12 行 · 41%" in pages[1] and 'value="41"' in pages[1]
    assert "已处理 10 / 12 行 · 83%" in pages[2]
    assert all('hx-trigger="every 1s"' in page for page in pages)
    done = client.get(f"/exports/{export.pk}/progress/").content.decode()
    assert "hx-trigger" not in done and "已处理 12 / 12 行 · 100%" in done


def test_another_user_cannot_see_or_download_an_export_and_nothing_changes(
    talents: list[Talent], client_as: Any, django_capture_on_commit_callbacks: Any
) -> None:
    export = queue(client_as(Role.HR_STAFF), django_capture_on_commit_callbacks)
    export.refresh_from_db()
    audit_before = AuditLog.objects.exclude(action="login").count()
    other = User.objects.create(username="renshe2", role=Role.HR_STAFF)
    for client in (client_as(Role.SYSADMIN), client_as(Role.EDU_STAFF)):
        for path in ("", "progress/", "download/"):
            assert client.get(f"/exports/{export.pk}/{path}").status_code == 404
    colleague = Client()
    colleague.force_login(other)
    assert colleague.get(f"/exports/{export.pk}/download/").status_code == 404
    listing = colleague.get("/exports/").content.decode()
    assert "还没有导出" in listing and f"/exports/{export.pk}/" not in listing
    assert client_as(Role.STUDENT).get(f"/exports/{export.pk}/download/").status_code == 403
    assert AuditLog.objects.exclude(action="login").count() == audit_before
    after = Export.objects.get(pk=export.pk)
    assert (after.downloads, after.state, after.file_name) == (0, "done", export.file_name)


def test_a_search_by_id_number_is_sealed_in_the_table_and_masked_on_the_page(
    talents: list[Talent], client_as: Any, settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    settings.QINGHE_EXPORT_BACKGROUND_ROWS = 0  # even one row goes to the background here
    number = talent_ids()[3]
    client = client_as(Role.HR_STAFF)
    with django_capture_on_commit_callbacks(execute=True):
        client.post("/talents/export/", {"q": number})
    export = Export.objects.get()
    assert (export.state, export.rows_done) == ("done", 1)
    assert export.params["filters"] == {"q": number}
    assert export.description == f"人才名单（查找：440784********{number[-4:]}）"
    with connection.cursor() as cursor:
        cursor.execute("SELECT params, description FROM exports_export")
        stored = " ".join(str(v) for v in cursor.fetchone())
    assert number not in stored and "sealed" in stored
    made = AuditLog.objects.get(action="export")
    assert made.data == {"filters": {"q": f"440784********{number[-4:]}"}, "unmasked": False}
    page = client.get(f"/exports/{export.pk}/").content.decode()
    assert number not in page and f"440784********{number[-4:]}" in page


def test_a_full_export_in_the_background_needs_the_permission_and_a_reason(
    talents: list[Talent], client_as: Any, django_capture_on_commit_callbacks: Any
) -> None:
    edu = client_as(Role.EDU_STAFF)
    with django_capture_on_commit_callbacks(execute=True):
        refused = edu.post(
            "/talents/export/", {"graduation_year": "2026", "unmask": "1", "reason": "核对"}
        )
        no_reason = client_as(Role.HR_STAFF).post("/talents/export/", {"unmask": "1"})
    assert refused.status_code == 302 and no_reason.status_code == 302
    assert Export.objects.count() == 0 and not AuditLog.objects.filter(action="export").exists()

    hr = client_as(Role.HR_STAFF)
    export = queue(hr, django_capture_on_commit_callbacks, unmask="1", reason="补贴核对")
    rows = sheet_rows(hr.get(f"/exports/{export.pk}/download/").content)
    assert sorted(r[2] for r in rows[1:]) == sorted(talent_ids())
    assert sorted(r[3] for r in rows[1:]) == sorted(phones())
    made = AuditLog.objects.filter(action="export").order_by("id").first()
    assert made is not None and (made.reason, made.data["unmasked"]) == ("补贴核对", True)


def test_a_failure_is_shown_in_chinese_and_the_owner_is_told(
    talents: list[Talent], client_as: Any, personas: Any, django_capture_on_commit_callbacks: Any
) -> None:
    hr = personas[Role.HR_STAFF]
    client = client_as(Role.HR_STAFF)
    with django_capture_on_commit_callbacks(execute=False):
        client.post(
            "/talents/export/", {"graduation_year": "2026", "unmask": "1", "reason": "补贴核对"}
        )
    export = Export.objects.get()
    # The owner's role changed before the worker started: the full export is refused now.
    User.objects.filter(pk=hr.pk).update(role=Role.LEAGUE_STAFF)

    export_run(export_id=export.pk)

    export.refresh_from_db()
    assert (export.state, export.error, export.file_name) == ("failed", "无权导出完整个人信息", "")
    assert storage.walk() == []
    assert not AuditLog.objects.filter(action="export").exists()
    message = OutboxMessage.objects.get(user=hr, channel=Channel.INBOX)
    assert message.subject == "【青鹤】导出未完成：人才名单"
    assert message.body == "人才名单（2026 届）：无权导出完整个人信息"
    page = client.get(f"/exports/{export.pk}/").content.decode()
    assert "导出未完成：无权导出完整个人信息" in page and "download" not in page
    assert client.get(f"/exports/{export.pk}/download/").status_code == 404
    # A second run does nothing: the export is not queued any more.
    assert export_run(export_id=export.pk).state == "failed"
    assert OutboxMessage.objects.filter(user=hr).count() == 1


def test_a_get_of_a_long_list_asks_to_confirm_and_writes_nothing(
    talents: list[Talent], client_as: Any
) -> None:
    response = client_as(Role.HR_STAFF).get("/talents/export/", {"graduation_year": "2026"})
    html = response.content.decode()
    assert response.status_code == 200
    assert "共 <strong>12</strong> 行，将在后台生成" in html
    assert '<input type="hidden" name="graduation_year" value="2026">' in html
    assert Export.objects.count() == 0 and not AuditLog.objects.filter(action="export").exists()


def test_expired_files_are_purged_and_a_worker_that_died_is_reported(
    talents: list[Talent], client_as: Any, personas: Any, django_capture_on_commit_callbacks: Any
) -> None:
    client = client_as(Role.HR_STAFF)
    export = queue(client, django_capture_on_commit_callbacks)
    export.refresh_from_db()
    lost = Export.objects.create(
        owner=personas[Role.HR_STAFF],
        kind="talents",
        description="人才名单（全部）",
        state=Export.State.RUNNING,
        rows_done=500,
        rows_total=22800,
        heartbeat_at=timezone.now() - dt.timedelta(minutes=16),
    )
    assert exports_purge().summary_line == "files=0 lost=1 orphans=0"
    assert storage.default_storage.exists(export.file_name)
    lost.refresh_from_db()
    assert (lost.state, lost.error) == ("failed", "后台任务中断（生成过程中服务重启），请重新导出")

    assert export.expires_at is not None
    later = export.expires_at + dt.timedelta(seconds=1)
    assert exports_purge(now=later).summary_line == "files=1 lost=0 orphans=0"
    assert not storage.default_storage.exists(export.file_name)
    export.refresh_from_db()
    assert export.purged_at == later
    assert client.get(f"/exports/{export.pk}/download/").status_code == 404
    page = client.get(f"/exports/{export.pk}/").content.decode()
    assert 'data-testid="export-expired"' in page and "download/" not in page
    assert exports_purge(now=later).summary_line == "files=0 lost=0 orphans=0"
