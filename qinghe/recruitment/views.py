"""Pages of the recruitment pipeline: the student's application (on the posting's page), their
applications and interviews; an enterprise's applicants, stages, slots and interviews; staff's
overview. Thin: parse, select (scoped: missing and forbidden alike 404), call one service,
render."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from qinghe.accounts.models import User
from qinghe.core.audit import audit_record
from qinghe.core.errorhandling import redirect_on_error, redirect_on_error_to
from qinghe.core.errors import NotFound
from qinghe.core.http import AuthedRequest
from qinghe.enterprises.forms import add_service_errors
from qinghe.enterprises.selectors import enterprise_for_user
from qinghe.jobs import selectors as posting_selectors
from qinghe.jobs.models import Posting
from qinghe.talents.resume import resume_of, resume_open_for_application, resume_response
from qinghe.talents.selectors import student_has_talent, talent_for_student

from . import selectors as sel
from .forms import (
    ApplyForm,
    ConfirmForm,
    InviteForm,
    MoveForm,
    ReasonForm,
    ResultForm,
    SlotForm,
    StageEditForm,
    StageForm,
)
from .models import Application, InterviewSlot, PipelineStage
from .pipeline import ENTERPRISE, move_refusal
from .services import applications, interviews
from .services import stages as stage_services

PAGE_SIZE = 30
SELF_ROLES = ("student", "ambassador")


# --- the student: applying (on the posting's page) --------------------------------------------


def apply_state(request: HttpRequest, posting_id: int) -> dict[str, Any]:
    """What the posting's page shows of the one-step application: whether the student applied
    (the application's id and stage) or can, and a link to the form (at most two narrow
    queries: the application, and only without one whether the student has a record)."""
    user = request.user
    if not isinstance(user, User) or user.role not in SELF_ROLES:
        return {"can_apply": False}
    application = sel.application_stage_for_posting(viewer=user, posting_id=posting_id)
    return {
        "can_apply": True,
        "application": application,
        "has_talent": application is not None or student_has_talent(user=user),
        "apply_form_shown": False,
    }


def apply_context(request: HttpRequest, posting: Posting) -> dict[str, Any]:
    """What the one-step application's own page (GET /jobs/<id>/apply/, opened from the
    posting's page: ``apply_state``) needs: whether the student applied or can, what will be
    shared, the phones to choose from (decrypted: read only there) and the consent."""
    user = request.user
    if not isinstance(user, User) or user.role not in SELF_ROLES:
        return {"can_apply": False}
    application = sel.application_for_posting(viewer=user, posting=posting)
    talent = None if application else talent_for_student(user=user)
    choices = applications.phone_choices(user=user, talent=talent) if talent else []
    default = applications.default_phone_choice(choices)
    return {
        "can_apply": True,
        "application": application,
        "has_talent": application is not None or talent is not None,
        "shared": applications.share_preview(talent=talent, user=user, share_phone=default)
        if talent is not None
        else None,
        "phone_choices": choices,
        "phone_default": default,
        "consent_label": applications.consent_text(posting.enterprise),
        "not_shared": applications.NOT_SHARED,
        "apply_form": ApplyForm(),
        "apply_form_shown": True,
    }


@require_http_methods(["GET", "POST"])
@redirect_on_error("jobs:detail", "posting_id")
def apply(request: AuthedRequest, posting_id: int) -> HttpResponse:
    posting = posting_selectors.posting_get_for_viewer(viewer=request.user, posting_id=posting_id)
    if request.method == "GET":  # the form, opened from the posting's page (a plain link)
        return render(
            request,
            "recruitment/apply.html",
            {
                "posting": posting,
                "open": posting.accepts_applications(),
                **apply_context(request, posting),
            },
        )
    if talent_for_student(user=request.user) is None:
        messages.warning(request, "投递前请先认领你的人才档案。")
        return redirect("me:claim")
    form = ApplyForm(request.POST)
    if not form.is_valid():
        messages.error(request, "求职说明不能超过 2000 字。")
        return redirect("jobs:detail", posting_id=posting.pk)
    data = form.cleaned_data
    # The page sends the student's choice; a form without it (an older page) shares as before.
    chose = "share_phone" in request.POST
    application = applications.application_apply(
        actor=request.user,
        posting=posting,
        consent=bool(data.get("consent")),
        cover_letter=data.get("cover_letter") or "",
        share_phone=(data.get("share_phone") or applications.PHONE_NONE) if chose else None,
        share_email=bool(data.get("share_email")) if chose else True,
    )
    messages.success(request, f"已投递“{posting.title}”。企业将看到你同意提供的信息。")
    return redirect("recruitment:my_application", application_id=application.pk)


# --- the student: my applications -----------------------------------------------------------------


@require_GET
def my_applications(request: AuthedRequest) -> HttpResponse:
    show = request.GET.get("show", "")
    show = show if show in sel.MY_APPLICATIONS_SHOW_LABELS else ""
    page = Paginator(sel.student_applications(viewer=request.user, show=show), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    return render(
        request,
        "recruitment/my_applications.html",
        {"page": page, "filter_note": sel.MY_APPLICATIONS_SHOW_LABELS.get(show, "")},
    )


@require_GET
def my_application(request: AuthedRequest, application_id: int) -> HttpResponse:
    application = sel.student_application_get(viewer=request.user, application_id=application_id)
    items = list(sel.application_interviews(application=application))
    return render(
        request,
        "recruitment/my_application.html",
        {
            "application": application,
            "snapshot": application.shared_snapshot,
            "timeline": sel.application_timeline(application=application, audience="student"),
            "interviews": items,
            "free_slots": sel.free_slots(posting=application.posting),
            "can_withdraw": not application.stage.is_terminal,
            "shared_in_force": applications.share_in_force(application),
            "now": timezone.now(),
        },
    )


@require_POST
@redirect_on_error("recruitment:my_application", "application_id")
def application_withdraw(request: AuthedRequest, application_id: int) -> HttpResponse:
    application = sel.student_application_get(viewer=request.user, application_id=application_id)
    form = ReasonForm(request.POST)
    reason = form.cleaned_data.get("reason", "") if form.is_valid() else ""
    applications.application_withdraw(actor=request.user, application=application, reason=reason)
    messages.success(request, "已撤回投递。")
    return redirect("recruitment:my_application", application_id=application.pk)


@require_POST
def interview_confirm(request: AuthedRequest, interview_id: int) -> HttpResponse:
    interview = sel.student_interview_get(viewer=request.user, interview_id=interview_id)
    redirect_on_error_to(
        request, reverse("recruitment:my_application", args=[interview.application_id])
    )
    form = ConfirmForm(request.POST)
    slot_id = form.cleaned_data.get("slot") if form.is_valid() else None
    slot = None
    if slot_id:
        slot = InterviewSlot.objects.filter(
            pk=slot_id, posting_id=interview.application.posting_id
        ).first()
        if slot is None:
            raise NotFound("未找到该面试时段")
    interviews.interview_confirm(actor=request.user, interview=interview, slot=slot)
    messages.success(request, "已确认面试。")
    return redirect("recruitment:my_application", application_id=interview.application_id)


@require_POST
def interview_reschedule_request(request: AuthedRequest, interview_id: int) -> HttpResponse:
    interview = sel.student_interview_get(viewer=request.user, interview_id=interview_id)
    redirect_on_error_to(
        request, reverse("recruitment:my_application", args=[interview.application_id])
    )
    form = ReasonForm(request.POST)
    reason = form.cleaned_data.get("reason", "") if form.is_valid() else ""
    interviews.interview_request_reschedule(actor=request.user, interview=interview, reason=reason)
    messages.success(request, "已提交改期申请，企业将重新安排时间。")
    return redirect("recruitment:my_application", application_id=interview.application_id)


# --- the enterprise: applicants -------------------------------------------------------------------


@require_GET
def applicants(request: AuthedRequest) -> HttpResponse:
    filters = sel.ApplicantFilter.from_query(request.GET)
    enterprise = enterprise_for_user(user=request.user)
    # the list's columns only: no talent record (its ID number decrypted for each row), no
    # posting texts, no cover letter
    rows = (
        sel.enterprise_applications(viewer=request.user, filters=filters)
        .select_related(None)
        .select_related("posting", "stage")
        .only("id", "applied_at", "shared_snapshot", "posting__title", "stage__name", "stage__kind")
    )
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "recruitment/applicants.html",
        {
            "page": page,
            "filters": filters,
            "filter_note": sel.APPLICANT_SHOW_LABELS.get(filters.show, ""),
            "enterprise": enterprise,
            "postings": posting_selectors.own_postings(viewer=request.user).exclude(
                state=Posting.State.DRAFT
            ),
            "stages": sel.stages_for(enterprise=enterprise, active_only=False)
            if enterprise
            else [],
        },
    )


def _applicant_context(request: AuthedRequest, application: Application) -> dict[str, Any]:
    stages = list(sel.stages_for(enterprise=application.enterprise))
    hired = application.hired_at is not None
    moves = [
        s
        for s in stages
        if move_refusal(current=application.stage, target=s, by=ENTERPRISE, hired=hired) is None
    ]
    free = sel.free_slots(posting=application.posting)
    items = list(sel.application_interviews(application=application))
    return {
        "application": application,
        "snapshot": application.shared_snapshot,
        "timeline": sel.application_timeline(application=application, audience="enterprise"),
        "interviews": items,
        "open_interview": next((i for i in items if i.state in sel.OPEN_INTERVIEW_STATES), None),
        "moves": moves,
        "invite_form": InviteForm(slots=free),
        "free_slots": free,
        "result_form": ResultForm(),
        "now": timezone.now(),
        "resume": resume_of(application.applicant_id),
    }


@require_GET
def applicant(request: AuthedRequest, application_id: int) -> HttpResponse:
    application = sel.enterprise_application_get(viewer=request.user, application_id=application_id)
    audit_record(
        action="view",
        target=application,
        summary=f"查看应聘者信息（学生授权提供）：申请 #{application.pk}",
    )
    return render(request, "recruitment/applicant.html", _applicant_context(request, application))


@require_GET
def applicant_resume(request: AuthedRequest, application_id: int) -> HttpResponse:
    """The applicant's PDF résumé, only for the enterprise applied to (audited)."""
    return resume_response(
        resume_open_for_application(viewer=request.user, application_id=application_id)
    )


@require_POST
@redirect_on_error("recruitment:applicant", "application_id")
def applicant_move(request: AuthedRequest, application_id: int) -> HttpResponse:
    application = sel.enterprise_application_get(viewer=request.user, application_id=application_id)
    form = MoveForm(request.POST)
    if not form.is_valid():
        messages.error(request, "请选择阶段。")
        return redirect("recruitment:applicant", application_id=application.pk)
    stage = applications.stage_for_move(
        application=application, stage_id=form.cleaned_data["stage"]
    )
    applications.application_transition(
        actor=request.user,
        application=application,
        stage=stage,
        note=form.cleaned_data.get("note") or "",
    )
    messages.success(request, f"已移至“{stage.name}”。")
    return redirect("recruitment:applicant", application_id=application.pk)


@require_POST
@redirect_on_error("recruitment:applicant", "application_id")
def interview_invite(request: AuthedRequest, application_id: int) -> HttpResponse:
    application = sel.enterprise_application_get(viewer=request.user, application_id=application_id)
    form = InviteForm(request.POST, slots=sel.free_slots(posting=application.posting))
    if not form.is_valid():
        messages.error(
            request, "；".join(str(e) for errors in form.errors.values() for e in errors)
        )
        return redirect("recruitment:applicant", application_id=application.pk)
    slot = form.cleaned_data.get("slot")
    interviews.interview_invite(
        actor=request.user,
        application=application,
        slot=slot,
        when=form.when(),
    )
    messages.success(request, "已发出面试邀请。")
    return redirect("recruitment:applicant", application_id=application.pk)


@require_POST
def interview_reschedule(request: AuthedRequest, interview_id: int) -> HttpResponse:
    interview = sel.enterprise_interview_get(viewer=request.user, interview_id=interview_id)
    redirect_on_error_to(request, reverse("recruitment:applicant", args=[interview.application_id]))
    form = InviteForm(request.POST, slots=sel.free_slots(posting=interview.application.posting))
    if not form.is_valid():
        messages.error(
            request, "；".join(str(e) for errors in form.errors.values() for e in errors)
        )
        return redirect("recruitment:applicant", application_id=interview.application_id)
    interviews.interview_reschedule(
        actor=request.user,
        interview=interview,
        slot=form.cleaned_data.get("slot"),
        when=form.when(),
        reason=form.cleaned_data.get("reason") or "",
    )
    messages.success(request, "已调整面试时间，等待学生确认。")
    return redirect("recruitment:applicant", application_id=interview.application_id)


@require_POST
def interview_result(request: AuthedRequest, interview_id: int) -> HttpResponse:
    interview = sel.enterprise_interview_get(viewer=request.user, interview_id=interview_id)
    redirect_on_error_to(request, reverse("recruitment:applicant", args=[interview.application_id]))
    form = ResultForm(request.POST)
    if not form.is_valid():
        messages.error(request, "请选择面试结果。")
        return redirect("recruitment:applicant", application_id=interview.application_id)
    stage = None
    if form.cleaned_data.get("stage"):
        stage = applications.stage_for_move(
            application=interview.application,
            stage_id=form.cleaned_data["stage"],
        )
    interviews.interview_record_result(
        actor=request.user,
        interview=interview,
        result=form.cleaned_data["result"],
        notes=form.cleaned_data.get("notes") or "",
        stage=stage,
    )
    messages.success(request, "已记录面试结果。")
    return redirect("recruitment:applicant", application_id=interview.application_id)


# --- the enterprise: slots and stages -------------------------------------------------------------


@require_http_methods(["GET", "POST"])
@redirect_on_error("recruitment:slots", "posting_id")
def slots(request: AuthedRequest, posting_id: int) -> HttpResponse:
    posting = posting_selectors.own_posting_get(viewer=request.user, posting_id=posting_id)
    form = SlotForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        when = form.when() or interviews.When(starts_at=None, ends_at=None)
        try:
            interviews.slot_create(
                actor=request.user,
                posting=posting,
                when=when,
                capacity=form.cleaned_data["capacity"],
            )
        except ValidationError as exc:  # on the form's fields
            add_service_errors(form, exc)
        else:
            messages.success(request, "已新增面试时段。")
            return redirect("recruitment:slots", posting_id=posting.pk)
    return render(
        request,
        "recruitment/slots.html",
        {
            "posting": posting,
            "slots": sel.posting_slots(posting=posting),
            "form": form,
            "now": timezone.now(),
        },
    )


@require_http_methods(["GET", "POST"])
@redirect_on_error("recruitment:stages")
def stages(request: AuthedRequest) -> HttpResponse:
    enterprise = enterprise_for_user(user=request.user)
    if enterprise is None:
        messages.warning(request, "您的账号尚未关联已登记的企业信息。")
        return redirect("enterprises:mine")
    all_stages = sel.stages_for(enterprise=enterprise, active_only=False)
    after_choices = all_stages.filter(is_terminal=False).exclude(kind__in=["rejected", "withdrawn"])
    form = StageForm(request.POST or None, after_choices=after_choices)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            stage_services.stage_create(
                actor=request.user,
                enterprise=enterprise,
                name=data["name"],
                after=data["after"],
                notify_student=data.get("notify_student") or False,
                message_template=data.get("message_template") or "",
            )
        except ValidationError as exc:  # on the form's fields
            add_service_errors(form, exc)
        else:
            messages.success(request, f"已新增阶段“{data['name']}”。")
            return redirect("recruitment:stages")
    return render(
        request,
        "recruitment/stages.html",
        {"enterprise": enterprise, "stages": all_stages, "form": form},
    )


@require_POST
@redirect_on_error("recruitment:stages")
def stage_edit(request: AuthedRequest, stage_id: int) -> HttpResponse:
    stage: PipelineStage = sel.own_stage_get(viewer=request.user, stage_id=stage_id)
    form = StageEditForm(request.POST)
    if not form.is_valid():
        messages.error(
            request, "；".join(str(e) for errors in form.errors.values() for e in errors)
        )
        return redirect("recruitment:stages")
    data = form.cleaned_data
    stage_services.stage_update(
        actor=request.user,
        stage=stage,
        name=data["name"],
        notify_student=data.get("notify_student") or False,
        message_template=data.get("message_template") or "",
        is_active=data.get("is_active") or False,
    )
    messages.success(request, "已保存阶段设置。")
    return redirect("recruitment:stages")


# --- staff --------------------------------------------------------------------------------------


@require_GET
def staff_applications(request: AuthedRequest) -> HttpResponse:
    filters = sel.StaffApplicationFilter.from_query(request.GET)
    page = Paginator(
        sel.staff_applications(viewer=request.user, filters=filters), PAGE_SIZE
    ).get_page(request.GET.get("page"))
    this_year = timezone.localdate().year
    return render(
        request,
        "recruitment/staff_applications.html",
        {
            "page": page,
            "filters": filters,
            "counts": sel.staff_counts(viewer=request.user, filters=filters),
            "stage_kinds": PipelineStage.Kind.choices,
            "kinds": Posting.Kind.choices,
            "years": list(range(this_year, this_year - 6, -1)),
        },
    )


@require_GET
def staff_application(request: AuthedRequest, application_id: int) -> HttpResponse:
    application = sel.staff_application_get(viewer=request.user, application_id=application_id)
    return render(
        request,
        "recruitment/staff_application.html",
        {
            "application": application,
            "timeline": sel.application_timeline(application=application, audience="staff"),
            "interviews": list(sel.application_interviews(application=application)),
        },
    )
