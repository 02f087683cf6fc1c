"""Alliance pages: the public chapter list and a chapter's page; a student's own chapters;
the managers' pages (League staff for every chapter, a chapter's leaders for their own); the
alliance's figures. Thin: parse, select, call one service, render."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from qinghe.core.errorhandling import redirect_on_error
from qinghe.core.http import AuthedRequest

from . import selectors, services
from .forms import ChapterForm, InviteForm, MergeForm, ReasonForm, initial_for
from .models import Chapter, Membership


def _add_errors(form: ChapterForm, exc: ValidationError) -> None:
    if hasattr(exc, "error_dict"):
        for name, errors in exc.error_dict.items():
            form.add_error(
                {"university": "university_name"}.get(name, name)
                if name in form.fields or name == "university"
                else None,
                errors,
            )
    else:
        form.add_error(None, exc)


# ---- public -------------------------------------------------------------------------------


@require_GET
def chapter_list(request: HttpRequest) -> HttpResponse:
    kind = request.GET.get("kind", "")
    q = request.GET.get("q", "")
    chapters = selectors.chapter_list_public(kind=kind, q=q)
    page = Paginator(chapters, 24).get_page(request.GET.get("page"))
    return render(
        request,
        "alliance/list.html",
        {"page": page, "kind": kind, "q": q[:50], "kinds": Chapter.Kind.choices},
    )


@require_GET
def chapter_detail(request: HttpRequest, chapter_id: int) -> HttpResponse:
    chapter = selectors.chapter_get_public(chapter_id=chapter_id)
    user = request.user
    membership = (
        selectors.membership_of(user=user, chapter=chapter)  # type: ignore[arg-type]
        if user.is_authenticated
        else None
    )
    return render(
        request,
        "alliance/detail.html",
        {
            "chapter": chapter,
            "events": selectors.chapter_upcoming_events(chapter=chapter),
            "membership": membership,
            "can_join": user.is_authenticated and selectors.is_member_role(user),  # type: ignore[arg-type]
            "can_manage": user.is_authenticated
            and (
                selectors.is_alliance_staff(user)  # type: ignore[arg-type]
                or selectors.is_leader(user=user, chapter=chapter)  # type: ignore[arg-type]
            ),
        },
    )


# ---- a student's own ----------------------------------------------------------------------


@require_GET
def mine(request: AuthedRequest) -> HttpResponse:
    rows = list(selectors.my_memberships(user=request.user))
    return render(
        request,
        "alliance/mine.html",
        {
            "current": [m for m in rows if m.status == Membership.Status.ACTIVE],
            "pending": [m for m in rows if m.status == Membership.Status.PENDING],
            "invitations": [m for m in rows if m.status == Membership.Status.INVITED],
            "history": [m for m in rows if not m.is_open],
        },
    )


@require_POST
@redirect_on_error("alliance:detail", "chapter_id")
def join(request: AuthedRequest, chapter_id: int) -> HttpResponse:
    chapter = selectors.chapter_get_public(chapter_id=chapter_id)
    membership = services.membership_apply(user=request.user, chapter=chapter)
    if membership.status == Membership.Status.ACTIVE:
        messages.success(request, f"已接受邀请，你已加入{chapter.name}。")
    else:
        messages.success(request, "申请已提交，分会负责人审核后会通知你。")
    return redirect("alliance:detail", chapter_id=chapter.pk)


@require_POST
@redirect_on_error("alliance:mine")
def leave(request: AuthedRequest, chapter_id: int) -> HttpResponse:
    chapter = selectors.chapter_get_public(chapter_id=chapter_id)
    membership = services.membership_leave(user=request.user, chapter=chapter)
    messages.success(
        request,
        f"已退出{chapter.name}。" if membership.joined_at else f"已撤回加入{chapter.name}的申请。",
    )
    return redirect("alliance:mine")


@require_POST
@redirect_on_error("alliance:mine")
def respond(request: AuthedRequest, membership_id: int) -> HttpResponse:
    membership = selectors.membership_get_own(user=request.user, membership_id=membership_id)
    accept = request.POST.get("answer") == "accept"
    services.invitation_respond(user=request.user, membership=membership, accept=accept)
    messages.success(
        request,
        f"你已加入{membership.chapter.name}。" if accept else "已谢绝邀请。",
    )
    return redirect("alliance:mine")


# ---- managers -----------------------------------------------------------------------------


@require_GET
def manage(request: AuthedRequest) -> HttpResponse:
    state = request.GET.get("state", "")
    kind = request.GET.get("kind", "")
    chapters = selectors.chapter_manage_list(viewer=request.user, state=state, kind=kind)
    page = Paginator(chapters, 30).get_page(request.GET.get("page"))
    return render(
        request,
        "alliance/manage.html",
        {
            "page": page,
            "state": state,
            "kind": kind,
            "states": Chapter.State.choices,
            "kinds": Chapter.Kind.choices,
            "staff": selectors.is_alliance_staff(request.user),
        },
    )


@require_http_methods(["GET", "POST"])
@redirect_on_error("alliance:manage")
def create(request: AuthedRequest) -> HttpResponse:
    form = ChapterForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            chapter = services.chapter_create(actor=request.user, data=form.chapter_data())
        except ValidationError as exc:
            _add_errors(form, exc)
        else:
            messages.success(request, f"已创建{chapter.name}。")
            return redirect("alliance:manage_detail", chapter_id=chapter.pk)
    return render(request, "alliance/form.html", {"form": form, "chapter": None})


@require_http_methods(["GET", "POST"])
@redirect_on_error("alliance:manage_detail", "chapter_id")
def edit(request: AuthedRequest, chapter_id: int) -> HttpResponse:
    chapter = selectors.chapter_get_for_manager(viewer=request.user, chapter_id=chapter_id)
    form = ChapterForm(request.POST or None, initial=initial_for(chapter))
    if request.method == "POST" and form.is_valid():
        try:
            changed = services.chapter_update(
                actor=request.user, chapter=chapter, data=form.chapter_data()
            )
        except ValidationError as exc:
            _add_errors(form, exc)
        else:
            messages.success(request, "已保存。" if changed else "没有修改。")
            return redirect("alliance:manage_detail", chapter_id=chapter.pk)
    return render(request, "alliance/form.html", {"form": form, "chapter": chapter})


@require_GET
def manage_detail(request: AuthedRequest, chapter_id: int) -> HttpResponse:
    chapter = selectors.chapter_get_for_manager(viewer=request.user, chapter_id=chapter_id)
    staff = selectors.is_alliance_staff(request.user)
    return render(
        request,
        "alliance/manage_detail.html",
        {
            "chapter": chapter,
            "members": selectors.chapter_members(chapter=chapter),
            "pending": selectors.chapter_members(chapter=chapter, status=Membership.Status.PENDING),
            "invited": selectors.chapter_members(chapter=chapter, status=Membership.Status.INVITED),
            "staff": staff,
            "invite_form": InviteForm(),
            "merge_form": MergeForm(chapter=chapter) if staff and chapter.is_active else None,
        },
    )


@require_POST
@redirect_on_error("alliance:manage_detail", "chapter_id")
def invite(request: AuthedRequest, chapter_id: int) -> HttpResponse:
    chapter = selectors.chapter_get_for_manager(viewer=request.user, chapter_id=chapter_id)
    form = InviteForm(request.POST)
    if not form.is_valid():
        messages.error(request, "请输入学子的手机号")
    else:
        services.membership_invite(
            actor=request.user, chapter=chapter, phone=form.cleaned_data["phone"]
        )
        messages.success(request, "如该手机号已注册学子账号且尚未加入本分会，对方将收到邀请。")
    return redirect("alliance:manage_detail", chapter_id=chapter.pk)


@require_POST
@redirect_on_error("alliance:manage")
def decide(request: AuthedRequest, membership_id: int) -> HttpResponse:
    membership = selectors.membership_get_for_manager(
        viewer=request.user, membership_id=membership_id
    )
    approve = request.POST.get("decision") == "approve"
    form = ReasonForm(request.POST)
    reason = form.cleaned_data["reason"] if form.is_valid() else ""
    services.membership_decide(
        actor=request.user, membership=membership, approve=approve, reason=reason
    )
    messages.success(request, "已通过入会申请。" if approve else "已告知申请人未通过及原因。")
    return redirect("alliance:manage_detail", chapter_id=membership.chapter_id)


@require_POST
@redirect_on_error("alliance:manage")
def set_leader(request: AuthedRequest, membership_id: int) -> HttpResponse:
    membership = selectors.membership_get_for_manager(
        viewer=request.user, membership_id=membership_id
    )
    leader = request.POST.get("leader") == "1"
    services.leader_set(actor=request.user, membership=membership, leader=leader)
    messages.success(request, "已设为负责人。" if leader else "已取消负责人。")
    return redirect("alliance:manage_detail", chapter_id=membership.chapter_id)


@require_POST
@redirect_on_error("alliance:manage_detail", "chapter_id")
def merge(request: AuthedRequest, chapter_id: int) -> HttpResponse:
    chapter = selectors.chapter_get_for_manager(viewer=request.user, chapter_id=chapter_id)
    form = MergeForm(request.POST, chapter=chapter)
    if not form.is_valid():
        messages.error(request, "请选择要并入的分会")
        return redirect("alliance:manage_detail", chapter_id=chapter.pk)
    target = form.cleaned_data["target"]
    moved = services.chapter_merge(
        actor=request.user, source=chapter, target=target, reason=form.cleaned_data["reason"]
    )
    messages.success(request, f"已并入{target.name}，{moved} 名会员已转入。")
    return redirect("alliance:manage_detail", chapter_id=target.pk)


@require_POST
@redirect_on_error("alliance:manage_detail", "chapter_id")
def retire(request: AuthedRequest, chapter_id: int) -> HttpResponse:
    chapter = selectors.chapter_get_for_manager(viewer=request.user, chapter_id=chapter_id)
    form = ReasonForm(request.POST)
    reason = form.cleaned_data["reason"] if form.is_valid() else ""
    services.chapter_retire(actor=request.user, chapter=chapter, reason=reason)
    messages.success(request, f"已撤销{chapter.name}。")
    return redirect("alliance:manage")


@require_GET
def figures(request: AuthedRequest) -> HttpResponse:
    return render(request, "alliance/figures.html", {"f": selectors.alliance_figures()})
