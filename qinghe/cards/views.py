"""鹤才青年卡 pages: the holder's card, application and phone-sized e-card; staff review,
approval and card services; the partner's verify-and-log page; and the two public endpoints
(the JWK Set and the online check). Thin: parse, select, call one service, render."""

from __future__ import annotations

import base64
import io
from typing import Any

import qrcode
import qrcode.image.svg
from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from qinghe.core.audit import audit_record
from qinghe.core.errorhandling import redirect_on_error, redirect_on_error_to
from qinghe.core.errors import ApplicationError, NotFound
from qinghe.core.http import AuthedRequest
from qinghe.stations import selectors as station_selectors
from qinghe.stations.models import Service
from qinghe.stations.specialists import specialist_for_person

from . import dependants, materials, selectors, services, tiers, tokens
from .forms import ApplyForm, BenefitForm, ChangeForm, DependantForm, RenewForm, VerifyForm
from .models import Card
from .workflow import HOLDER, HR, STATION, TRANSITIONS


def qr_data_uri(text: str) -> str:
    image = qrcode.make(text, image_factory=qrcode.image.svg.SvgPathImage, box_size=8)
    buffer = io.BytesIO()
    image.save(buffer)
    return "data:image/svg+xml;base64," + base64.b64encode(buffer.getvalue()).decode()


# ---- the holder ---------------------------------------------------------------------------


@require_GET
def mine(request: AuthedRequest) -> HttpResponse:
    card = selectors.card_current_for_holder(viewer=request.user)
    scheme = tiers.scheme()
    return render(
        request,
        "cards/mine.html",
        {
            "card": card,
            "tier_name": scheme.tier_name(card.tier) if card and card.tier else "",
            "benefits": scheme.benefits_of(card.tier) if card and card.tier else [],
            "history": selectors.benefit_history_for_holder(viewer=request.user)[:50],
            "benefit_names": {b.code: b.name for b in scheme.benefits.values()},
            "dependant_relations": (
                scheme.dependant_relations(card.tier)
                if card and card.tier and card.state == Card.State.ACTIVE
                else ()
            ),
            "moves": TRANSITIONS_FOR_HOLDER if card and card.state == Card.State.ACTIVE else [],
            "specialist": specialist_for_person(viewer=request.user),
            "ask_services": (
                Service.objects.filter(holder_may_ask=True)
                if card and card.state == Card.State.ACTIVE
                else []
            ),
            "my_requests": station_selectors.requests_of_holder(viewer=request.user),
            "change_form": ChangeForm(),
            "renew_form": RenewForm(),
        },
    )


TRANSITIONS_FOR_HOLDER = [m.action for m in TRANSITIONS.values() if HOLDER in m.by]


@require_http_methods(["GET", "POST"])
def apply(request: AuthedRequest) -> HttpResponse:
    prefill = selectors.card_prefill(viewer=request.user)
    if prefill is None:
        messages.error(request, "请先在“我的档案”认领或建立你的档案，再申请鹤才青年卡")
        return redirect("me:home")
    form = ApplyForm(request.POST or None, request.FILES or None, initial=prefill.initial)
    if request.method == "POST" and form.is_valid():
        data = services.ApplyData(
            employer=form.cleaned_data["employer"],
            employer_uscc=form.cleaned_data["employer_uscc"],
            employer_since=form.cleaned_data["employer_since"],
            contract_end=form.cleaned_data["contract_end"],
            requested_tier=form.cleaned_data["requested_tier"],
            has_qualification=form.cleaned_data["has_qualification"],
            uploads=form.uploads(),
        )
        try:
            services.card_apply(user=request.user, data=data)
        except ValidationError as exc:
            for field, errors in exc.message_dict.items():
                form.add_error(field if field in form.fields else None, errors)
        else:
            messages.success(request, "申请已提交，人才驿站将尽快初审")
            return redirect("cards:mine")
    return render(request, "cards/apply.html", {"form": form, "prefill": prefill})


@require_POST
@redirect_on_error("cards:mine")
def holder_act(request: AuthedRequest, action: str) -> HttpResponse:
    card = selectors.card_current_for_holder(viewer=request.user)
    if card is None or action not in TRANSITIONS_FOR_HOLDER:
        raise NotFound("没有这张卡")
    params: dict[str, Any] = {}
    if action in ("report_change", "renew"):
        form = ChangeForm(request.POST) if action == "report_change" else RenewForm(request.POST)
        if not form.is_valid():
            raise ValidationError({k: v[0] for k, v in form.errors.items()})
        params = form.cleaned_data
    services.card_transition(card=card, action=action, actor=request.user, **params)
    messages.success(request, f"已{TRANSITIONS[action].label}")
    return redirect("cards:mine")


@require_GET
@never_cache
def ecard(request: AuthedRequest) -> HttpResponse:
    shown = selectors.ecard_for_holder(viewer=request.user)
    return render(
        request,
        "cards/ecard.html",
        {
            "shown": shown,
            "number": shown.card.number if shown else "",
            "valid_until": shown.card.valid_until if shown else None,
            "qr": qr_data_uri(shown.token) if shown else "",
            "tier_name": tiers.scheme().tier_name(shown.card.tier) if shown else "",
            "api": reverse("api:card_me"),
            "back": reverse("cards:mine"),
            "missing": "你没有有效的鹤才青年卡。",
            "seconds": tokens.DISPLAY_SECONDS,
        },
    )


# ---- staff ----------------------------------------------------------------------------------


@require_GET
def manage(request: AuthedRequest) -> HttpResponse:
    state = request.GET.get("state", "")
    if state not in Card.State.values:
        state = ""
    cards = selectors.card_list_for_staff(viewer=request.user, state=state)[:200]
    return render(
        request,
        "cards/manage.html",
        {
            "cards": cards,
            "state": state,
            "states": Card.State.choices,
            "scheme": tiers.scheme(),
            "pending_dependants": dependants.dependants_for_staff(viewer=request.user).filter(
                state__in=dependants.PENDING
            )[:50],
        },
    )


def _party_of(request: AuthedRequest, card: Card) -> str | None:
    return services._party(request.user, card)


@require_GET
def manage_detail(request: AuthedRequest, card_id: int) -> HttpResponse:
    card = selectors.card_get_for_staff(viewer=request.user, card_id=card_id)
    party = _party_of(request, card)
    moves = [m for m in TRANSITIONS.values() if card.state in m.sources and party in m.by]
    eligible = tiers.eligible(
        selectors.facts_for(card.talent, qualification=card.has_qualification)
    )
    return render(
        request,
        "cards/manage_detail.html",
        {
            "card": card,
            "moves": moves,
            "eligible": eligible,
            "materials": card.materials.all(),
            "events": [
                (e, "提交申请" if e.action == "apply" else TRANSITIONS[e.action].label)
                for e in card.events.select_related("actor")
            ],
            "scheme": tiers.scheme(),
            "dependants": [
                (
                    d,
                    [
                        dependants.TRANSITIONS[a]
                        for a in STAFF_DEPENDANT_MOVES
                        if d.state in dependants.TRANSITIONS[a].sources
                        and dependants._party(request.user, d) in dependants.TRANSITIONS[a].by
                    ],
                )
                for d in card.dependants.prefetch_related("materials")
            ],
            "party": party,
            "staff_parties": (STATION, HR),
        },
    )


@require_POST
@redirect_on_error("cards:manage_detail", "card_id")
def act(request: AuthedRequest, card_id: int) -> HttpResponse:
    card = selectors.card_get_for_staff(viewer=request.user, card_id=card_id)
    action = request.POST.get("action", "")
    params: dict[str, Any] = {}
    if action == "approve" and request.POST.get("tier"):
        params["tier"] = request.POST["tier"]
    services.card_transition(
        card=card,
        action=action,
        actor=request.user,
        reason=request.POST.get("reason", ""),
        **params,
    )
    move = TRANSITIONS.get(action)
    messages.success(request, f"已{move.label if move else action}")
    return redirect("cards:manage_detail", card_id=card.pk)


@require_GET
def material(request: AuthedRequest, card_id: int, material_id: int) -> HttpResponse:
    card = selectors.card_get_for_staff(viewer=request.user, card_id=card_id)
    item = card.materials.filter(pk=material_id).first()
    if item is None:
        raise NotFound("没有这份材料")
    if item.purged_at is not None:
        raise NotFound("这份材料已超过保留期，已删除")
    data = materials.read(item.stored_name)
    audit_record(
        action="view",
        actor=request.user,
        target=card,
        summary=f"查看鹤才青年卡申请材料：{item.get_kind_display()}",
    )
    response = HttpResponse(data, content_type=item.content_type)
    ext = item.content_type.rsplit("/", 1)[-1].replace("jpeg", "jpg")
    response["Content-Disposition"] = f'inline; filename="material-{item.pk}.{ext}"'
    response["Cache-Control"] = "no-store"
    return response


# ---- partners -------------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
@never_cache
def partner(request: AuthedRequest) -> HttpResponse:
    token = (request.POST.get("t") or request.GET.get("t") or "").strip()
    check = selectors.card_check(token=token) if token else None
    if request.method == "POST" and request.POST.get("benefit"):
        form = BenefitForm(request.POST)
        if form.is_valid():
            try:
                services.benefit_use_log(
                    actor=request.user,
                    token=form.cleaned_data["t"],
                    benefit=form.cleaned_data["benefit"],
                )
            except ValidationError as exc:
                messages.error(request, "；".join(exc.messages))
            else:
                messages.success(request, "权益使用已登记")
                return redirect("cards:partner")
    scheme = tiers.scheme()
    response = render(
        request,
        "cards/partner.html",
        {
            "form": VerifyForm(initial={"t": token}),
            "token": token,
            "check": check,
            "benefits": (
                []
                if check is None or check.card is None
                else scheme.dependant_benefits_of(check.card.tier)
                if check.dependant
                else scheme.benefits_of(check.card.tier)
            ),
            "recent": selectors.benefit_uses_for_partner(viewer=request.user)[:20],
            "benefit_names": {b.code: b.name for b in scheme.benefits.values()},
            # For the check without a network (static/js/cards-offline.js): the published
            # public keys, the issuer and the tier names.
            "offline": {
                "jwks": tokens.jwks(),
                "iss": tokens.ISSUER,
                "tiers": {t.code: t.name for t in scheme.tiers},
            },
        },
    )
    # The one page that may use the camera (same origin only): the QR scan.
    response["Permissions-Policy"] = settings.PERMISSIONS_POLICY_CAMERA
    return response


# ---- public ---------------------------------------------------------------------------------


@require_GET
def jwks(request: HttpRequest) -> JsonResponse:
    response = JsonResponse(tokens.jwks())
    response["Cache-Control"] = "public, max-age=300"
    response["Access-Control-Allow-Origin"] = "*"
    return response


@require_GET
@never_cache
def verify(request: HttpRequest) -> HttpResponse:
    token = request.GET.get("t", "")
    check = selectors.card_check(token=token) if token else None
    return render(request, "cards/verify.html", {"check": check, "asked": bool(token)})


# ---- dependants' cards ------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
def dependants_page(request: AuthedRequest) -> HttpResponse:
    card = selectors.card_current_for_holder(viewer=request.user)
    scheme = tiers.scheme()
    relations = scheme.dependant_relations(card.tier) if card and card.tier else ()
    form = DependantForm(request.POST or None, request.FILES or None, relations=relations)
    if request.method == "POST":
        if form.is_valid():
            data = dependants.DependantData(
                relation=form.cleaned_data["relation"],
                name=form.cleaned_data["name"],
                id_number=form.cleaned_data["id_number"],
                uploads=form.uploads(),
            )
            try:
                dependants.dependant_apply(user=request.user, data=data)
            except ValidationError as exc:
                for name, errors in exc.message_dict.items():
                    form.add_error(name if name in form.fields else None, errors)
            except ApplicationError as exc:
                form.add_error(None, str(exc))
            else:
                messages.success(request, "家属卡申请已提交，人才驿站将尽快初审")
                return redirect("cards:dependants")
    return render(
        request,
        "cards/dependants.html",
        {
            "card": card,
            "allowed": bool(relations) and card is not None and card.state == Card.State.ACTIVE,
            "tier_name": scheme.tier_name(card.tier) if card and card.tier else "",
            "benefits": scheme.dependant_benefits_of(card.tier) if card and card.tier else [],
            "dependants": dependants.dependants_for_holder(viewer=request.user),
            "form": form,
        },
    )


@require_POST
@redirect_on_error("cards:dependants")
def dependant_void(request: AuthedRequest, dependant_id: int) -> HttpResponse:
    dep = dependants.dependant_get_for_holder(viewer=request.user, dependant_id=dependant_id)
    dependants.dependant_transition(dependant=dep, action="void", actor=request.user)
    messages.success(request, "家属卡已作废")
    return redirect("cards:dependants")


@require_GET
@never_cache
def dependant_ecard(request: AuthedRequest, dependant_id: int) -> HttpResponse:
    shown = dependants.ecard_for_dependant(viewer=request.user, dependant_id=dependant_id)
    return render(
        request,
        "cards/ecard.html",
        {
            "shown": shown,
            "number": shown.dependant.number if shown and shown.dependant else "",
            "valid_until": shown.dependant.valid_until if shown and shown.dependant else None,
            "qr": qr_data_uri(shown.token) if shown else "",
            "tier_name": tiers.scheme().tier_name(shown.card.tier) if shown else "",
            "dependant_label": (
                f"家属卡（{shown.dependant.get_relation_display()}）"
                if shown and shown.dependant
                else ""
            ),
            "api": reverse("api:card_dependant", kwargs={"dependant_id": dependant_id}),
            "back": reverse("cards:dependants"),
            "missing": "这张家属卡不在有效状态。",
            "seconds": tokens.DISPLAY_SECONDS,
        },
    )


@require_POST
@redirect_on_error("cards:manage")
def dependant_act(request: AuthedRequest, dependant_id: int) -> HttpResponse:
    dep = dependants.dependant_get_for_staff(viewer=request.user, dependant_id=dependant_id)
    redirect_on_error_to(request, reverse("cards:manage_detail", kwargs={"card_id": dep.card_id}))
    action = request.POST.get("action", "")
    if action not in STAFF_DEPENDANT_MOVES:
        raise ValidationError({"action": "未知的办理事项"})
    dependants.dependant_transition(
        dependant=dep, action=action, actor=request.user, reason=request.POST.get("reason", "")
    )
    messages.success(request, f"已{dependants.TRANSITIONS[action].label}")
    return redirect("cards:manage_detail", card_id=dep.card_id)


STAFF_DEPENDANT_MOVES = ("review", "reject", "approve")


@require_GET
def dependant_material(request: AuthedRequest, dependant_id: int, material_id: int) -> HttpResponse:
    dep = dependants.dependant_get_for_staff(viewer=request.user, dependant_id=dependant_id)
    item = dep.materials.filter(pk=material_id).first()
    if item is None:
        raise NotFound("没有这份材料")
    if item.purged_at is not None:
        raise NotFound("这份材料已超过保留期，已删除")
    data = materials.read(item.stored_name)
    audit_record(
        action="view",
        actor=request.user,
        target=dep,
        summary=f"查看家属卡申请材料：{item.get_kind_display()}",
    )
    response = HttpResponse(data, content_type=item.content_type)
    ext = item.content_type.rsplit("/", 1)[-1].replace("jpeg", "jpg")
    response["Content-Disposition"] = f'inline; filename="dependant-material-{item.pk}.{ext}"'
    response["Cache-Control"] = "no-store"
    return response
