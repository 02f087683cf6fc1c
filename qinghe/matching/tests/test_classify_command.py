"""``classify_job_titles`` on files as offices save them, and staff corrections teaching the
classifier."""

from __future__ import annotations

import codecs
import io
import re
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from qinghe.accounts.models import User
from qinghe.enterprises.tests.factories import make_posting
from qinghe.matching.services.tags import classify_titles, posting_occupation_correct

from .conftest import Matching

pytestmark = pytest.mark.django_db

CODE = re.compile(r"\d-\d{2}-\d{2}-\d{2}")


def run(path: Path | str, top: int = 3) -> list[str]:
    out = io.StringIO()
    call_command("classify_job_titles", "--input", str(path), "--top", str(top), stdout=out)
    text = out.getvalue()
    assert text.endswith("\n")
    return text[:-1].split("\n")


@pytest.mark.parametrize(
    "encode",
    [
        lambda s: s.encode("utf-8"),
        lambda s: codecs.BOM_UTF8 + s.encode("utf-8"),
        lambda s: s.encode("gbk"),
        lambda s: codecs.BOM_UTF16_LE + s.encode("utf-16-le"),
    ],
    ids=["utf-8", "utf-8-bom", "gbk", "utf-16"],
)
@pytest.mark.parametrize("newline", ["\n", "\r\n", "\r"], ids=["lf", "crlf", "cr"])
def test_every_encoding_and_line_end_gives_one_line_per_title(
    matching: Matching, tmp_path: Path, encode: object, newline: str
) -> None:
    titles = ["会计", " 【急聘】会计（五险一金） ", "", "出纳\x0c员"]
    path = tmp_path / "titles.txt"
    path.write_bytes(encode(newline.join(titles) + newline))  # type: ignore[operator]
    lines = run(path)
    assert [line.split("\t")[0] for line in lines] == titles
    codes = [line.split("\t")[1] for line in lines]
    assert codes[2] == ""
    assert codes[0] == codes[1]  # the decorated title is classified as the plain one
    for value in (codes[0], codes[3]):
        assert len(value.split(",")) == 3 and all(CODE.fullmatch(c) for c in value.split(","))


def test_a_missing_file_a_directory_and_a_binary_file_are_refused_in_chinese(
    matching: Matching, tmp_path: Path
) -> None:
    with pytest.raises(CommandError, match="^找不到文件："):
        run(tmp_path / "nope.txt")
    with pytest.raises(CommandError, match="是目录，请给出一个文本文件$"):
        run(tmp_path)
    xlsx = tmp_path / "titles.xlsx"
    xlsx.write_bytes(b"PK\x03\x04\x14\x00\x00\x00\x08\x00" + bytes(64))
    with pytest.raises(CommandError, match="^输入文件不是纯文本"):
        run(xlsx)
    for top in ("0", "51", "abc"):
        with pytest.raises(CommandError, match=f"--top 应为 1–50 之间的整数，而不是 '{top}'"):
            run(tmp_path / "nope.txt", top=top)  # type: ignore[arg-type]
    with pytest.raises(CommandError, match="^--top 应为 1–50 之间的整数$"):
        call_command("classify_job_titles", input="-", top=0)


def test_standard_input(matching: Matching, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO("会计\n".encode("gbk"))))
    lines = run("-", top=2)
    assert len(lines) == 1 and lines[0].startswith("会计\t")


def test_a_staff_correction_teaches_the_classifier(matching: Matching) -> None:
    hr = User.objects.get(username="renshe")
    # The catalog lists 跟单 under 秘书 and the model reads 面料 as fabric design; at a
    # garment exporter 面料跟单 is trade work (国际商务专业人员).
    before = classify_titles(["面料跟单员", "面料跟单"], k=3)
    assert [codes[0] for codes in before if codes[0] == "2-06-07-01"] == []
    posting = make_posting(matching.world.a, title="面料跟单员")
    posting_occupation_correct(actor=hr, posting=posting, code="2-06-07-01")
    after = classify_titles(["面料跟单员", "面料跟单"], k=3)
    # The corrected title, and a similar one nobody corrected, follow the correction.
    assert [codes[0] for codes in after] == ["2-06-07-01", "2-06-07-01"]
