"""Plain-text files as bureaus and enterprises save them: UTF-8 with or without a byte order
mark, UTF-16 from Excel's and Notepad's "Unicode text", and GBK/GB18030 from Chinese Windows."""

from __future__ import annotations

import codecs

# Tried in order after the byte order marks: strict UTF-8 first (GB18030 would also accept
# many UTF-8 byte strings as garbage), then the Chinese Windows code page.
FALLBACK_ENCODINGS = ("utf-8", "gb18030")


class UndecodableText(ValueError):
    """The bytes are not text in any encoding we accept; the message says so in Chinese."""


def decode_text(data: bytes, *, what: str = "文件") -> str:
    """The text of ``data``. A byte order mark decides; without one, UTF-8, then GB18030.
    Raises UndecodableText for binary data (a spreadsheet saved as .txt, say)."""
    for bom, encoding in (
        (codecs.BOM_UTF8, "utf-8-sig"),
        (codecs.BOM_UTF16_LE, "utf-16"),
        (codecs.BOM_UTF16_BE, "utf-16"),
    ):
        if data.startswith(bom):
            try:
                return data.decode(encoding)
            except UnicodeDecodeError as exc:
                raise UndecodableText(
                    f"{what}以 {encoding.upper()} 标记开头，但第 {exc.start + 1} 个字节起无法解码"
                ) from exc
    if b"\x00" in data[:4096]:
        raise UndecodableText(f"{what}不是纯文本（含二进制内容）：请另存为 UTF-8 或 GBK 编码的文本")
    for encoding in FALLBACK_ENCODINGS:
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise UndecodableText(f"无法识别{what}的编码（支持 UTF-8、UTF-16 与 GB18030/GBK）")
