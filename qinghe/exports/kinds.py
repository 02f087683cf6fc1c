"""What can be exported in the background: each kind names its writer, a function
``(owner, params, progress) -> (content, rows)`` in the app that owns the data. The writer
applies the same columns, masking and permission checks as that app's immediate export, and
writes the same audit row; ``progress(done, total)`` is called as rows are written."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.utils.module_loading import import_string

if TYPE_CHECKING:
    from qinghe.accounts.models import User

Progress = Callable[[int, int], None]
Writer = Callable[..., tuple[bytes, int]]


@dataclass(frozen=True)
class ExportKind:
    label: str
    writer: str  # dotted path, so this app imports no domain app
    filename: str  # with {stamp}
    content_type: str

    def write(
        self, *, owner: User, params: dict[str, Any], progress: Progress
    ) -> tuple[bytes, int]:
        function: Writer = import_string(self.writer)
        return function(owner=owner, params=params, progress=progress)


XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

KINDS: dict[str, ExportKind] = {
    "talents": ExportKind(
        label="人才名单",
        writer="qinghe.talents.exporting.talents_export_write",
        filename="talents-{stamp}.xlsx",
        content_type=XLSX,
    ),
}
