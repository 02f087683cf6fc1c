"""Staff pages of the talent database. Thin: parse, select, call one service, render."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from qinghe.accounts.models import Organisation
from qinghe.core import fragments
from qinghe.core.errorhandling import redirect_on_error
from qinghe.core.errors import ApplicationError, validation_message
from qinghe.core.http import AuthedRequest
from qinghe.core.pagination import CountedPaginator
from qinghe.exports.services import background_threshold
from qinghe.reference.models import MajorCategory, Town

from . import claims, exporting, selectors, services, services_self
from .models import Consent, Talent, ValueChange

# The staff list's counts may be this old after writes that bump no version (an import's).
TALENT_COUNTS_SECONDS = 60
# The filter form's reference data and fixed choices are kept this long (talent_list.html).
FILTER_FORM_CACHE_SECONDS = 600


def _get_talent(request: AuthedRequest, talent_id: int) -> Talent:
    return selectors.talent_get_for_viewer(viewer=request.user, talent_id=talent_id)


@require_GET
def talent_list(request: AuthedRequest) -> HttpResponse:
    filters = selectors.TalentFilter.from_query(request.GET)
    talents = selectors.talent_list(viewer=request.user, filters=filters)
    # The counts (by status, awaiting verification, the pager's) are kept per role and
    # filters until a record is saved, at most TALENT_COUNTS_SECONDS (an import's bulk writes:
    # docs/SCALING.md, "Page caches"); the records listed are read on each request (below).
    role = getattr(request.user, "role", None)
    overview = fragments.kept(
        "talent-overview",
        (fragments.TALENTS,),
        (role, filters),
        lambda: selectors.talent_overview(viewer=request.user, filters=filters),
        seconds=TALENT_COUNTS_SECONDS,
        shared=True,
    )
    # The list's row count is the overview's (same filters, one query): no second COUNT.
    page = CountedPaginator(talents, 30, count=overview["rows"]).get_page(request.GET.get("page"))
    # Which records the page lists (their ids) is kept like the counts, per role, filters and
    # page: finding them can walk much of the table (a graduation year's or a name's filter:
    # 20-130 ms of database time at 100k talents). The records are read on each request by
    # those ids through the same filtered, ordered list, so what they show is current and a
    # record that left the list (merged, no longer matching) is not shown.
    drawn: list[list[Talent]] = []

    def draw() -> list[int]:
        listed = page.object_list
        assert isinstance(listed, QuerySet)  # a slice of ``talents``
        drawn.append(list(listed.prefetch_related("educations")))
        return [talent.pk for talent in drawn[0]]

    ids = fragments.kept(
        "talent-page",
        (fragments.TALENTS,),
        (role, filters, page.number),
        draw,
        seconds=TALENT_COUNTS_SECONDS,
        shared=True,
    )
    if drawn:
        page.object_list = drawn[0]
    else:
        again = selectors.talent_list(viewer=request.user, filters=filters, among=ids)
        page.object_list = list(again.prefetch_related("educations")) if ids else []
    year = timezone.localdate().year
    return render(
        request,
        "talents/talent_list.html",
        {
            "page": page,
            "filters": filters,
            "statuses": Talent.Status.choices,
            "evidences": [(selectors.NATIVE_ANY, "任一鹤山籍依据"), *Talent.Evidence.choices],
            "categories": MajorCategory.objects.order_by("kind", "code").only("code", "name"),
            "towns": Town.objects.order_by("code").only("code", "name"),
            "chapters": Organisation.objects.filter(kind=Organisation.Kind.CHAPTER).order_by(
                "name"
            ),
            "years": list(range(year + 4, year - 12, -1)),
            # the filter form's reference data (major categories, towns: changed by
            # `load_reference`) and fixed choices, rendered once per choice of those filters
            # and kept this long (talent_list.html); the chapters and the verification
            # counts are drawn each time
            "filter_cache_seconds": FILTER_FORM_CACHE_SECONDS,
            "segments": selectors.segment_list(viewer=request.user),
            "overview": overview,
            "verification_filters": selectors.VERIFICATION_FILTERS,
            "verification_counts": fragments.kept(
                "talent-verification-counts",
                (fragments.TALENTS,),
                (role,),
                lambda: selectors.verification_counts(viewer=request.user),
                seconds=TALENT_COUNTS_SECONDS,
                shared=True,
            ),
            "can_unmask": selectors.can_unmask(request.user, "id_number")
            and selectors.can_unmask(request.user, "phone"),
        },
    )


@require_GET
def talent_detail(request: AuthedRequest, talent_id: int) -> HttpResponse:
    talent = _get_talent(request, talent_id)
    return render(
        request,
        "talents/talent_detail.html",
        {
            "talent": talent,
            "phones": talent.phones.order_by("-is_current", "-first_seen"),
            "educations": talent.educations.select_related("university", "major_category"),
            "destinations": talent.destinations.select_related("industry", "occupation"),
            "timeline": selectors.talent_timeline(talent=talent),
            "conflicts": selectors.conflicts_for(talent=talent),
            # Survey rows imported with a wrong phone or year left empty (import summary: flagged).
            "followups": talent.import_rows.filter(flagged=True)
            .select_related("batch")
            .order_by("-batch_id", "row_number"),
            "consents": [
                (Consent.Purpose(purpose).label, granted)
                for purpose, granted in selectors.consent_state(talent=talent).items()
            ],
            "field_labels": selectors.FIELD_LABELS,
            "can_unmask_id": selectors.can_unmask(request.user, "id_number"),
            "can_unmask_phone": selectors.can_unmask(request.user, "phone"),
            "can_edit": request.user.role in selectors.TALENT_EDITORS,
            "can_verify": talent.verification == Talent.Verification.PENDING
            and selectors.can_verify(request.user, talent),
            "held_rows": claims.held_rows_for_staff(talent=talent),
            "claims_awaiting": claims.claims_awaiting_staff(talent=talent),
            "can_decide_claims": selectors.can_verify(request.user, talent),
        },
    )


@require_POST
@redirect_on_error("talents:detail", "talent_id")
def talent_verify(request: AuthedRequest, talent_id: int) -> HttpResponse:
    """核实无误 / 不属实 on a record a student created; refusals come back as a message."""
    talent = _get_talent(request, talent_id)
    claim_id = request.POST.get("claim", "")
    if claim_id:
        # A claim of this record awaiting staff: the same decision flow.
        if not claim_id.isdigit():
            raise Http404("未找到该记录")
        claim = claims.claim_decide(
            viewer=request.user,
            claim_id=int(claim_id),
            talent=talent,
            decision=request.POST.get("decision", ""),
            reason=request.POST.get("reason", ""),
        )
        messages.success(request, f"已记录：{claim.get_state_display()}。")
        owned = Talent.objects.filter(user_id=claim.user_id).first()
        if claim.state == claim.State.APPROVED and owned is not None:
            return redirect("talents:detail", talent_id=owned.pk)
        return redirect("talents:detail", talent_id=talent.pk)
    decided = services_self.talent_verification_decide(
        viewer=request.user,
        talent=talent,
        decision=request.POST.get("decision", ""),
        reason=request.POST.get("reason", ""),
    )
    messages.success(request, f"已记录：{decided.get_verification_display()}。")
    return redirect("talents:detail", talent_id=talent.pk)


@require_POST
def talent_unmask(request: AuthedRequest, talent_id: int) -> HttpResponse:
    talent = _get_talent(request, talent_id)
    field = request.POST.get("field", "")
    if field not in {"id_number", "phone"}:
        return HttpResponse("未知字段", status=400, content_type="text/plain; charset=utf-8")
    try:
        value = services.talent_unmask(
            viewer=request.user,
            talent=talent,
            field=field,
            reason=request.POST.get("reason", ""),
        )
    except ValidationError as exc:
        return render(
            request, "talents/_unmask_error.html", {"error": validation_message(exc)}, status=400
        )
    except ApplicationError as exc:
        return render(
            request, "talents/_unmask_error.html", {"error": exc.message}, status=exc.status_code
        )
    return render(request, "talents/_unmasked.html", {"value": value or "（无）"})


@require_POST
@redirect_on_error("talents:detail", "talent_id")
def value_change_resolve(request: AuthedRequest, talent_id: int, change_id: int) -> HttpResponse:
    talent = _get_talent(request, talent_id)
    change = ValueChange.objects.filter(pk=change_id, talent=talent).first()
    if change is None:
        raise Http404("未找到该记录")
    services.value_change_resolve(
        viewer=request.user,
        change=change,
        choose=request.POST.get("choose", ""),
    )
    messages.success(request, "已核实。")
    return redirect("talents:detail", talent_id=talent.pk)


@require_http_methods(["GET", "POST"])
def talent_export(request: AuthedRequest) -> HttpResponse:
    """The filtered list as .xlsx. Up to QINGHE_EXPORT_BACKGROUND_ROWS rows: the file at once.
    Longer: a POST (the list page's buttons) queues a background export and opens its
    progress page; a GET (an old link) asks to confirm with a button, since a GET changes
    nothing."""
    data = request.POST if request.method == "POST" else request.GET
    filters = selectors.TalentFilter.from_query(data)
    unmask = data.get("unmask") == "1"
    reason = data.get("reason", "")
    back = f"{reverse('talents:list')}?{urlencode(filters.as_dict())}"
    rows = selectors.talent_list(viewer=request.user, filters=filters).count()
    try:
        if rows > background_threshold():
            if request.method != "POST":
                services.talents_export_check(viewer=request.user, unmask=unmask, reason=reason)
                return render(
                    request,
                    "talents/export_confirm.html",
                    {
                        "rows": rows,
                        "fields": [(k, v) for k, v in data.items() if k != "csrfmiddlewaretoken"],
                        "description": exporting.talents_export_describe(filters),
                        "back": back,
                    },
                )
            export = exporting.talents_export_start(
                viewer=request.user, filters=filters, unmask=unmask, reason=reason, rows=rows
            )
            messages.success(request, f"共 {rows} 行，正在后台生成，完成后会在“我的消息”中通知你。")
            return redirect("exports:detail", export_id=export.pk)
        content, count = services.talents_export(
            viewer=request.user, filters=filters, unmask=unmask, reason=reason
        )
    except ValidationError as exc:
        messages.error(request, validation_message(exc))
        return redirect(back)
    except ApplicationError as exc:
        messages.error(request, exc.message)
        return redirect("talents:list")
    response = HttpResponse(
        content, content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    response["Content-Disposition"] = f'attachment; filename="talents-{stamp}.xlsx"'
    response["X-Row-Count"] = str(count)
    return response


@require_POST
@redirect_on_error("talents:list")
def segment_create(request: AuthedRequest) -> HttpResponse:
    filters = selectors.TalentFilter.from_query(request.POST)
    segment = services.segment_create(
        owner=request.user, name=request.POST.get("name", ""), filters=filters
    )
    messages.success(request, f"已保存分组“{segment.name}”。")
    return redirect("talents:segment_detail", segment_id=segment.pk)


@require_GET
def segment_list(request: AuthedRequest) -> HttpResponse:
    segments = [
        (segment, selectors.segment_members(viewer=request.user, segment=segment).count())
        for segment in selectors.segment_list(viewer=request.user)
    ]
    return render(request, "talents/segment_list.html", {"segments": segments})


@require_GET
def segment_detail(request: AuthedRequest, segment_id: int) -> HttpResponse:
    segment = selectors.segment_get_for_viewer(viewer=request.user, segment_id=segment_id)
    members = selectors.segment_members(viewer=request.user, segment=segment)
    page = Paginator(members.prefetch_related("educations"), 30).get_page(request.GET.get("page"))
    return render(request, "talents/segment_detail.html", {"segment": segment, "page": page})


@require_GET
def duplicate_list(request: AuthedRequest) -> HttpResponse:
    return render(
        request,
        "talents/duplicates.html",
        {
            "groups": selectors.duplicate_groups(viewer=request.user),
            "can_edit": request.user.role in selectors.TALENT_EDITORS,
        },
    )


@require_POST
@redirect_on_error("talents:duplicates")
def talent_merge(request: AuthedRequest) -> HttpResponse:
    ids = [int(v) for v in request.POST.getlist("talent") if v.isdigit()]
    keep_id = request.POST.get("keep", "")
    if not keep_id.isdigit() or int(keep_id) not in ids or len(ids) < 2:
        messages.error(request, "请选择至少两条记录，并指定保留哪一条。")
        return redirect("talents:duplicates")
    keep = _get_talent(request, int(keep_id))
    others = [_get_talent(request, i) for i in ids if i != keep.pk]
    services.talent_merge(viewer=request.user, keep=keep, others=others)
    messages.success(request, f"已合并 {len(others)} 条记录。")
    return redirect("talents:detail", talent_id=keep.pk)
