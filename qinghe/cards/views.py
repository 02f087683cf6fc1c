"""鹤才青年卡 pages: the holder's card, application and phone-sized e-card; staff review,
approval and card services; the partner's verify-and-log page; and the two public endpoints
(the JWK Set and the online check). Thin: parse, select, call one service, render."""

from __future__ import annotations

import base64
import io
from typing import Any

import qrcode
import qrcode.image.svg
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from qinghe.core.audit import audit_record
from qinghe.core.errorhandling import redirect_on_error
from qinghe.core.errors import NotFound
from qinghe.core.http import AuthedRequest

from . import materials, selectors, services, tiers, tokens
from .forms import ApplyForm, BenefitForm, ChangeForm, RenewForm, VerifyForm
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
            "moves": TRANSITIONS_FOR_HOLDER if card and card.state == Card.State.ACTIVE else [],
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
            "qr": qr_data_uri(shown.token) if shown else "",
            "tier_name": tiers.scheme().tier_name(shown.card.tier) if shown else "",
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
        {"cards": cards, "state": state, "states": Card.State.choices, "scheme": tiers.scheme()},
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
    return render(
        request,
        "cards/partner.html",
        {
            "form": VerifyForm(initial={"t": token}),
            "token": token,
            "check": check,
            "benefits": scheme.benefits_of(check.card.tier) if check and check.card else [],
            "recent": selectors.benefit_uses_for_partner(viewer=request.user)[:20],
            "benefit_names": {b.code: b.name for b in scheme.benefits.values()},
        },
    )


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
