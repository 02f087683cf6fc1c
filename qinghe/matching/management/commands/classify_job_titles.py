"""Classifies job titles, one per line, into occupations of the 2022 catalog.

    python manage.py classify_job_titles --input titles.txt --top 5

Prints one line per input line: the title as given, a tab, and the K most likely occupation
codes best first, comma-separated (2-02-10-03,2-02-10-04,...). A title with nothing in
common with the catalog, and a blank line, print the title and a tab. ``--input -`` reads
standard input. The file may be UTF-8 (with or without BOM), UTF-16 with BOM, or GBK/GB18030;
line ends may be LF, CRLF or CR. Titles are classified after trimming spaces, but printed as
given (without the line end)."""

from __future__ import annotations

import argparse
import re
import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from qinghe.core.errors import ApplicationError
from qinghe.core.textfiles import UndecodableText, decode_text
from qinghe.matching.services.tags import classify_titles
from qinghe.reference.models import Occupation

_LINE_ENDS = re.compile(r"\r\n|\r|\n")


def _top(value: str) -> int:
    try:
        k = int(value)
    except ValueError:
        k = 0
    if not 1 <= k <= 50:
        raise argparse.ArgumentTypeError(f"--top 应为 1–50 之间的整数，而不是 {value!r}")
    return k


class Command(BaseCommand):
    help = "把岗位名称（每行一个）归入《职业分类大典》2022 的职业，输出前 K 个职业代码"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--input",
            required=True,
            help="文件路径（每行一个岗位名称；UTF-8、UTF-16 或 GBK 编码）；- 为标准输入",
        )
        parser.add_argument(
            "--top", type=_top, default=5, help="每个名称输出的职业代码个数，1–50（默认 5）"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        k = options["top"]
        if not 1 <= k <= 50:  # call_command(top=...) does not go through the parser
            raise CommandError("--top 应为 1–50 之间的整数")
        if not Occupation.objects.filter(level=Occupation.Level.OCCUPATION).exists():
            raise CommandError("职业分类大典尚未载入，请先运行 python manage.py load_reference")
        path = options["input"]
        try:
            if path == "-":
                stream = getattr(sys.stdin, "buffer", None)
                data = stream.read() if stream is not None else sys.stdin.read().encode()
            else:
                with open(path, "rb") as handle:
                    data = handle.read()
        except FileNotFoundError as exc:
            raise CommandError(f"找不到文件：{path}") from exc
        except IsADirectoryError as exc:
            raise CommandError(f"{path} 是目录，请给出一个文本文件") from exc
        except OSError as exc:
            raise CommandError(f"无法读取 {path}：{exc.strerror or exc}") from exc
        try:
            raw = decode_text(data, what="输入文件")
        except UndecodableText as exc:
            raise CommandError(str(exc)) from exc
        # Lines end at LF, CRLF or CR only (str.splitlines would also split a title at a
        # form feed or U+2028 and print more lines than were given).
        titles = _LINE_ENDS.split(raw)
        if titles and titles[-1] == "":
            titles.pop()
        try:
            ranked = classify_titles([t.strip() for t in titles], k=k)
        except ApplicationError as exc:
            raise CommandError(exc.message) from exc
        for title, codes in zip(titles, ranked, strict=True):
            self.stdout.write(f"{title}\t{','.join(codes)}")
