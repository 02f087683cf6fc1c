"""Small real files for upload tests."""

from __future__ import annotations

import io

from pypdf import PdfWriter

PDF_MARKER = "Li Xiaotong resume 13512340001"


def make_pdf(pages: int = 1, *, password: str = "", text: str = PDF_MARKER) -> bytes:
    """A valid PDF of blank A4 pages with ``text`` as its title (to look for in ciphertext)."""
    writer = PdfWriter()
    for _ in range(pages):
        writer.add_blank_page(width=595, height=842)
    writer.add_metadata({"/Title": text})
    if password:
        writer.encrypt(password)
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()
