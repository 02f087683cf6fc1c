"""The talent list export, immediate or in the background (qinghe/exports). Both write the
same file through ``services.talents_export`` (same columns, same masking, same audit row);
a list longer than QINGHE_EXPORT_BACKGROUND_ROWS is queued and the owner gets a progress page,
a message in 我的消息 and a download link."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from qinghe.accounts.models import Organisation
from qinghe.reference.models import MajorCategory, Town

from . import services
from .models import Talent
from .selectors import VERIFICATION_FILTERS, TalentFilter

if TYPE_CHECKING:
    from qinghe.accounts.models import User
    from qinghe.exports.models import Export


def talents_export_describe(filters: TalentFilter) -> str:
    """The filters in words, as the export page and the owner's message show them; a search
    by ID number or phone only masked."""
    parts: list[str] = []
    query = filters.query
    if query is not None:
        parts.append(f"查找：{query.shown}")
    if filters.university:
        parts.append(f"院校：{filters.university}")
    if filters.major_category:
        category = MajorCategory.objects.filter(code=filters.major_category).first()
        parts.append(f"专业类：{category.name if category else filters.major_category}")
    if filters.graduation_year:
        parts.append(f"{filters.graduation_year} 届")
    if filters.status:
        parts.append(f"状态：{Talent.Status(filters.status).label}")
    if filters.native_evidence:
        parts.append(f"鹤山籍依据：{Talent.Evidence(filters.native_evidence).label}")
    if filters.town:
        town = Town.objects.filter(code=filters.town).first()
        parts.append(f"镇街：{town.name if town else filters.town}")
    if filters.returned_home:
        parts.append("已返乡就业" if filters.returned_home == "1" else "未返乡")
    if filters.chapter:
        chapter = Organisation.objects.filter(pk=filters.chapter).first()
        parts.append(f"联盟分会：{chapter.name if chapter else filters.chapter}")
    if filters.verification:
        parts.append(f"核实状态：{VERIFICATION_FILTERS[filters.verification]}")
    return "人才名单" + ("（" + "，".join(parts) + "）" if parts else "（全部）")


def talents_export_start(
    *, viewer: User, filters: TalentFilter, unmask: bool, reason: str, rows: int
) -> Export:
    """Queues the export of a long list. Refused before anything is written when the viewer
    may not export it in full or gave no reason."""
    from qinghe.exports.services import export_request

    services.talents_export_check(viewer=viewer, unmask=unmask, reason=reason)
    return export_request(
        owner=viewer,
        kind="talents",
        # Sealed in the table (qinghe.core.fields): ``q`` may be an ID number or a phone.
        params={"filters": filters.as_dict(), "unmask": unmask, "reason": reason.strip()[:300]},
        description=talents_export_describe(filters),
        rows_expected=rows,
        unmasked=unmask,
    )


def talents_export_write(
    *, owner: User, params: dict[str, Any], progress: Any
) -> tuple[bytes, int]:
    """The background writer (qinghe/exports/kinds.py): the owner's permissions are checked
    again now, and the list is read as it is now."""
    filters = TalentFilter.from_query(params.get("filters") or {})
    return services.talents_export(
        viewer=owner,
        filters=filters,
        unmask=bool(params.get("unmask")),
        reason=str(params.get("reason") or ""),
        progress=progress,
    )
