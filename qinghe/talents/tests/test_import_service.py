"""The survey import end to end through ``manage.py import_survey``: a messy real-world file,
the reconciliation line, rejected rows and their file, re-import, CSV in GB18030, a crash
and its resume, file limits, provenance rules and what the database holds."""

from __future__ import annotations

import datetime as dt
import functools
import io
import json
import os
import threading
import time
import zipfile
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from django.core.management import CommandError, call_command
from django.db import connection, connections

from qinghe.core.models import AuditLog
from qinghe.talents import normalize, xlsxhead
from qinghe.talents.identity import id_index
from qinghe.talents.importing import chunks, files, reader
from qinghe.talents.importing import run as run_module
from qinghe.talents.importing.rejected import rejected_file_read
from qinghe.talents.models import (
    Destination,
    Education,
    ImportBatch,
    ImportRow,
    PhoneNumber,
    Talent,
    ValueChange,
)

from .fixtures import surveys
from .fixtures.surveys import (
    ID_15,
    ID_CHEN,
    ID_HUANG,
    ID_LI,
    ID_MISMATCH,
    ID_NOISY,
    MESSY_FLAGGED,
    MESSY_LINE,
    MESSY_LINE_AGAIN,
    MESSY_REJECTED,
    PHONE_CHEN,
    PHONE_CHEN_NEW,
    PHONE_ONLY,
)

pytestmark = pytest.mark.django_db

SOURCE = "教育局 2025 届毕业生就业调查"


@pytest.fixture(autouse=True)
def reference(db: Any) -> None:
    surveys.load_reference_sample()


@pytest.fixture
def messy(tmp_path: Path) -> Path:
    path = tmp_path / "2025届毕业生调查（鹤山）.xlsx"
    path.write_bytes(surveys.messy_xlsx())
    return path


def run(path: Path, *, source: str = SOURCE, chunk_size: int | None = None) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    options: dict[str, Any] = {"source": source, "stdout": out, "stderr": err}
    if chunk_size:
        options["chunk_size"] = chunk_size
    call_command("import_survey", str(path), **options)
    return out.getvalue(), err.getvalue()


def talent_by_id(number: str) -> Talent:
    return Talent.objects.get(id_index=id_index(number))


def rejected_sheet(batch: ImportBatch) -> list[list[Any]]:
    workbook = openpyxl.load_workbook(io.BytesIO(rejected_file_read(batch)), read_only=True)
    return [list(row) for row in workbook.active.iter_rows(values_only=True)]


# ---------------------------------------------------------------------------- the messy file


def test_the_messy_file_imports_with_a_reconciliation_line_that_adds_up(messy: Path) -> None:
    out, err = run(messy)

    assert out == MESSY_LINE + "\n"
    batch = ImportBatch.objects.get()
    assert (batch.state, batch.total_rows, batch.rows_done) == ("done", 14, 14)
    assert batch.created + batch.updated + batch.unchanged + batch.rejected == batch.total_rows
    assert batch.extra_columns == ["辅导员"]
    assert batch.header_map["header_row"] == 2
    assert batch.rejected_file == f"imports/{batch.pk}/rejected.xlsx.enc"
    assert (
        err.splitlines()[-2] == f"rejected rows: {batch.rejected_file} (加密存储，请在导入页面下载)"
    )

    outcomes = dict(ImportRow.objects.filter(batch=batch).values_list("row_number", "outcome"))
    assert outcomes == {
        3: "created",
        4: "created",
        5: "rejected",
        6: "created",
        7: "unchanged",
        8: "updated",
        9: "rejected",
        10: "created",
        11: "created",
        12: "created",
        13: "created",
        14: "created",
        15: "rejected",
        17: "created",
    }
    reasons = dict(
        ImportRow.objects.filter(batch=batch, outcome="rejected").values_list(
            "row_number", "reason"
        )
    )
    assert reasons == MESSY_REJECTED
    flagged = dict(
        ImportRow.objects.filter(batch=batch, flagged=True).values_list("row_number", "reason")
    )
    assert flagged == MESSY_FLAGGED
    assert batch.flagged == 2
    assert Talent.objects.count() == 9
    # The person is kept; the wrong field is left empty.
    years = talent_by_id(surveys.ID_YEAR_ORDER).educations.values_list(
        "enrolment_year", "graduation_year"
    )
    assert list(years) == [(None, None)]
    bad_phone = talent_by_id(surveys.ID_BAD_PHONE)
    assert (bad_phone.name, bad_phone.phones.count()) == ("林俊杰", 0)


def test_every_rejected_row_is_in_the_rejected_file_with_its_reason(messy: Path) -> None:
    run(messy)
    batch = ImportBatch.objects.get()
    sheet = rejected_sheet(batch)

    assert sheet[0] == [*[surveys.clean(name) for name in surveys.HEADER], "行号", "拒绝原因"]
    assert [(line[-2], line[-1]) for line in sheet[1:]] == list(MESSY_REJECTED.items())
    by_row = {line[-2]: line for line in sheet[1:]}
    assert by_row[5][1:5] == ["张浩然", "男", surveys.ID_WRONG, "13600000000"]
    # Cells that Excel would run as formulas are escaped.
    assert by_row[9][14] == '\'=HYPERLINK("http://x")'
    # The ID Excel turned into a number is shown as that number, not as a made-up ID.
    assert by_row[15][3] == repr(float(int(surveys.ID_NUMERIC)))


def test_values_land_where_they_belong(messy: Path) -> None:
    run(messy)

    chen = talent_by_id(ID_CHEN)
    assert (chen.name, chen.gender, chen.birth_date) == ("陈嘉欣", "F", dt.date(2003, 5, 12))
    assert (chen.status, chen.returned_home, chen.graduation_year, chen.native_evidence) == (
        "employed_heshan",
        True,
        2025,
        "both",
    )
    assert chen.town is not None and chen.town.name == "沙坪街道"
    phones = list(chen.phones.order_by("id").values_list("number", "is_current", "source"))
    assert phones == [(PHONE_CHEN, False, "survey"), (PHONE_CHEN_NEW, True, "survey")]
    education = chen.educations.get()
    assert education.university is not None and education.major is not None
    assert education.major_category is not None
    assert (education.university.name, education.is_double_first_class, education.major.code) == (
        "中山大学",
        True,
        "080901",
    )
    assert (education.major_category.code, education.level, education.enrolment_year) == (
        "0809",
        "bachelor",
        2021,
    )
    destination = chen.destinations.get()
    assert (destination.kind, destination.employer, destination.area, destination.year) == (
        "employed",
        "鹤山市人民医院",
        "heshan",
        2025,
    )
    batch = ImportBatch.objects.get()
    assert chen.provenance["name"] == {
        "source": "survey",
        "ref": batch.pk,
        "at": chen.provenance["name"]["at"],
        "file": batch.file_sha256[:16],
        "row": 3,
    }

    li = talent_by_id(ID_LI)
    assert (li.name, li.status, li.phones.get().number) == (
        "李志伟",
        "further_study",
        "13922223333",
    )
    li_university = li.educations.get().university
    assert li_university is not None and li_university.name == "华南理工大学"

    converted = talent_by_id(ID_15[:6] + "19" + ID_15[6:] + talent_by_id_suffix())
    assert converted.birth_date == dt.date(1998, 2, 3)
    assert ImportRow.objects.get(row_number=6).reason == "15 位身份证号已转换为 18 位"

    huang = talent_by_id(ID_HUANG)
    assert (huang.graduation_year, huang.status) == (
        2025,
        "employed_jiangmen",
    )  # from the date serial

    mismatch = talent_by_id(ID_MISMATCH)
    assert mismatch.gender == "M"
    assert mismatch.native_evidence == "both"  # 440725: 鹤山县 before 1993
    assert mismatch.note == "填写的性别“女”与身份证号不一致，已按身份证号记为男"

    noisy = talent_by_id(ID_NOISY)
    assert (noisy.destinations.count(), noisy.status) == (0, "graduating")
    assert noisy.note == "毕业去向“回家考公”无法识别"

    without_id = Talent.objects.get(name="麦晓彤")
    assert (without_id.id_index, without_id.phones.get().number, without_id.status) == (
        None,
        PHONE_ONLY,
        "seeking",
    )
    assert without_id.educations.get().university is None  # not in the reference sample: free text


def talent_by_id_suffix() -> str:
    from stdnum.cn import ric

    body = ID_15[:6] + "19" + ID_15[6:]
    return ric.calc_check_digit(body + "0")


def test_importing_the_same_file_again_creates_and_updates_nothing(messy: Path) -> None:
    run(messy)
    tables = snapshot()

    out, _ = run(messy)

    assert out == MESSY_LINE_AGAIN + "\n"
    assert snapshot() == tables
    assert ImportBatch.objects.count() == 2  # a finished file gets a new batch
    second = ImportBatch.objects.order_by("id").last()
    assert (
        dict(
            ImportRow.objects.filter(batch=second, outcome="rejected").values_list(
                "row_number", "reason"
            )
        )
        == MESSY_REJECTED
    )
    assert ValueChange.objects.count() == 0


def test_one_audit_entry_per_batch_without_personal_data(messy: Path) -> None:
    run(messy)
    entry = AuditLog.objects.get(action="import")
    batch = ImportBatch.objects.get()
    assert (entry.target_type, entry.target_id, entry.count) == (
        "talents.importbatch",
        str(batch.pk),
        14,
    )
    # the audit log reads as words, not rows=… created=…
    assert entry.summary.endswith("共 14 行 = 新建 9 + 更新 1 + 未变 1 + 拒绝 3；其中待跟进 2 行")
    assert entry.data["extra_columns"] == ["辅导员"]


def test_the_database_holds_no_raw_id_number_or_phone(messy: Path) -> None:
    run(messy)
    secrets = [ID_CHEN, ID_LI, ID_HUANG, PHONE_CHEN, PHONE_CHEN_NEW, PHONE_ONLY, surveys.ID_WRONG]
    with connection.cursor() as cursor:
        cursor.execute("SELECT id_number, provenance, note FROM talents_talent")
        talents = cursor.fetchall()
        cursor.execute("SELECT number FROM talents_phonenumber")
        phones = cursor.fetchall()
        cursor.execute("SELECT raw, reason FROM talents_importrow")
        rows = cursor.fetchall()
        cursor.execute("SELECT summary, data FROM core_auditlog")
        audit = cursor.fetchall()
    assert all(value.startswith("v1:") for value, *_ in talents if value)
    assert all(number.startswith("v1:") for (number,) in phones)
    assert all(raw.startswith("v1:") for raw, _ in rows)
    stored = repr([talents, phones, rows, audit])
    for secret in secrets:
        assert secret not in stored


# ---------------------------------------------------------------------------- other files


def test_a_gb18030_csv_imports(tmp_path: Path) -> None:
    header = [
        "姓名",
        "性别",
        "身份证号码",
        "手机号码",
        "毕业院校",
        "学历",
        "毕业年份",
        "毕业去向",
        "户籍所在地",
    ]
    rows: list[list[object]] = [
        [
            "陈嘉欣",
            "女",
            ID_CHEN,
            PHONE_CHEN,
            "中山大学",
            "本科",
            "2025届",
            "升学",
            "广东省鹤山市沙坪街道",
        ],
        ["李志伟", "男", ID_LI, "13922223333", "暨南大学", "本科", "2024", "待就业", "鹤山市"],
        ["", "男", surveys.ID_WRONG, "", "", "", "", "", ""],
    ]
    path = tmp_path / "调查.csv"
    path.write_bytes(surveys.csv_of(rows, header=header, encoding="gb18030"))

    out, _ = run(path)

    assert out == "rows=3 created=2 updated=0 unchanged=0 rejected=1\n"
    assert ImportRow.objects.get(row_number=4).reason == "缺少姓名；身份证号校验位错误"
    chen_university = talent_by_id(ID_CHEN).educations.get().university
    assert chen_university is not None and chen_university.name == "中山大学"
    assert run(path)[0] == "rows=3 created=0 updated=0 unchanged=2 rejected=1\n"


def test_a_csv_cell_over_the_field_size_limit_rejects_that_row_only(tmp_path: Path) -> None:
    header = ["姓名", "身份证号码", "手机号码", "毕业院校", "备注"]
    rows: list[list[object]] = [
        ["陈嘉欣", ID_CHEN, PHONE_CHEN, "中山大学", ""],
        ["王某", surveys.ID_HUANG, "", "暨南大学", "x" * 200_000],  # 200 KB cell
        ["李志伟", ID_LI, "13922223333", "暨南大学", ""],
    ]
    path = tmp_path / "大单元格.csv"
    path.write_bytes(surveys.csv_of(rows, header=header, encoding="utf-8"))

    out, _ = run(path)

    assert out == "rows=3 created=2 updated=0 unchanged=0 rejected=1\n"
    rejected = ImportRow.objects.get(outcome="rejected")
    assert (rejected.row_number, rejected.reason, rejected.raw) == (
        3,
        "该行有单元格超过 128 KB（CSV 单元格长度上限），无法读取；请检查该行是否缺少引号或内容过长",
        "[]",
    )
    assert talent_by_id(ID_LI).name == "李志伟"
    assert not Talent.objects.filter(id_index=id_index(surveys.ID_HUANG)).exists()


def test_a_utf8_csv_with_bom_imports(tmp_path: Path) -> None:
    path = tmp_path / "调查.csv"
    path.write_bytes(
        surveys.csv_of(
            [["陈嘉欣", ID_CHEN, PHONE_CHEN]],
            header=["姓名", "身份证号", "手机号"],
            encoding="utf-8-sig",
        )
    )
    assert run(path)[0] == "rows=1 created=1 updated=0 unchanged=0 rejected=0\n"


def test_a_file_without_a_header_is_refused_in_chinese(tmp_path: Path) -> None:
    path = tmp_path / "调查.xlsx"
    path.write_bytes(surveys.xlsx_of([["陈嘉欣", ID_CHEN]], header=["名单", "号码"]))
    with pytest.raises(CommandError, match="^未找到表头"):
        run(path)
    assert ImportBatch.objects.get().state == "failed"
    assert Talent.objects.count() == 0


def test_other_extensions_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "调查.xls"
    path.write_bytes(b"\xd0\xcf\x11\xe0")
    with pytest.raises(CommandError, match=r"只能导入 \.xlsx 或 \.csv 文件（收到的是“\.xls”）"):
        run(path)
    assert ImportBatch.objects.count() == 0


def test_files_over_the_size_limit_are_refused(
    messy: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(files, "MAX_UPLOAD_BYTES", 1024)
    with pytest.raises(CommandError, match="^文件过大"):
        run(messy)
    assert ImportBatch.objects.count() == 0


def zip_bomb() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("xl/workbook.xml", "<workbook/>")
        archive.writestr("xl/worksheets/sheet1.xml", b"<" + b"0" * 5_000_000 + b">")
    return buffer.getvalue()


def test_a_zip_bomb_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "bomb.xlsx"
    path.write_bytes(zip_bomb())
    with pytest.raises(CommandError, match="疑似压缩炸弹"):
        run(path)
    assert ImportBatch.objects.count() == 0


def lying_zip() -> bytes:
    """A valid .xlsx whose sheet declares (in both headers) a size far below its real one."""
    data = bytearray(surveys.messy_xlsx())
    archive = zipfile.ZipFile(io.BytesIO(bytes(data)))
    member = archive.getinfo("xl/worksheets/sheet1.xml")
    local = member.header_offset
    assert data[local : local + 4] == b"PK\x03\x04"
    data[local + 22 : local + 26] = (100).to_bytes(4, "little")
    central = data.index(b"PK\x01\x02" + data[archive.start_dir + 4 : archive.start_dir + 6])
    for offset in range(central, len(data) - 4):
        if data[offset : offset + 4] == b"PK\x01\x02":
            name_length = int.from_bytes(data[offset + 28 : offset + 30], "little")
            if data[offset + 46 : offset + 46 + name_length] == b"xl/worksheets/sheet1.xml":
                data[offset + 24 : offset + 28] = (100).to_bytes(4, "little")
    return bytes(data)


def test_an_xlsx_lying_about_its_sizes_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "lying.xlsx"
    path.write_bytes(lying_zip())
    with pytest.raises(CommandError, match="^文件已损坏或被篡改"):
        run(path)
    assert ImportBatch.objects.count() == 0


def test_an_xlsx_that_unpacks_too_large_is_refused(
    messy: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(files, "MAX_UNCOMPRESSED_BYTES", 10_000)
    with pytest.raises(CommandError, match="^文件解压后过大"):
        run(messy)


def test_a_file_that_is_not_a_zip_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "fake.xlsx"
    path.write_bytes(b"name,id\n" * 10)
    with pytest.raises(CommandError, match="不是有效的 .xlsx 文件"):
        run(path)


def test_xml_entities_are_refused_not_expanded(tmp_path: Path) -> None:
    """The sheet XML is parsed by calamine (Rust, quick-xml), which resolves no DTD: an
    external entity (XXE) or an entity bomb is an error, never a file read or an expansion."""
    source = zipfile.ZipFile(io.BytesIO(surveys.messy_xlsx()))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for item in source.infolist():
            data = source.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                doctype = '<!DOCTYPE worksheet [<!ENTITY xxe SYSTEM "file:///etc/passwd"><!ENTITY a "AAAA">]>'
                text = data.decode().replace("<worksheet", doctype + "<worksheet", 1)
                data = text.replace("王老师", "&xxe;&a;", 1).encode()
            archive.writestr(item, data)
    path = tmp_path / "entities.xlsx"
    path.write_bytes(buffer.getvalue())

    with pytest.raises(CommandError, match="^无法读取该 .xlsx 文件的工作表"):
        run(path)
    assert ImportBatch.objects.get().state == "failed"
    assert ImportRow.objects.count() == 0


# ---------------------------------------------------------------------------- provenance


def test_a_value_a_person_gave_is_not_overwritten_and_the_conflict_is_recorded(messy: Path) -> None:
    person = Talent.objects.create(
        name="陈嘉欣",
        id_number=ID_CHEN,
        id_index=id_index(ID_CHEN),
        id_prefix=ID_CHEN[:6],
        hukou_text="广东省鹤山市雅瑶镇",
        provenance={
            "name": {"source": "student", "ref": "self", "at": "2025-01-01T00:00:00+08:00"},
            "hukou_text": {"source": "student", "ref": "self", "at": "2025-01-01T00:00:00+08:00"},
        },
    )

    out, _ = run(messy)

    assert out == "rows=14 created=8 updated=2 unchanged=1 rejected=3 flagged=2\n"
    person.refresh_from_db()
    assert person.hukou_text == "广东省鹤山市雅瑶镇"
    conflict = ValueChange.objects.get(field="hukou_text")
    assert (conflict.state, conflict.old_value, conflict.new_value) == (
        "conflict",
        "广东省鹤山市雅瑶镇",
        "广东省鹤山市沙坪街道",
    )
    assert conflict.old_source["source"] == "student"
    assert conflict.new_source["source"] == "survey"
    assert person.provenance["hukou_text"]["source"] == "student"
    # Values nobody had given are filled in; the town follows the household registration
    # that stands, not the one in conflict.
    assert person.gender == "F" and person.provenance["gender"]["source"] == "survey"
    assert person.town is None

    # The same survey again: the open conflict is not raised twice.
    assert run(messy)[0] == MESSY_LINE_AGAIN + "\n"
    assert ValueChange.objects.filter(field="hukou_text").count() == 1


def test_a_newer_survey_replaces_an_older_survey_value_and_keeps_the_old_one(
    tmp_path: Path,
) -> None:
    header = [
        "姓名",
        "身份证号",
        "手机号",
        "户籍地",
        "毕业院校",
        "毕业年份",
        "毕业去向",
        "就业单位",
        "就业地区",
    ]
    first = tmp_path / "2024.xlsx"
    first.write_bytes(
        surveys.xlsx_of(
            [["陈嘉欣", ID_CHEN, PHONE_CHEN, "鹤山市沙坪街道", "中山大学", 2025, "待就业", "", ""]],
            header=header,
        )
    )
    second = tmp_path / "2025.xlsx"
    second.write_bytes(surveys.xlsx_of([["陈嘉欣", ID_CHEN, PHONE_CHEN_NEW, "鹤山市龙口镇", "中山大学", 2025, "签劳动合同", "鹤山市人民医院", "鹤山市"]], header=header))  # fmt: skip

    run(first)
    assert run(second)[0] == "rows=1 created=0 updated=1 unchanged=0 rejected=0\n"

    chen = talent_by_id(ID_CHEN)
    assert chen.town is not None
    assert (chen.hukou_text, chen.town.name, chen.status, chen.returned_home) == (
        "鹤山市龙口镇",
        "龙口镇",
        "employed_heshan",
        True,
    )
    replaced = ValueChange.objects.get(field="hukou_text")
    assert (replaced.state, replaced.old_value, replaced.new_value) == (
        "replaced",
        "鹤山市沙坪街道",
        "鹤山市龙口镇",
    )
    assert list(chen.phones.order_by("id").values_list("number", "is_current")) == [
        (PHONE_CHEN, False),
        (PHONE_CHEN_NEW, True),
    ]
    assert sorted(chen.destinations.values_list("kind", flat=True)) == ["employed", "seeking"]
    assert chen.educations.count() == 1


def test_in_a_file_the_last_row_about_a_person_wins_also_on_reimport(tmp_path: Path) -> None:
    header = ["姓名", "身份证号", "手机号", "备注"]
    path = tmp_path / "dup.xlsx"
    path.write_bytes(surveys.xlsx_of([["陈嘉欣", ID_CHEN, PHONE_CHEN, "第一次"], ["陈嘉欣", ID_CHEN, PHONE_CHEN, "第二次"]], header=header))  # fmt: skip

    assert run(path)[0] == "rows=2 created=1 updated=1 unchanged=0 rejected=0\n"
    assert talent_by_id(ID_CHEN).note == "第二次"
    assert run(path)[0] == "rows=2 created=0 updated=0 unchanged=2 rejected=0\n"
    assert talent_by_id(ID_CHEN).note == "第二次"


def test_rows_without_an_id_match_by_name_and_phone_but_not_across_ids(tmp_path: Path) -> None:
    header = ["姓名", "身份证号", "手机号", "毕业院校"]
    path = tmp_path / "match.xlsx"
    path.write_bytes(
        surveys.xlsx_of(
            [
                ["麦晓彤", "", PHONE_ONLY, "五邑大学"],
                [
                    "麦晓彤",
                    ID_CHEN,
                    PHONE_ONLY,
                    "五邑大学",
                ],  # same name and phone: same person, ID added
                ["麦晓彤", ID_LI, PHONE_ONLY, "五邑大学"],  # another ID: another person
            ],
            header=header,
        )
    )
    assert run(path)[0] == "rows=3 created=2 updated=1 unchanged=0 rejected=0\n"
    assert talent_by_id(ID_CHEN).educations.count() == 1
    assert Talent.objects.filter(name="麦晓彤").count() == 2


# ---------------------------------------------------------------------------- crash and resume


def snapshot() -> dict[str, list[tuple[Any, ...]]]:
    """The talent tables by value, without ids, timestamps or batch references."""

    def who(talent: Talent) -> tuple[str, str]:
        return (talent.id_number, talent.name)

    talents = sorted(
        (
            *who(t),
            t.gender,
            t.birth_date,
            t.hukou_text,
            t.town_id,
            t.note,
            t.status,
            t.returned_home,
            t.graduation_year,
            t.native_evidence,
            tuple(sorted(t.provenance)),
        )
        for t in Talent.objects.all()
    )
    phones = sorted(
        (*who(p.talent), p.number, p.is_current, p.source)
        for p in PhoneNumber.objects.select_related("talent")
    )
    educations = sorted(
        (
            *who(e.talent),
            e.university_name,
            e.university_id,
            e.major_name,
            e.level,
            e.enrolment_year,
            e.graduation_year,
        )
        for e in Education.objects.select_related("talent")
    )
    destinations = sorted(
        (*who(d.talent), d.kind, d.employer, d.region_text, d.area, d.year)
        for d in Destination.objects.select_related("talent")
    )
    changes = sorted(
        (*who(c.talent), c.field, c.old_value, c.new_value, c.state)
        for c in ValueChange.objects.select_related("talent")
    )
    return {
        "talents": talents,
        "phones": phones,
        "educations": educations,
        "destinations": destinations,
        "changes": changes,
    }


def resume_survey(tmp_path: Path, *, stray: tuple[int, str] | None = None) -> Path:
    """55 rows over 6 chunks of 10: people reappearing in later chunks with a new phone or a
    new remark, rows without an ID, rejected rows. ``stray``: (data row, text) a cell right
    of the last column."""
    crowd = surveys.people(40)
    header = [
        "姓名",
        "身份证号",
        "手机号",
        "毕业院校",
        "学历",
        "毕业年份",
        "毕业去向",
        "就业单位",
        "就业地区",
        "备注",
    ]
    rows: list[list[object]] = []
    for i, person in enumerate(crowd):
        rows.append([person.name, person.id_number, person.phone, "五邑大学", "本科", 2025, "就业" if i % 2 else "升学", "鹤山市某公司" if i % 2 else "", "鹤山市" if i % 2 else "", ""])  # fmt: skip
    for i in (0, 5, 12, 33):  # back again with a new phone
        person = crowd[i]
        rows.append(
            [
                person.name,
                person.id_number,
                f"137{i:08d}",
                "五邑大学",
                "本科",
                2025,
                "待就业",
                "",
                "",
                "第二次",
            ]
        )
    for i in range(6):  # no ID: matched by name and phone on their second appearance
        rows.append(
            [
                f"无证{'甲乙丙丁戊己'[i]}",
                "",
                f"186{i:08d}",
                "中山大学",
                "专科",
                2024,
                "",
                "",
                "",
                "",
            ]
        )
    for i in range(3):
        rows.append(
            [
                f"无证{'甲乙丙丁戊己'[i]}",
                "",
                f"186{i:08d}",
                "中山大学",
                "专科",
                2024,
                "升学",
                "",
                "",
                "",
            ]
        )
    rows.append(["", crowd[1].id_number, "", "", "", "", "", "", "", ""])  # rejected
    rows.append(["错号", surveys.ID_WRONG, "13600000009", "", "", "", "", "", "", ""])  # rejected
    assert len(rows) == 55
    if stray is not None:
        rows[stray[0] - 1].append(stray[1])
    path = tmp_path / "resume.xlsx"
    path.write_bytes(surveys.xlsx_of(rows, header=header, title="标题"))
    return path


def wipe() -> None:
    ImportBatch.objects.all().delete()
    Talent.objects.all().delete()


def die_at_third_chunks_import_rows(monkeypatch: pytest.MonkeyPatch) -> Any:
    """Makes the third chunk's writes die after its talents, before its import rows; returns
    the real ``insert_records`` to put back."""
    calls = {"n": 0}
    real_insert = chunks.insert_records

    def dying_insert(model: Any, records: Any, **kwargs: Any) -> None:
        if model is ImportRow:
            calls["n"] += 1
            if calls["n"] == 3:
                raise RuntimeError("killed")
        real_insert(model, records, **kwargs)

    monkeypatch.setattr(chunks, "insert_records", dying_insert)
    return real_insert


def test_an_import_killed_part_way_and_run_again_ends_with_the_same_tables(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = resume_survey(tmp_path)
    clean_line, _ = run(path, chunk_size=10)
    assert clean_line == "rows=55 created=46 updated=7 unchanged=0 rejected=2\n"
    clean = snapshot()
    wipe()

    # Chunk 3 dies in the middle of its writes: after the talents, before the import rows.
    real_insert = die_at_third_chunks_import_rows(monkeypatch)
    with pytest.raises(RuntimeError, match="killed"):
        run(path, chunk_size=10)
    batch = ImportBatch.objects.get()
    assert (batch.state, batch.rows_done, batch.error) == ("failed", 20, "导入中断：RuntimeError")
    assert ImportRow.objects.filter(batch=batch).count() == 20
    assert not read_ahead_threads()  # stopped with the import
    assert (
        Talent.objects.count() == ImportRow.objects.filter(outcome="created").count()
    )  # chunk 3 left nothing

    monkeypatch.setattr(chunks, "insert_records", real_insert)
    out, _ = run(path, chunk_size=7)  # another chunk size on the rerun is fine

    assert out == clean_line
    assert ImportBatch.objects.get().pk == batch.pk  # resumed, not restarted
    assert ImportRow.objects.filter(batch=batch).count() == 55
    assert snapshot() == clean
    assert run(path)[0] == "rows=55 created=0 updated=0 unchanged=53 rejected=2\n"


def parse_raising_at(monkeypatch: pytest.MonkeyPatch, row: int, error: Exception) -> None:
    """Makes parsing raise ``error`` at the ``row``-th data row of the file (its header on the
    first line), in whichever thread or process parses it: the first chunk is parsed by the
    importing process, the others by the forked parser, which inherits the patch."""
    real_row_work = reader._row_work

    def breaking_row_work(row_number: int, *args: Any) -> Any:
        if row_number == row + 1:
            raise error
        return real_row_work(row_number, *args)

    monkeypatch.setattr(reader, "_row_work", breaking_row_work)


def read_ahead_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "survey-read-ahead"]


def test_a_row_that_breaks_the_parser_fails_the_import_after_the_chunks_before_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Rows are parsed in a background thread, a chunk ahead of the writes: a failure there
    # reaches the import when it gets to that chunk, and the chunks before it stand.
    path = resume_survey(tmp_path)
    clean_line, _ = run(path, chunk_size=10)
    clean = snapshot()
    wipe()

    parse_raising_at(monkeypatch, 35, RuntimeError("parser broke"))  # in chunk 4
    with pytest.raises(RuntimeError, match="parser broke"):
        run(path, chunk_size=10)
    batch = ImportBatch.objects.get()
    assert (batch.state, batch.rows_done, batch.error) == ("failed", 30, "导入中断：RuntimeError")
    assert ImportRow.objects.filter(batch=batch).count() == 30
    # Chunk 4 wrote nothing: every talent and phone is one that chunks 1-3 recorded.
    assert Talent.objects.count() == ImportRow.objects.filter(outcome="created").count()
    assert not read_ahead_threads()

    monkeypatch.undo()
    assert run(path, chunk_size=10)[0] == clean_line
    assert ImportBatch.objects.get().pk == batch.pk
    assert snapshot() == clean


def test_the_forked_parser_imports_what_the_thread_parser_imports(
    tmp_path: Path, messy: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Rows parsed in a forked process cross a pipe as tuples and are built again: the
    # import must be the same, row for row, as with the rows parsed in a thread.
    assert reader.FORK_PARSER  # Linux: the default
    outcomes = []
    for fork in (False, True):
        monkeypatch.setattr(reader, "FORK_PARSER", fork)
        lines = [run(path, chunk_size=10)[0] for path in (messy, resume_survey(tmp_path))]
        rows = sorted(
            ImportRow.objects.values_list(
                "batch__file_name", "row_number", "outcome", "reason", "flagged", "raw"
            )
        )
        outcomes.append((lines, rows, snapshot()))
        wipe()
    assert outcomes[0] == outcomes[1]
    assert outcomes[1][0][1] == "rows=55 created=46 updated=7 unchanged=0 rejected=2\n"


def import_rows() -> list[tuple[Any, ...]]:
    return sorted(
        ImportRow.objects.values_list("row_number", "outcome", "reason", "flagged", "raw")
    )


def opened_tables(monkeypatch: pytest.MonkeyPatch) -> list[bool]:
    """Records, for each table the import opens, whether it was read from a head."""
    opened: list[bool] = []
    real_open = run_module.open_table

    def recording_open(*args: Any) -> normalize.SurveyTable:
        table = real_open(*args)
        opened.append(table.whole is not None)
        return table

    monkeypatch.setattr(run_module, "open_table", recording_open)
    return opened


@pytest.mark.parametrize("fork", [False, True], ids=["thread", "forked"])
def test_a_sheet_read_from_its_head_imports_what_the_whole_sheet_imports(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fork: bool
) -> None:
    # With chunks of 10 rows the head is the sheet's first 40 rows (a title, the header and
    # 38 data rows): the first chunks come from it while the tail is read, the rest from
    # the tail. The import is the one the whole sheet gives, row for row.
    monkeypatch.setattr(reader, "FORK_PARSER", fork)
    path = resume_survey(tmp_path)
    opened = opened_tables(monkeypatch)
    results = []
    for head_chunks in (3, 100):  # a head of 40 rows; one longer than the file (read whole)
        monkeypatch.setattr(run_module, "HEAD_CHUNKS", head_chunks)
        line = run(path, chunk_size=10)[0]
        results.append((line, import_rows(), snapshot()))
        wipe()
    assert opened == [True, False]
    assert results[0] == results[1]
    assert results[0][0] == "rows=55 created=46 updated=7 unchanged=0 rejected=2\n"


@pytest.mark.parametrize("fork", [False, True], ids=["thread", "forked"])
def test_a_tail_wider_than_the_head_starts_the_run_again_before_anything_commits(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture, fork: bool
) -> None:
    # A cell right of the last column in row 50 makes every row of the whole sheet one cell
    # wider than the head's: the rows read from the head are not the whole sheet's (their
    # raw cells are short of one). The tail is read slowly, so the first chunk is ready long
    # before the check; it must not commit, and the run starts again from the whole sheet.
    monkeypatch.setattr(reader, "FORK_PARSER", fork)
    path = resume_survey(tmp_path, stray=(50, "多余"))
    monkeypatch.setattr(run_module, "HEAD_CHUNKS", 100)
    whole = (run(path, chunk_size=10)[0], import_rows(), snapshot())
    wipe()
    assert json.loads(whole[1][0][4])[-1] == ""  # every row has the 11th cell

    monkeypatch.setattr(run_module, "HEAD_CHUNKS", 3)
    real_read_tail = xlsxhead.WholeSheet._read_tail

    def slow_read_tail(self: xlsxhead.WholeSheet) -> bool:
        time.sleep(0.5)
        return real_read_tail(self)

    monkeypatch.setattr(xlsxhead.WholeSheet, "_read_tail", slow_read_tail)
    opened = opened_tables(monkeypatch)
    with caplog.at_level("INFO", logger="qinghe.talents.importing.run"):
        line = run(path, chunk_size=10)[0]
    assert opened == [True, False]
    assert "reading the whole sheet" in caplog.text
    assert (line, import_rows(), snapshot()) == whole
    batch = ImportBatch.objects.get()
    assert (batch.state, batch.rows_done, batch.total_rows) == ("done", 55, 55)
    assert not read_ahead_threads()


def test_a_parser_that_dies_before_it_has_checked_the_tail_fails_the_import_with_nothing_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(reader, "FORK_PARSER", True)
    path = resume_survey(tmp_path)
    monkeypatch.setattr(xlsxhead.WholeSheet, "_read_tail", lambda self: os._exit(3))
    with pytest.raises(RuntimeError, match="解析文件的进程意外退出"):
        run(path, chunk_size=10)
    batch = ImportBatch.objects.get()
    assert (batch.state, batch.rows_done, batch.error) == ("failed", 0, "导入中断：RuntimeError")
    assert not ImportRow.objects.exists()
    assert not Talent.objects.exists()
    assert not read_ahead_threads()


def test_the_forked_parser_uses_no_connection_and_leaves_no_process(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The child has the importing process's connections (a fork copies them): it must not
    # use them (they are that process's sessions), and it is gone when the import ends,
    # also when it fails.
    path = resume_survey(tmp_path)
    real_parse = normalize.parse_row
    pids: list[int] = []
    real_init = reader.ForkedParser.__init__

    def recording_init(self: Any, *args: Any, **kwargs: Any) -> None:
        real_init(self, *args, **kwargs)
        assert self.pid is not None
        pids.append(self.pid)

    def checking_parse(raw: Any, **kwargs: Any) -> Any:
        if os.getpid() == parent:
            # The first chunk only, parsed while the child parses the second.
            in_parent.append(raw)
            if len(in_parent) > 10:
                raise AssertionError("parsed in the importing process after the first chunk")
        elif any(c.connection is not None for c in connections.all(initialized_only=True)):
            raise AssertionError("a connection is open in the parser")
        return real_parse(raw, **kwargs)

    parent = os.getpid()
    in_parent: list[Any] = []
    monkeypatch.setattr(reader.ForkedParser, "__init__", recording_init)
    monkeypatch.setattr(normalize, "parse_row", checking_parse)
    assert run(path, chunk_size=10)[0] == "rows=55 created=46 updated=7 unchanged=0 rejected=2\n"
    assert len(in_parent) == 10
    wipe()
    in_parent.clear()
    monkeypatch.setattr(chunks, "insert_records", _failing_third_call(chunks.insert_records))
    with pytest.raises(RuntimeError, match="write failed"):
        run(path, chunk_size=10)
    assert len(pids) == 2
    for pid in pids:
        with pytest.raises(ChildProcessError):
            os.waitpid(pid, os.WNOHANG)  # reaped already
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)


def _failing_third_call(real: Any) -> Any:
    calls = {"n": 0}

    def failing(*args: Any, **kwargs: Any) -> Any:
        calls["n"] += 1
        if calls["n"] == 3:
            raise RuntimeError("write failed")
        return real(*args, **kwargs)

    return failing


def test_the_read_ahead_thread_never_opens_a_database_connection(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Django's connections are per thread: one opened by the reader would be another session,
    # outside the chunk's transaction, and left open. Parsing must not need the database.
    monkeypatch.setattr(reader, "FORK_PARSER", False)
    path = resume_survey(tmp_path)
    real_parse = normalize.parse_row
    seen: set[tuple[str, bool]] = set()  # (thread, that thread has an open connection)

    def watching_parse(raw: Any, **kwargs: Any) -> Any:
        result = real_parse(raw, **kwargs)
        open_ = any(c.connection is not None for c in connections.all(initialized_only=True))
        seen.add((threading.current_thread().name, open_))
        return result

    monkeypatch.setattr(normalize, "parse_row", watching_parse)
    assert run(path, chunk_size=10)[0] == "rows=55 created=46 updated=7 unchanged=0 rejected=2\n"
    assert seen == {("survey-read-ahead", False)}
    assert not read_ahead_threads()


@pytest.mark.parametrize(
    ("rows", "sizes", "resumed"),
    [
        (60, [10, 10, 10, 10, 10, 5, 5], [10, 2]),
        (58, [10, 10, 10, 10, 10, 4, 4], [5, 5]),
        (55, [10, 10, 10, 10, 10, 5], [3, 4]),
        (6, [3, 3], []),
        (5, [5], []),
        (0, [], []),
    ],
)
def test_the_last_chunk_comes_in_two_halves_when_it_holds_more_than_half_a_chunk(
    rows: int, sizes: list[int], resumed: list[int]
) -> None:
    # Nothing overlaps the last chunk's writes: half a chunk is written in half the time.
    header = ["姓名", "手机号", "毕业院校"]
    cells = [header] + [[f"学生{i}", f"138{i:08d}", "五邑大学"] for i in range(rows)]
    table = normalize.SurveyTable("csv", 1, normalize.map_headers(header), lambda: iter(cells))
    today = dt.date(2025, 7, 1)

    def sizes_of(**kwargs: Any) -> list[int]:
        chunked = list(reader._file_chunks(table, chunk_size=10, today=today, **kwargs))
        for chunk, work in chunked:
            assert [item.row_number for item in work] == [number for number, _ in chunk]
        numbers = [number for chunk, _ in chunked for number, _ in chunk]
        assert numbers == list(range(2 + kwargs["skip"], rows + 2))
        return [len(chunk) for chunk, _ in chunked]

    assert sizes_of(skip=0) == sizes
    # A run resumed after 48 rows: the same rule for its last chunk.
    if rows > 48:
        assert sizes_of(skip=48) == resumed
    # The importing process's first chunk (a limit: the parsing process goes on after it)
    # is never halved.
    first = list(reader._file_chunks(table, skip=0, chunk_size=10, today=today, limit=1))
    assert [len(chunk) for chunk, _ in first] == ([min(rows, 10)] if rows else [])


def test_a_write_that_fails_stops_the_reader_and_leaves_the_chunk_unwritten(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The importing thread fails while the reader is a chunk ahead (and resumed, inside a
    # COPY on PostgreSQL): the reader is stopped and the failing chunk leaves nothing.
    path = resume_survey(tmp_path)
    real_insert = chunks.insert_records
    calls = {"n": 0}

    def failing_insert(model: Any, records: Any, **kwargs: Any) -> None:
        real_insert(model, records, **kwargs)
        if model is PhoneNumber:
            calls["n"] += 1
            if calls["n"] == 2:
                raise RuntimeError("disk full")

    monkeypatch.setattr(chunks, "insert_records", failing_insert)
    with pytest.raises(RuntimeError, match="disk full"):
        run(path, chunk_size=10)
    batch = ImportBatch.objects.get()
    assert (batch.state, batch.rows_done) == ("failed", 10)
    assert ImportRow.objects.filter(batch=batch).count() == 10
    assert Talent.objects.count() == ImportRow.objects.filter(outcome="created").count()
    assert not read_ahead_threads()


def test_the_file_is_read_at_most_two_chunks_ahead_of_the_writes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(reader, "FORK_PARSER", False)
    path = resume_survey(tmp_path)
    real_parse = normalize.parse_row
    real_process = run_module.process_chunk
    parsed = {"n": 0}
    seen: list[tuple[int, int, int]] = []  # (rows done before the chunk, its rows, rows parsed)

    def counting_parse(raw: Any, **kwargs: Any) -> Any:
        parsed["n"] += 1
        return real_parse(raw, **kwargs)

    def watching_process(batch_id: int, rows: Any, **kwargs: Any) -> Any:
        seen.append((kwargs["rows_done_before"], len(rows), parsed["n"]))
        return real_process(batch_id, rows, **kwargs)

    monkeypatch.setattr(normalize, "parse_row", counting_parse)
    monkeypatch.setattr(run_module, "process_chunk", watching_process)
    assert run(path, chunk_size=10)[0] == "rows=55 created=46 updated=7 unchanged=0 rejected=2\n"

    assert [(before, size) for before, size, _ in seen] == [
        (0, 10), (10, 10), (20, 10), (30, 10), (40, 10), (50, 5)
    ]  # fmt: skip
    # This chunk, the next one waiting, and at most the one after that being parsed.
    assert all(before + size <= n <= before + 3 * 10 for before, size, n in seen)
    assert parsed["n"] == 55


def test_the_reader_frees_what_the_importer_discards_only_while_it_waits(
    tmp_path: Path,
) -> None:
    # A finished chunk's objects are freed by the read-ahead thread, in the windows the
    # importing thread opens while it waits for the database, not while it works.
    table = files.open_table("xlsx", resume_survey(tmp_path).read_bytes())
    read_ahead = reader.ReadAhead(table, skip=0, chunk_size=10, today=dt.date(2025, 7, 1))
    freed_in: list[str] = []

    class Sentinel:
        def __del__(self) -> None:
            freed_in.append(threading.current_thread().name)

    try:
        rows, work = next(iter(read_ahead))
        assert len(rows) == len(work) == 10
        read_ahead.pause()
        held = [Sentinel(), *work]
        read_ahead.discard(held)
        time.sleep(0.1)
        assert (freed_in, len(held)) == ([], 11)  # the window is closed
        read_ahead.resume()
        deadline = time.monotonic() + 10
        while held and time.monotonic() < deadline:
            time.sleep(0.01)
        assert (freed_in, held) == (["survey-read-ahead"], [])
    finally:
        read_ahead.close()
    assert not read_ahead_threads()


def test_blind_indexes_go_as_one_array_of_hex_digests() -> None:
    pg = functools.partial(chunks._in_keys, '"c"', vendor="postgresql")
    lite = functools.partial(chunks._in_keys, '"c"', vendor="sqlite")
    assert pg({"0a1b"}) == ('"c" = ANY(%s::text[])', "{0a1b}")
    assert sorted(pg({"0a", "1b"})[1][1:-1].split(",")) == ["0a", "1b"]
    assert lite({"0a1b"}) == ('"c" IN (SELECT value FROM json_each(%s))', '["0a1b"]')
    assert sorted(json.loads(lite({"0a", "1b"})[1])) == ["0a", "1b"]
    for bad in ("0a,1b", "0a}", '"0a"', "0a 1b", "NULL", "é1", ""):
        for in_keys in (pg, lite):
            with pytest.raises(ValueError, match="hex digest"):
                in_keys({bad})


def test_two_runs_of_one_batch_cannot_both_write_a_chunk(messy: Path) -> None:
    batch, _ = run_module.survey_batch_start(
        file_name=messy.name,
        file_sha256=files.sha256_of(messy.read_bytes()),
        source_name=SOURCE,
    )
    ImportBatch.objects.filter(pk=batch.pk).update(rows_done=3, header_map={"names": []})
    ctx = chunks.ImportContext(
        batch_id=batch.pk,
        file_sha256=batch.file_sha256,
        header=files.open_table("xlsx", messy.read_bytes()).header,
        reference=chunks.reference_index(),
        today=dt.date(2025, 9, 1),
        now=dt.datetime(2025, 9, 1, tzinfo=dt.UTC),
    )
    with pytest.raises(chunks.ImportConflict):
        chunks.process_chunk(batch.pk, [(3, ["1", "陈嘉欣"])], ctx=ctx, rows_done_before=0)
    assert ImportRow.objects.count() == 0 and Talent.objects.count() == 0


def test_raw_rows_are_kept_as_json_of_the_original_cells(messy: Path) -> None:
    run(messy)
    raw = json.loads(ImportRow.objects.get(row_number=10).raw)
    assert raw[1] == "黄诗婷"
    assert raw[9] == str(surveys.EXCEL_SERIAL_2025_07_01)
    assert raw[15] == "李老师"


def batch_12_context() -> chunks.ImportContext:
    """An import's context for batch 12 of a file "abab…", no database needed."""
    return chunks.ImportContext(
        batch_id=12,
        file_sha256="ab" * 32,
        header=normalize.HeaderMap(names=(), columns={}, extra=()),
        reference=normalize.ReferenceIndex(),
        today=dt.date(2026, 12, 4),
        now=dt.datetime(2026, 12, 4, 8, 30, tzinfo=dt.UTC),
    )


def test_provenance_and_its_json_text_are_what_json_dumps_gives() -> None:
    from qinghe.talents.importing.writer import JsonText, _json_dumps

    ctx = batch_12_context()
    source = ctx.provenance(345)
    assert type(source) is JsonText
    assert source == {
        "source": "survey",
        "ref": 12,
        "at": "2026-12-04T08:30:00+00:00",
        "file": "ab" * 8,
        "row": 345,
    }
    assert source.text == json.dumps(source)
    other = ctx.provenance(7)
    cases: list[dict[str, Any]] = [
        {"name": source, "gender": source, "id_number": source},  # one source for all
        {"name": source, "town": other},
        {"name": source, "note": {"source": "staff", "row": None}, "gender": source},
        {"名字": {"a": [1, "二"]}},
        {},
    ]
    for value in cases:
        assert _json_dumps(value) == json.dumps(value), value


def test_a_file_that_cannot_be_opened_fails_with_its_chinese_reason(tmp_path: Path) -> None:
    path = tmp_path / "no-header.xlsx"
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    for number in range(12):
        sheet.append([f"x{number}", "y", "z"])
    book.save(path)
    with pytest.raises(files.ImportFileError, match="未找到表头"):
        run_module.survey_import_path(path, source_name=SOURCE)
    batch = ImportBatch.objects.get()
    assert (batch.state, batch.rows_done, batch.error) == ("failed", 0, normalize.NO_HEADER)
    assert not read_ahead_threads()


def test_held_rows_are_found_through_the_partial_index() -> None:
    # import_row_held_for indexes only the rows that are held (held_for set), not a NULL for
    # every imported row; a look-up by the talent they are held for still uses it.
    if connection.vendor != "sqlite":
        pytest.skip("SQLite's plan; PostgreSQL's depends on the table's statistics")
    table = ImportRow._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN QUERY PLAN SELECT id FROM {table} WHERE held_for_id = %s", [7])
        plan = " ".join(str(row) for row in cursor.fetchall())
        cursor.execute(f"PRAGMA index_list({table})")
        indexes = {row[1]: row[4] for row in cursor.fetchall()}  # name -> partial
    assert "import_row_held_for" in plan
    assert indexes["import_row_held_for"] == 1


def test_references_without_a_database_constraint_still_follow_on_delete(messy: Path) -> None:
    # The reference catalogue's keys and an import row's batch carry no database constraint
    # (the import's cost): Django's on_delete still applies, and nothing is left dangling.
    from qinghe.reference.models import University

    run(messy)
    education = Education.objects.exclude(university=None).select_related("university").first()
    assert education is not None and education.university is not None
    University.objects.filter(pk=education.university.pk).delete()
    education.refresh_from_db()
    assert education.university_id is None
    batch = ImportBatch.objects.get()
    rows = ImportRow.objects.filter(batch=batch).count()
    assert rows > 0
    batch.delete()
    assert ImportRow.objects.count() == 0


class _NotUnpicklable(Exception):
    def __init__(self, message: str, extra: str) -> None:
        super().__init__(message)  # pickled as (message,): rebuilding it needs ``extra`` too
        self.extra = extra


def test_an_error_the_parser_process_cannot_hand_over_still_fails_the_import(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # An exception the importing process could not unpickle reaches it as a RuntimeError
    # naming its type, and the import fails after the chunks before it, as for any error.
    path = resume_survey(tmp_path)
    parse_raising_at(monkeypatch, 25, _NotUnpicklable("parser broke", "and more"))  # chunk 3
    with pytest.raises(RuntimeError, match="^_NotUnpicklable$"):
        run(path, chunk_size=10)
    batch = ImportBatch.objects.get()
    assert (batch.state, batch.rows_done, batch.error) == ("failed", 20, "导入中断：RuntimeError")
    assert not read_ahead_threads()
