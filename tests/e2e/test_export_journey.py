"""In a real Chromium: an HR officer exports a list longer than the background threshold,
lands on the export's page, watches the progress bar move while the worker writes the file
(htmx polling), then downloads it from the link that appears, masked."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from playwright.sync_api import expect

from qinghe.accounts.demo import DEMO_PASSWORD
from qinghe.accounts.demo import personas_ensure as make_persona_users
from qinghe.exports import services as export_services
from qinghe.exports.models import Export
from qinghe.talents import services as talent_services
from qinghe.talents.tests.factories import make_id, make_talent
from tests.e2e.conftest import sign_in

pytestmark = pytest.mark.django_db(transaction=True)

ROWS = 30


def test_a_large_export_shows_its_progress_then_the_download_link(
    page: Any, settings: Any, monkeypatch: Any, tmp_path: Path
) -> None:
    # The click only queues the task (the worker is this test, below); 10 rows a step.
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}
    settings.QINGHE_EXPORT_BACKGROUND_ROWS = 10
    monkeypatch.setattr(talent_services, "EXPORT_CHUNK", 10)
    make_persona_users()
    numbers = [make_id("440784", "20030512", f"{200 + i:03d}") for i in range(ROWS)]
    for i, number in enumerate(numbers):
        make_talent(name=f"陈{'一二三四五六七八九十'[i % 10]}", id_number=number, phone=None)

    sign_in(page, "renshe", DEMO_PASSWORD)
    page.goto("/talents/")
    page.get_by_test_id("export-masked").click()
    page.wait_for_url("**/exports/*/")
    export = Export.objects.get()
    bar = page.get_by_test_id("export-bar")
    expect(page.get_by_test_id("export-state")).to_have_text("排队中")
    expect(page.get_by_test_id("export-count")).to_have_text(f"已处理 0 / {ROWS} 行 · 0%")
    expect(bar).to_have_attribute("value", "0")
    assert page.get_by_test_id("export-download").count() == 0

    seen_on_screen: list[str] = []
    step = export_services._progress

    def worker_step(export_id: int, done: int, total: int) -> None:
        step(export_id, done, total)
        if 0 < done < total:
            # The worker pauses here until the page, polling on its own, shows this step.
            text = f"已处理 {done} / {total} 行 · {done * 100 // total}%"
            expect(page.get_by_test_id("export-count")).to_have_text(text, timeout=5000)
            expect(page.get_by_test_id("export-state")).to_have_text("生成中")
            seen_on_screen.append(text)

    monkeypatch.setattr(export_services, "_progress", worker_step)
    export_services.export_run(export_id=export.pk)

    assert seen_on_screen == ["已处理 10 / 30 行 · 33%", "已处理 20 / 30 行 · 66%"]
    link = page.get_by_test_id("export-download")
    expect(link).to_be_visible(timeout=5000)
    expect(page.get_by_test_id("export-state")).to_have_text("已完成")
    expect(bar).to_have_attribute("value", "100")
    with page.expect_download() as info:
        link.click()
    target = tmp_path / "export.xlsx"
    info.value.save_as(target)
    sheet = openpyxl.load_workbook(io.BytesIO(target.read_bytes())).active
    rows = [[c.value for c in row] for row in sheet.iter_rows()]
    assert len(rows) == ROWS + 1
    assert sorted(r[2] for r in rows[1:]) == sorted(f"440784********{n[-4:]}" for n in numbers)
    assert {r[0] for r in rows[1:]} == {"陈*"}
    assert page.console_errors == []
