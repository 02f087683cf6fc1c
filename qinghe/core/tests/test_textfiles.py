"""Text files as offices save them."""

from __future__ import annotations

import codecs

import pytest

from qinghe.core.textfiles import UndecodableText, decode_text

TEXT = "会计\r\n出纳\r\n"


@pytest.mark.parametrize(
    "data",
    [
        TEXT.encode("utf-8"),
        codecs.BOM_UTF8 + TEXT.encode("utf-8"),
        TEXT.encode("gbk"),
        TEXT.encode("gb18030"),
        codecs.BOM_UTF16_LE + TEXT.encode("utf-16-le"),
        codecs.BOM_UTF16_BE + TEXT.encode("utf-16-be"),
    ],
    ids=["utf-8", "utf-8-bom", "gbk", "gb18030", "utf-16-le", "utf-16-be"],
)
def test_every_encoding_offices_use_decodes_to_the_same_text(data: bytes) -> None:
    assert decode_text(data) == TEXT


def test_binary_data_is_refused_with_a_chinese_reason() -> None:
    with pytest.raises(UndecodableText, match="^输入文件不是纯文本（含二进制内容）"):
        decode_text(b"PK\x03\x04\x00\x00binary", what="输入文件")


def test_bytes_that_are_no_known_encoding_are_refused() -> None:
    with pytest.raises(UndecodableText, match="^无法识别文件的编码"):
        decode_text(b"abc\x81\x20\xff")


def test_a_broken_utf16_file_says_where() -> None:
    with pytest.raises(UndecodableText, match="UTF-16 标记开头"):
        decode_text(codecs.BOM_UTF16_LE + b"\x00\xd8")
