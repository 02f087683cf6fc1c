"""Rebuilds the catalog's sentence vectors (``qinghe/matching/data/e5_catalog.npz``) from the
occupation catalog file: every name and listed title as a query, every name and definition as
a passage. About 80 s on two cores for the whole catalog; run after the catalog changes
(``make embeddings``), then ship the file."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from qinghe.matching.classify import docs_from_csv
from qinghe.matching.embedding import CACHE_FILE, build_cache


class Command(BaseCommand):
    help = "重建职业分类大典的句向量文件（data/e5_catalog.npz，约 80 秒）"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--output", type=Path, default=CACHE_FILE, help=f"写到哪里（默认 {CACHE_FILE}）"
        )
        parser.add_argument(
            "--limit", type=int, default=0, help="只取大典的前 N 个职业（试运行；0 为全部）"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        output: Path = options["output"]
        docs = docs_from_csv()
        if options["limit"] > 0:
            docs = docs[: options["limit"]]
        started = time.perf_counter()
        n_queries, n_passages = build_cache(docs, output)
        self.stdout.write(
            f"{output.name}: {n_queries} titles, {n_passages} occupations "
            f"in {time.perf_counter() - started:.1f} s"
        )
