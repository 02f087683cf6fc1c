"""Staff-facing JSON for the talent database. Always masked; unmasking is a page action with
a reason, audited (see views.talent_unmask)."""

from __future__ import annotations

from django.http import Http404
from ninja import Query, Router, Schema

from qinghe.core.errors import NotFound
from qinghe.core.http import AuthedRequest
from qinghe.core.masking import mask_phone
from qinghe.core.pagination import PageIn

from . import selectors

router = Router()


class TalentOut(Schema):
    id: int
    name: str
    id_number: str
    phone: str
    status: str
    status_label: str
    native_evidence: str
    returned_home: bool
    graduation_year: int | None
    university: str
    major: str


class TalentFilterIn(PageIn):
    q: str = ""
    university: str = ""
    major_category: str = ""
    graduation_year: int | None = None
    status: str = ""
    native_evidence: str = ""
    town: str = ""


def _out(talent) -> TalentOut:  # type: ignore[no-untyped-def]
    phones = [p for p in talent.phones.all() if p.is_current]
    educations = sorted(talent.educations.all(), key=lambda e: e.graduation_year or 0, reverse=True)
    edu = educations[0] if educations else None
    return TalentOut(
        id=talent.pk,
        name=talent.name_masked,
        id_number=talent.id_masked,
        phone=mask_phone(phones[0].number) if phones else "",
        status=talent.status,
        status_label=str(talent.get_status_display()),
        native_evidence=talent.native_evidence,
        returned_home=talent.returned_home,
        graduation_year=talent.graduation_year,
        university=edu.university_name if edu else "",
        major=edu.major_name if edu else "",
    )


@router.get("/", response=list[TalentOut], url_name="talent_list", summary="人才列表（脱敏）")
def talent_list(request: AuthedRequest, filters: Query[TalentFilterIn]) -> list[TalentOut]:
    data = {k: ("" if v is None else v) for k, v in filters.dict().items()}
    talent_filter = selectors.TalentFilter.from_query(data)
    limit, offset = filters.limit, filters.offset
    qs = selectors.talent_list(viewer=request.user, filters=talent_filter).prefetch_related(
        "phones", "educations"
    )
    return [_out(t) for t in qs[offset : offset + limit]]


@router.get(
    "/{talent_id}", response=TalentOut, url_name="talent_detail", summary="人才详情（脱敏）"
)
def talent_detail(request: AuthedRequest, talent_id: int) -> TalentOut:
    try:
        talent = selectors.talent_get_for_viewer(viewer=request.user, talent_id=talent_id)
    except NotFound as exc:
        raise Http404(exc.message) from exc
    return _out(talent)
