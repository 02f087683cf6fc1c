"""Policy library (public), programmes and the eligibility check (students), applications
(students and HR staff), rule editing, the batch check and figures (HR staff). Thin: parse,
select, call one service, render; refused POSTs go back through DomainErrorMiddleware."""

from __future__ import annotations

import datetime as dt
import io
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import FileResponse, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from qinghe.core.audit import audit_record
from qinghe.core.errorhandling import redirect_on_error
from qinghe.core.errors import ApplicationError, NotFound, validation_message
from qinghe.core.http import AuthedRequest
from qinghe.core.spreadsheets import escape_cell
from qinghe.talents.importing.storage import read_private

from . import batch, rules, selectors, services
from .models import Application, Policy, Programme

# ------------------------------------------------------------------ public: the library


@require_GET
def library(request: HttpRequest) -> HttpResponse:
    q = request.GET.get("q", "")[:100]
    level = request.GET.get("level", "")
    tag = request.GET.get("tag", "")[:30]
    policies = selectors.policy_list(
        q=q, level=level if level in Policy.Level.values else "", tag=tag
    )
    page = Paginator(policies, 20).get_page(request.GET.get("page"))
    return render(
        request,
        "policies/library.html",
        {"page": page, "q": q, "level": level, "tag": tag, "levels": Policy.Level.choices},
    )


@require_GET
def policy_detail(request: HttpRequest, policy_id: int) -> HttpResponse:
    policy = selectors.policy_get(pk=policy_id)
    return render(
        request,
        "policies/policy_detail.html",
        {
            "policy": policy,
            "replaces": list(policy.replaces.all()),
            "programmes": list(policy.programmes.filter(active=True)),
            "attachments": list(policy.attachments.all()),
            "can_attach": getattr(request.user, "role", None) in services.STAFF_EDITORS,
        },
    )


@require_POST
def attachment_upload(request: AuthedRequest, policy_id: int) -> HttpResponse:
    policy = selectors.policy_get(pk=policy_id)
    upload = request.FILES.get("file")
    if upload is None:
        messages.error(request, "请选择要上传的附件")
        return redirect("policies:policy_detail", policy.pk)
    try:
        services.policy_attachment_add(
            actor=request.user, policy=policy, title=request.POST.get("title", ""), upload=upload
        )
    except ValidationError as exc:
        messages.error(request, "；".join(m for ms in exc.message_dict.values() for m in ms))
        return redirect("policies:policy_detail", policy.pk)
    messages.success(request, "附件已上传。")
    return redirect("policies:policy_detail", policy.pk)


@require_POST
def attachment_remove(request: AuthedRequest, policy_id: int, attachment_id: int) -> HttpResponse:
    policy = selectors.policy_get(pk=policy_id)
    attachment = selectors.policy_attachment_get(policy=policy, pk=attachment_id)
    services.policy_attachment_remove(actor=request.user, attachment=attachment)
    messages.success(request, "附件已删除。")
    return redirect("policies:policy_detail", policy.pk)


@require_GET
def attachment_download(request: HttpRequest, policy_id: int, attachment_id: int) -> FileResponse:
    """Public like the published policy it belongs to."""
    policy = selectors.policy_get(pk=policy_id)
    attachment = selectors.policy_attachment_get(policy=policy, pk=attachment_id)
    from django.core.files.storage import default_storage

    try:
        handle = default_storage.open(attachment.storage_name, "rb")
    except FileNotFoundError as exc:
        raise NotFound("未找到该附件") from exc
    response = FileResponse(handle, content_type=attachment.content_type)
    response["Content-Disposition"] = "attachment; filename*=UTF-8''" + _quote(attachment.filename)
    response["X-Content-Type-Options"] = "nosniff"
    return response


def _ids(values: list[str]) -> list[int]:
    return [int(v) for v in values if v.isdigit()]


@require_GET
def compare(request: HttpRequest) -> HttpResponse:
    ids = _ids(request.GET.getlist("ids"))
    policies = selectors.policies_compare(ids)
    error = "" if 2 <= len(policies) <= 3 else "请选择 2 至 3 项政策进行对比"
    return render(request, "policies/compare.html", {"policies": policies, "error": error})


@require_GET
def programmes(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "policies/programmes.html",
        {"programmes": selectors.programme_list()},
    )


# ------------------------------------------------------------------ students


@require_GET
def for_me(request: AuthedRequest) -> HttpResponse:
    return render(
        request,
        "policies/for_me.html",
        {"policies": selectors.policies_for_me(request.user, today=timezone.localdate())},
    )


def _declared_form(programme: Programme, data: Any) -> dict[str, Any]:
    return {name: data.get(name, "") for name in services.declared_fields_for(programme)}


def _declared_fields(programme: Programme) -> list[tuple[str, rules.FieldSpec]]:
    return [(name, rules.FIELDS[name]) for name in services.declared_fields_for(programme)]


@require_GET
def check(request: AuthedRequest, code: str) -> HttpResponse:
    """The eligibility check: platform data plus what the student declares (marked as such),
    as of today. Reading only: nothing is saved until the student applies."""
    programme = selectors.programme_get(code=code)
    values = _declared_form(programme, request.GET)
    result = None
    error = ""
    if request.GET.get("run"):
        try:
            declared = services.clean_declared(
                dict(request.GET.items()), fields=services.declared_fields_for(programme)
            )
        except ValidationError as exc:
            error = validation_message(exc)
        else:
            result = services.eligibility_check(
                programme=programme,
                user=request.user,
                declared=declared,
                as_of=timezone.localdate(),
            )
    return render(
        request,
        "policies/check.html",
        {
            "programme": programme,
            "rules": selectors.rule_list(programme),
            "platform": selectors.platform_facts(request.user),
            "fields": _declared_fields(programme),
            "values": values,
            "categories": rules.CATEGORIES,
            "result": result,
            "error": error,
            "today": timezone.localdate(),
        },
    )


def _files(request: HttpRequest, programme: Programme) -> list[tuple[str, Any]]:
    files: list[tuple[str, Any]] = []
    for index, kind in enumerate(programme.materials):
        upload = request.FILES.get(f"file_{index}")
        if upload is not None:
            files.append((kind, upload))
    return files


@require_POST
@redirect_on_error("policies:check", "code")
def apply(request: AuthedRequest, code: str) -> HttpResponse:
    programme = selectors.programme_get(code=code)
    application = services.application_submit(
        actor=request.user,
        programme=programme,
        declared_raw=dict(request.POST.items()),
        files=_files(request, programme),
    )
    messages.success(request, "申请已提交，待初审。")
    return redirect("policies:application", application.pk)


@require_GET
def my_applications(request: AuthedRequest) -> HttpResponse:
    return render(
        request,
        "policies/my_applications.html",
        {"applications": selectors.application_list_for_applicant(request.user)},
    )


@require_GET
def application(request: AuthedRequest, application_id: int) -> HttpResponse:
    app = selectors.application_get_for_viewer(viewer=request.user, pk=application_id)
    staff = request.user.role in selectors.REVIEWERS
    party = "staff" if staff else "applicant"
    return render(
        request,
        "policies/application.html",
        {
            "app": app,
            "staff": staff,
            "moves": services.APPLICATION_WORKFLOW.moves_from(app.state, by=party),
            "events": [
                (e, services.ACTION_LABELS.get(e.action, e.action))
                for e in app.events.select_related("actor")
            ],
            "files": list(app.files.all()),
            "payments": list(app.payments.select_related("recorded_by")),
            "materials": list(enumerate(app.programme.materials)),
            "today": timezone.localdate(),
            "field_labels": {n: f.label for n, f in rules.FIELDS.items()},
        },
    )


@require_POST
@redirect_on_error("policies:application", "application_id")
def application_move(request: AuthedRequest, application_id: int) -> HttpResponse:
    app = selectors.application_get_for_viewer(viewer=request.user, pk=application_id)
    action = request.POST.get("action", "")
    if action == "resubmit":
        files = []
        for index, kind in enumerate(app.programme.materials):
            upload = request.FILES.get(f"file_{index}")
            if upload is not None:
                files.append((kind, upload))
        services.application_add_materials(actor=request.user, application=app, files=files)
    else:
        services.application_move(
            actor=request.user,
            application=app,
            action=action,
            reason=request.POST.get("reason", ""),
        )
    messages.success(request, "已办理。")
    return redirect("policies:application", app.pk)


@require_GET
def material_download(request: AuthedRequest, application_id: int, file_id: int) -> HttpResponse:
    app = selectors.application_get_for_viewer(viewer=request.user, pk=application_id)
    material = app.files.filter(pk=file_id).first()
    if material is None:
        raise NotFound("未找到该材料")
    if material.purged_at is not None:
        raise NotFound("该材料已按保留期限删除")
    data = read_private(material.storage_name)
    if request.user.pk != app.applicant_id:
        audit_record(
            action="policies.material_download",
            actor=request.user,
            target=app,
            summary=f"查看补贴申请材料：{material.kind}",
        )
    response = HttpResponse(data, content_type=material.content_type)
    response["Content-Disposition"] = "attachment; filename*=UTF-8''" + _quote(material.filename)
    return response


def _quote(name: str) -> str:
    from urllib.parse import quote

    return quote(name)


# ------------------------------------------------------------------ staff


@require_GET
def staff_applications(request: AuthedRequest) -> HttpResponse:
    state = request.GET.get("state", "")
    apps = selectors.application_list_for_staff(
        viewer=request.user, state=state if state in Application.State.values else ""
    )
    page = Paginator(apps, 30).get_page(request.GET.get("page"))
    return render(
        request,
        "policies/staff_applications.html",
        {"page": page, "state": state, "states": Application.State.choices},
    )


@require_POST
@redirect_on_error("policies:application", "application_id")
def payment_record(request: AuthedRequest, application_id: int) -> HttpResponse:
    app = selectors.application_get_for_viewer(viewer=request.user, pk=application_id)
    try:
        paid_on = dt.date.fromisoformat(request.POST.get("paid_on", ""))
    except ValueError as exc:
        raise ApplicationError("发放日期不正确（应为 YYYY-MM-DD）") from exc
    services.payment_record(
        actor=request.user, application=app, period=request.POST.get("period", ""), paid_on=paid_on
    )
    messages.success(request, "已记录发放。")
    return redirect("policies:application", app.pk)


@require_http_methods(["GET", "POST"])
def staff_programmes(request: AuthedRequest) -> HttpResponse:
    errors: dict[str, list[str]] = {}
    if request.method == "POST":
        data = services.ProgrammeInput(
            code=request.POST.get("code", ""),
            name=request.POST.get("name", ""),
            amount_expression=request.POST.get("amount_expression", ""),
            amount_text=request.POST.get("amount_text", ""),
            description=request.POST.get("description", ""),
            schedule=request.POST.get("schedule", "once"),
            periods=int(request.POST.get("periods", "1") or 1)
            if (request.POST.get("periods", "1") or "1").isdigit()
            else 0,
            materials=tuple(request.POST.get("materials", "").replace("，", ",").split(",")),
            policy_id=int(p) if (p := request.POST.get("policy", "")).isdigit() else None,
        )
        try:
            programme = services.programme_create(actor=request.user, data=data)
        except ValidationError as exc:
            errors = exc.message_dict
        else:
            messages.success(request, "已新建补贴项目，请添加资格规则。")
            return redirect("policies:staff_programme", programme.code)
    return render(
        request,
        "policies/staff_programmes.html",
        {
            "programmes": selectors.programme_list(active_only=False),
            "policies": Policy.objects.order_by("title"),
            "schedules": Programme.Schedule.choices,
            "errors": errors,
            "form": request.POST if request.method == "POST" else {},
        },
    )


@require_http_methods(["GET", "POST"])
def staff_programme(request: AuthedRequest, code: str) -> HttpResponse:
    """A programme's rules: edit one, add one, retire one (validated before saving, every
    change a new version, audited), with the fields and functions staff may use."""
    programme = selectors.programme_get(code=code, active_only=False)
    errors: dict[str, list[str]] = {}
    editing: int | None = None
    if request.method == "POST":
        rule_id = request.POST.get("rule_id", "")
        data = services.RuleInput(
            code=request.POST.get("code", ""),
            explanation=request.POST.get("explanation", ""),
            expression=request.POST.get("expression", ""),
            passes_from=request.POST.get("passes_from", ""),
        )
        try:
            if request.POST.get("retire") and rule_id.isdigit():
                services.rule_retire(
                    actor=request.user,
                    rule=selectors.rule_get(programme=programme, rule_id=int(rule_id)),
                    note=request.POST.get("note", ""),
                )
            elif rule_id.isdigit():
                editing = int(rule_id)
                services.rule_update(
                    actor=request.user,
                    rule=selectors.rule_get(programme=programme, rule_id=int(rule_id)),
                    data=data,
                    note=request.POST.get("note", ""),
                )
            else:
                editing = 0
                services.rule_create(actor=request.user, programme=programme, data=data)
        except ValidationError as exc:
            errors = exc.message_dict
        else:
            messages.success(request, "规则已保存。")
            return redirect("policies:staff_programme", programme.code)
    rule_rows = list(programme.rules.prefetch_related("versions").order_by("position", "id"))
    return render(
        request,
        "policies/staff_programme.html",
        {
            "programme": programme,
            "rules": rule_rows,
            "errors": errors,
            "editing": editing,
            "form": request.POST if request.method == "POST" else {},
            "fields": list(rules.FIELDS.items()),
            "functions": rules.FUNCTION_HELP,
        },
    )


@require_http_methods(["GET", "POST"])
def batch_check(request: AuthedRequest) -> HttpResponse:
    """The batch check from a page: the same reading and rules as the command, an .xlsx back."""
    error = ""
    if request.method == "POST":
        programme = selectors.programme_by_code(request.POST.get("programme", ""))
        upload = request.FILES.get("file")
        try:
            as_of = dt.date.fromisoformat(request.POST.get("as_of", ""))
        except ValueError:
            as_of = None
        if programme is None:
            error = "请选择补贴项目"
        elif as_of is None:
            error = "核定日期不正确（应为 YYYY-MM-DD）"
        elif upload is None:
            error = "请选择 .csv 或 .xlsx 文件"
        else:
            try:
                applicants = batch.read_applicants(upload.name or "", upload.read())
            except ApplicationError as exc:
                error = exc.message
            else:
                lines = batch.run_batch(
                    applicants,
                    rule_specs=selectors.rule_specs(programme),
                    amount_expression=programme.amount_expression,
                    as_of=as_of,
                )
                audit_record(
                    action="policies.batch_check",
                    actor=request.user,
                    target=programme,
                    summary=f"批量资格核查 {programme.code}：{len(lines)} 人",
                    count=len(lines),
                )
                return _xlsx_response(programme, as_of, lines)
    return render(
        request,
        "policies/batch.html",
        {
            "programmes": selectors.programme_list(),
            "error": error,
            "today": timezone.localdate(),
            "columns": [label for label, _ in batch.COLUMNS],
        },
    )


def _xlsx_response(
    programme: Programme, as_of: dt.date, lines: list[batch.BatchLine]
) -> HttpResponse:
    import xlsxwriter

    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {"in_memory": True})
    sheet = book.add_worksheet("核查结果")
    sheet.write_row(0, 0, ["编号", "结果", "金额（元）", "未满足的规则", "说明", "何时可满足"])
    for row, line in enumerate(lines, start=1):
        e = line.eligibility
        failed = [r for r in e.results if not r.passed]
        sheet.write_row(
            row,
            0,
            [
                escape_cell(line.number),
                "eligible" if e.eligible else "ineligible",
                e.amount,
                ",".join(e.failed_codes),
                "；".join(r.explanation for r in failed),
                "；".join(f"{r.code} {r.passes_on.isoformat()}" for r in failed if r.passes_on),
            ],
        )
    book.close()
    response = HttpResponse(
        buffer.getvalue(),
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    name = f"{programme.code}-{as_of.isoformat()}.xlsx"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@require_GET
def figures(request: AuthedRequest) -> HttpResponse:
    year_text = request.GET.get("year", "")
    year = int(year_text) if year_text.isdigit() and 2000 <= int(year_text) <= 2100 else None
    return render(
        request,
        "policies/figures.html",
        {"figures": selectors.subsidy_figures(year=year), "year": year},
    )


@require_http_methods(["GET", "POST"])
def staff_policy_new(request: AuthedRequest) -> HttpResponse:
    """Publish a policy, or a new version of one (``replaces``): the old one stays readable."""
    errors: dict[str, list[str]] = {}
    form: Any = request.POST if request.method == "POST" else request.GET
    if request.method == "POST":

        def _date(name: str) -> dt.date | None:
            text = request.POST.get(name, "").strip()
            if not text:
                return None
            try:
                return dt.date.fromisoformat(text)
            except ValueError as exc:
                raise ValidationError({name: "日期不正确（应为 YYYY-MM-DD）"}) from exc

        try:
            data = services.PolicyInput(
                title=request.POST.get("title", ""),
                level=request.POST.get("level", ""),
                issuer=request.POST.get("issuer", ""),
                doc_number=request.POST.get("doc_number", ""),
                effective_from=_date("effective_from"),
                effective_to=_date("effective_to"),
                summary=request.POST.get("summary", ""),
                full_text=request.POST.get("full_text", ""),
                tags=tuple(request.POST.get("tags", "").replace("，", ",").split(",")),
                replaces_id=int(r) if (r := request.POST.get("replaces", "")).isdigit() else None,
            )
            policy = services.policy_create(actor=request.user, data=data)
        except ValidationError as exc:
            errors = exc.message_dict
        else:
            messages.success(request, "政策已发布。")
            return redirect("policies:policy_detail", policy.pk)
    return render(
        request,
        "policies/policy_form.html",
        {
            "errors": errors,
            "form": form,
            "levels": Policy.Level.choices,
            "current": Policy.objects.filter(replaced_by__isnull=True).order_by("title"),
        },
    )
