"""The survey import pages: upload (the task runs inline under the test settings), the batch
page and its htmx progress partial, the rejected rows download, and who may see what."""

from __future__ import annotations

import io
from typing import Any

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from qinghe.core.models import AuditLog
from qinghe.talents.importing import files
from qinghe.talents.models import ImportBatch, Talent

from .fixtures import surveys
from .fixtures.surveys import MESSY_LINE, MESSY_REJECTED

pytestmark = pytest.mark.django_db

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@pytest.fixture(autouse=True)
def reference(db: Any) -> None:
    surveys.load_reference_sample()


def upload(
    client: Any, data: bytes, *, name: str = "调查表.xlsx", source: str = "教育局调查"
) -> Any:
    return client.post(
        reverse("talents:import_list"),
        {"source_name": source, "file": SimpleUploadedFile(name, data, content_type=XLSX)},
    )


@pytest.mark.parametrize("role", ["hr_staff", "edu_staff", "sysadmin"])
def test_importers_upload_a_survey_and_see_it_finish(
    client_as: Any, personas: Any, role: str
) -> None:
    client = client_as(role)

    response = upload(client, surveys.messy_xlsx())

    batch = ImportBatch.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("talents:import_detail", args=[batch.pk])
    assert (batch.state, batch.summary_line, batch.created_by) == (
        "done",
        MESSY_LINE,
        personas[role],
    )
    assert batch.stored_path == f"imports/uploads/{batch.file_sha256}.xlsx.enc"
    page = client.get(response["Location"])
    assert page.status_code == 200
    html = page.content.decode()
    assert "对账：共 14 行 = 新建 9 + 更新 1 + 未变 1 + 拒绝 3；其中待跟进 2 行" in html
    assert MESSY_LINE == "rows=14 created=9 updated=1 unchanged=1 rejected=3 flagged=2"
    assert "辅导员" in html
    assert reverse("talents:import_rejected", args=[batch.pk]) in html
    assert 'style="' not in html
    listing = client.get(reverse("talents:import_list")).content.decode()
    assert MESSY_LINE in listing


def test_the_progress_partial_polls_while_running_and_stops_when_done(
    client_as: Any, personas: Any
) -> None:
    batch = ImportBatch.objects.create(
        source_name="教育局调查",
        file_name="a.xlsx",
        file_sha256="0" * 64,
        state=ImportBatch.State.RUNNING,
        total_rows=200,
        rows_done=50,
        created_by=personas["hr_staff"],
    )
    client = client_as("hr_staff")

    running = client.get(reverse("talents:import_progress", args=[batch.pk])).content.decode()

    assert 'hx-trigger="every 1s"' in running
    assert f'hx-get="{reverse("talents:import_progress", args=[batch.pk])}"' in running
    assert '<progress class="w-100 mb-3" max="100" value="25"' in running
    assert "<script" not in running and 'style="' not in running

    ImportBatch.objects.filter(pk=batch.pk).update(
        state=ImportBatch.State.DONE, rows_done=200, created=200
    )
    done = client.get(reverse("talents:import_progress", args=[batch.pk])).content.decode()
    assert "hx-trigger" not in done
    assert (
        '<p class="mb-2" data-testid="reconciliation">'
        "对账：共 200 行 = 新建 200 + 更新 0 + 未变 0 + 拒绝 0</p>"
    ) in done
    assert "rows=" not in done and "created=" not in done


def test_a_failed_batch_says_how_to_resume(client_as: Any, personas: Any) -> None:
    batch = ImportBatch.objects.create(
        source_name="教育局调查",
        file_name="a.xlsx",
        file_sha256="0" * 64,
        state=ImportBatch.State.FAILED,
        rows_done=4000,
        error="导入中断：OperationalError",
        created_by=personas["edu_staff"],
    )
    html = (
        client_as("edu_staff")
        .get(reverse("talents:import_detail", args=[batch.pk]))
        .content.decode()
    )
    assert "导入中断：OperationalError" in html
    assert "以相同来源重新上传同一文件，将从中断处继续" in html


def test_the_rejected_rows_download_is_the_xlsx_and_is_audited(client_as: Any) -> None:
    client = client_as("hr_staff")
    upload(client, surveys.messy_xlsx())
    batch = ImportBatch.objects.get()

    response = client.get(reverse("talents:import_rejected", args=[batch.pk]))

    assert response.status_code == 200
    assert response["Content-Type"] == XLSX
    assert f'filename="rejected-{batch.pk}.xlsx"' in response["Content-Disposition"]
    workbook = openpyxl.load_workbook(
        io.BytesIO(b"".join(response.streaming_content)), read_only=True
    )
    rows = list(workbook.active.iter_rows(values_only=True))
    assert [(row[-2], row[-1]) for row in rows[1:]] == list(MESSY_REJECTED.items())
    entry = AuditLog.objects.get(action="export")
    assert (entry.target_id, entry.count, entry.actor_role) == (str(batch.pk), 3, "hr_staff")


def test_education_staff_see_only_their_own_batches(client_as: Any, personas: Any) -> None:
    upload(client_as("hr_staff"), surveys.messy_xlsx())
    batch = ImportBatch.objects.get()
    edu = client_as("edu_staff")

    assert edu.get(reverse("talents:import_detail", args=[batch.pk])).status_code == 404
    assert edu.get(reverse("talents:import_progress", args=[batch.pk])).status_code == 404
    assert edu.get(reverse("talents:import_rejected", args=[batch.pk])).status_code == 404
    assert batch.file_name not in edu.get(reverse("talents:import_list")).content.decode()
    assert not AuditLog.objects.filter(action="export").exists()


@pytest.mark.parametrize("role", ["student", "enterprise_hr", "liaison", "auditor"])
def test_other_roles_cannot_reach_the_import_pages_or_upload(client_as: Any, role: str) -> None:
    client = client_as(role)
    assert client.get(reverse("talents:import_list")).status_code == 403
    assert upload(client, surveys.messy_xlsx()).status_code == 403
    assert ImportBatch.objects.count() == 0
    assert Talent.objects.count() == 0


def test_anonymous_visitors_are_sent_to_sign_in(client: Any) -> None:
    response = client.get(reverse("talents:import_list"))
    assert response.status_code == 302
    assert reverse("accounts:login") in response["Location"]


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("调查表.xls", b"\xd0\xcf\x11\xe0", "只能导入 .xlsx 或 .csv 文件"),
        ("bomb.xlsx", None, "疑似压缩炸弹"),
        ("fake.xlsx", b"not a zip at all", "文件不是有效的 .xlsx 文件"),
    ],
)
def test_bad_files_are_refused_with_a_reason(
    client_as: Any, name: str, data: bytes | None, message: str
) -> None:
    from .test_import_service import zip_bomb

    response = upload(client_as("edu_staff"), data if data is not None else zip_bomb(), name=name)

    assert response.status_code == 200
    assert message in response.content.decode()
    assert ImportBatch.objects.count() == 0


def test_an_upload_over_the_size_limit_is_refused(
    client_as: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(files, "MAX_UPLOAD_BYTES", 1024)
    response = upload(client_as("hr_staff"), surveys.messy_xlsx())
    assert response.status_code == 200
    assert "文件过大" in response.content.decode()
    assert ImportBatch.objects.count() == 0


def test_uploading_the_same_file_again_changes_nothing(client_as: Any) -> None:
    client = client_as("hr_staff")
    upload(client, surveys.messy_xlsx())
    upload(client, surveys.messy_xlsx())
    assert [b.summary_line for b in ImportBatch.objects.order_by("id")] == [
        MESSY_LINE,
        surveys.MESSY_LINE_AGAIN,
    ]


def test_rows_flagged_for_follow_up_are_counted_and_shown_on_the_talent_page(
    client_as: Any,
) -> None:
    client = client_as("hr_staff")
    upload(client, surveys.messy_xlsx())
    batch = ImportBatch.objects.get()

    progress = client.get(reverse("talents:import_progress", args=[batch.pk])).content.decode()
    talent = Talent.objects.get(name="林俊杰")
    page = client.get(reverse("talents:detail", args=[talent.pk])).content.decode()

    assert batch.flagged == 2
    assert (
        "待跟进 2 行：身份有效但手机号或年份有误，已导入本人、该项留空，并在人才档案上标注。"
        in progress
    )
    assert "导入时有误、待跟进的项（1 行）" in page
    assert f"{batch.source_name}</a> 第 12 行：手机号无效，未导入该项" in page
    other = Talent.objects.get(name="陈嘉欣")
    other_page = client.get(reverse("talents:detail", args=[other.pk])).content.decode()
    assert "待跟进的项" not in other_page


def rejected_on_page(html: str) -> list[tuple[str, str, str]]:
    """(row, masked name, reason) of each rejected row listed on an import page."""
    import re

    found = re.findall(
        r'data-testid="rejected-row"><span[^>]*>第 (\d+) 行</span>'
        r'(?:<span[^>]*data-testid="rejected-name">([^<]*)</span>)?'
        r'<span[^>]*data-testid="rejected-reason">([^<]*)</span>',
        html,
    )
    return [(row, name, reason) for row, name, reason in found]


def test_the_rejected_rows_are_listed_on_the_page_with_their_reasons_masked(
    client_as: Any,
) -> None:
    client = client_as("hr_staff")
    upload(client, surveys.messy_xlsx())
    batch = ImportBatch.objects.get()

    html = client.get(reverse("talents:import_detail", args=[batch.pk])).content.decode()

    assert "拒绝的行（共 3 行）" in html
    assert rejected_on_page(html) == [
        ("5", "张**", MESSY_REJECTED[5]),
        ("9", "", MESSY_REJECTED[9]),
        ("15", "冯**", MESSY_REJECTED[15]),
    ]
    for secret in ("张浩然", "冯永康", surveys.ID_WRONG, surveys.ID_NUMERIC, "13600000000"):
        assert secret not in html
    # Reading the page is not a download: nothing audited.
    assert not AuditLog.objects.filter(action="export").exists()


def test_many_rejected_rows_are_paginated_fifty_a_page(client_as: Any) -> None:
    rows: list[list[object]] = [
        [i, "欧阳" + "甲乙丙丁戊己庚辛壬癸"[i % 10], "男", surveys.wrong_check_digit(surveys.make_id("440784", "20030101", f"{i:03d}")),
         "", "中山大学", "法学", "本科", "2021", "2025", "", "", "", "", "", ""]
        for i in range(120)
    ]  # fmt: skip
    client = client_as("hr_staff")
    upload(client, surveys.xlsx_of(rows, header=surveys.HEADER))
    batch = ImportBatch.objects.get()
    assert batch.rejected == 120
    url = reverse("talents:import_detail", args=[batch.pk])

    first = client.get(url).content.decode()
    last = client.get(url, {"rejected_page": 3}).content.decode()

    listed = rejected_on_page(first)
    assert len(listed) == 50
    assert listed[0] == ("2", "欧**", "身份证号校验位错误")
    assert listed[-1][0] == "51"
    assert "第 1 / 3 页" in first and "?rejected_page=2#rejected" in first
    assert [row for row, _, _ in rejected_on_page(last)] == [str(n) for n in range(102, 122)]
    assert "第 3 / 3 页" in last
