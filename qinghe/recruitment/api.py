"""JSON for the recruitment pipeline: the student's application (with the separate consent to
share) and interviews; an enterprise's applicants, stages, slots and interviews; staff's
overview. Same access rules as the pages (qinghe/core/policies.py), the same scoped selectors
(another's object, or an applicant whose consent was withdrawn, is a 404) and the same
services."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import timezone
from ninja import Query, Router, Schema

from qinghe.core.audit import audit_record
from qinghe.core.errors import NotFound
from qinghe.core.http import AuthedRequest
from qinghe.core.masking import mask_name
from qinghe.core.pagination import PageIn
from qinghe.enterprises.selectors import enterprise_for_user
from qinghe.jobs import selectors as posting_selectors
from qinghe.talents.selectors import talent_for_student

from . import selectors as sel
from .models import Application, Interview, InterviewSlot, PipelineStage
from .services import applications, interviews
from .services import stages as stage_services

router = Router()


def _aware(value: dt.datetime | None) -> dt.datetime | None:
    if value is not None and timezone.is_naive(value):
        return timezone.make_aware(value)
    return value


# --- schemas ------------------------------------------------------------------------------------


class StageOut(Schema):
    id: int
    code: str
    name: str
    kind: str
    position: int
    is_terminal: bool
    counts_as_hire: bool
    notify_student: bool
    message_template: str
    is_active: bool
    own: bool


def _stage(s: PipelineStage) -> StageOut:
    return StageOut(
        id=s.pk,
        code=s.code,
        name=s.name,
        kind=s.kind,
        position=s.position,
        is_terminal=s.is_terminal,
        counts_as_hire=s.counts_as_hire,
        notify_student=s.notify_student,
        message_template=s.message_template,
        is_active=s.is_active,
        own=s.enterprise_id is not None,
    )


class TimelineOut(Schema):
    at: dt.datetime
    kind: str
    title: str
    text: str
    reason: str
    by: str


class InterviewEventOut(Schema):
    action: str
    reason: str
    old_starts_at: dt.datetime | None
    new_starts_at: dt.datetime | None
    at: dt.datetime


class InterviewOut(Schema):
    id: int
    state: str
    state_label: str
    starts_at: dt.datetime
    ends_at: dt.datetime
    mode: str
    location: str
    meeting_url: str
    slot_id: int | None
    reminder_sent_at: dt.datetime | None
    events: list[InterviewEventOut]


class EnterpriseInterviewOut(InterviewOut):
    notes: str
    result: str


def _interview(i: Interview, *, enterprise: bool = False) -> dict[str, Any]:
    data = {
        "id": i.pk,
        "state": i.state,
        "state_label": str(i.get_state_display()),
        "starts_at": i.starts_at,
        "ends_at": i.ends_at,
        "mode": i.mode,
        "location": i.location,
        "meeting_url": i.meeting_url,
        "slot_id": i.slot_id,
        "reminder_sent_at": i.reminder_sent_at,
        "events": [
            InterviewEventOut(
                action=e.action,
                reason=e.reason if enterprise or e.action != "result" else "",
                old_starts_at=e.old_starts_at,
                new_starts_at=e.new_starts_at,
                at=e.created_at,
            )
            for e in i.events.all()
        ],
    }
    if enterprise:
        data.update(notes=i.notes, result=i.result)
    return data


def _timeline(application: Application, audience: str) -> list[TimelineOut]:
    return [
        TimelineOut(at=e.at, kind=e.kind, title=e.title, text=e.text, reason=e.reason, by=e.by)
        for e in sel.application_timeline(application=application, audience=audience)
    ]


# --- the student ----------------------------------------------------------------------------------


class SharePreviewOut(Schema):
    posting_id: int
    enterprise: str
    accepts_applications: bool
    application_id: int | None
    has_talent: bool
    consent_text: str
    not_shared: str
    shared: dict[str, Any] | None
    # The phones the student may share (value, label, number) and the one the page pre-selects;
    # ``shared`` is what a POST without ``share_phone`` sends.
    phone_choices: list[dict[str, str]] = []
    phone_default: str = ""


class ApplyIn(Schema):
    consent: bool = False
    cover_letter: str = ""
    # Omitted: the record's current number and the e-mail, as before the choice existed;
    # "account" for the sign-up phone, a phone_choices value, or "none".
    share_phone: str | None = None
    share_email: bool = True


class MyApplicationBrief(Schema):
    id: int
    posting_id: int
    posting_title: str
    enterprise: str
    stage_code: str
    stage_name: str
    applied_at: dt.datetime
    stage_changed_at: dt.datetime
    withdrawn_at: dt.datetime | None
    hired_at: dt.datetime | None
    open_interview: bool


class MyApplicationOut(MyApplicationBrief):
    shared: dict[str, Any]
    cover_letter: str
    timeline: list[TimelineOut]
    interviews: list[InterviewOut]


def _my_brief(a: Application) -> dict[str, Any]:
    return {
        "id": a.pk,
        "posting_id": a.posting_id,
        "posting_title": a.posting.title,
        "enterprise": a.posting.enterprise.name,
        "stage_code": a.stage.code,
        "stage_name": a.stage.name,
        "applied_at": a.applied_at,
        "stage_changed_at": a.stage_changed_at,
        "withdrawn_at": a.withdrawn_at,
        "hired_at": a.hired_at,
        "open_interview": bool(getattr(a, "open_interview", False)),
    }


def _my_out(request: AuthedRequest, application_id: int) -> MyApplicationOut:
    a = sel.student_application_get(viewer=request.user, application_id=application_id)
    return MyApplicationOut(
        **_my_brief(a),
        shared=a.shared_snapshot,
        cover_letter=a.cover_letter,
        timeline=_timeline(a, "student"),
        interviews=[
            InterviewOut(**_interview(i)) for i in sel.application_interviews(application=a)
        ],
    )


@router.get(
    "/{int:posting_id}/apply",
    response=SharePreviewOut,
    url_name="application_apply",
    summary="投递前查看将向企业提供的信息",
)
def application_preview(request: AuthedRequest, posting_id: int) -> SharePreviewOut:
    posting = posting_selectors.posting_get_for_viewer(viewer=request.user, posting_id=posting_id)
    existing = sel.application_for_posting(viewer=request.user, posting=posting)
    talent = talent_for_student(user=request.user)
    choices = applications.phone_choices(user=request.user, talent=talent) if talent else []
    return SharePreviewOut(
        posting_id=posting.pk,
        enterprise=posting.enterprise.name,
        accepts_applications=posting.accepts_applications(),
        application_id=existing.pk if existing else None,
        has_talent=talent is not None,
        consent_text=applications.consent_text(posting.enterprise),
        not_shared=applications.NOT_SHARED,
        shared=applications.share_preview(talent=talent, user=request.user)
        if talent is not None
        else None,
        phone_choices=choices,
        phone_default=applications.default_phone_choice(choices) if talent is not None else "",
    )


@router.post(
    "/{int:posting_id}/apply",
    response=MyApplicationOut,
    url_name="application_apply",
    summary="投递岗位（同时单独同意向该企业提供个人信息，consent 须为 true）",
)
def application_apply(request: AuthedRequest, posting_id: int, body: ApplyIn) -> MyApplicationOut:
    posting = posting_selectors.posting_get_for_viewer(viewer=request.user, posting_id=posting_id)
    application = applications.application_apply(
        actor=request.user,
        posting=posting,
        consent=body.consent,
        cover_letter=body.cover_letter,
        share_phone=body.share_phone,
        share_email=body.share_email,
    )
    return _my_out(request, application.pk)


@router.get(
    "/applications",
    response=list[MyApplicationBrief],
    url_name="my_applications",
    summary="我的投递",
)
def my_applications(request: AuthedRequest) -> list[MyApplicationBrief]:
    return [
        MyApplicationBrief(**_my_brief(a))
        for a in sel.student_applications(viewer=request.user)[:200]
    ]


@router.get(
    "/applications/{int:application_id}",
    response=MyApplicationOut,
    url_name="my_application",
    summary="我的一份投递：进度、时间线、面试",
)
def my_application(request: AuthedRequest, application_id: int) -> MyApplicationOut:
    return _my_out(request, application_id)


class ReasonIn(Schema):
    reason: str = ""


@router.post(
    "/applications/{int:application_id}/withdraw",
    response=MyApplicationOut,
    url_name="application_withdraw",
    summary="撤回投递（须写明原因）",
)
def application_withdraw(
    request: AuthedRequest, application_id: int, body: ReasonIn
) -> MyApplicationOut:
    application = sel.student_application_get(viewer=request.user, application_id=application_id)
    applications.application_withdraw(
        actor=request.user, application=application, reason=body.reason
    )
    return _my_out(request, application_id)


class ConfirmIn(Schema):
    slot_id: int | None = None


def _slot_for(posting_id: int, slot_id: int | None) -> InterviewSlot | None:
    if not slot_id:
        return None
    slot = InterviewSlot.objects.filter(pk=slot_id, posting_id=posting_id).first()
    if slot is None:
        raise NotFound("未找到该面试时段")
    return slot


@router.post(
    "/interviews/{int:interview_id}/confirm",
    response=InterviewOut,
    url_name="interview_confirm",
    summary="确认面试（可另选该岗位的空闲时段）",
)
def interview_confirm(request: AuthedRequest, interview_id: int, body: ConfirmIn) -> InterviewOut:
    interview = sel.student_interview_get(viewer=request.user, interview_id=interview_id)
    slot = _slot_for(interview.application.posting_id, body.slot_id)
    done = interviews.interview_confirm(actor=request.user, interview=interview, slot=slot)
    return InterviewOut(**_interview(done))


@router.post(
    "/interviews/{int:interview_id}/reschedule-request",
    response=InterviewOut,
    url_name="interview_reschedule_request",
    summary="申请面试改期（须写明原因，原因永久保留）",
)
def interview_reschedule_request(
    request: AuthedRequest, interview_id: int, body: ReasonIn
) -> InterviewOut:
    interview = sel.student_interview_get(viewer=request.user, interview_id=interview_id)
    done = interviews.interview_request_reschedule(
        actor=request.user, interview=interview, reason=body.reason
    )
    return InterviewOut(**_interview(done))


# --- the enterprise -------------------------------------------------------------------------------


class ApplicantBrief(Schema):
    id: int
    posting_id: int
    posting_title: str
    name: str
    stage_id: int
    stage_code: str
    stage_name: str
    applied_at: dt.datetime
    hired_at: dt.datetime | None
    open_interview: bool
    reschedule_asked: bool


class ApplicantOut(ApplicantBrief):
    shared: dict[str, Any]
    cover_letter: str
    timeline: list[TimelineOut]
    interviews: list[EnterpriseInterviewOut]
    destination_written: bool


def _applicant_brief(a: Application) -> dict[str, Any]:
    return {
        "id": a.pk,
        "posting_id": a.posting_id,
        "posting_title": a.posting.title,
        "name": (a.shared_snapshot or {}).get("name", ""),
        "stage_id": a.stage_id,
        "stage_code": a.stage.code,
        "stage_name": a.stage.name,
        "applied_at": a.applied_at,
        "hired_at": a.hired_at,
        "open_interview": bool(getattr(a, "open_interview", False)),
        "reschedule_asked": bool(getattr(a, "reschedule_asked", False)),
    }


def _applicant_out(request: AuthedRequest, application_id: int) -> ApplicantOut:
    a = sel.enterprise_application_get(viewer=request.user, application_id=application_id)
    return ApplicantOut(
        **_applicant_brief(a),
        shared=a.shared_snapshot,
        cover_letter=a.cover_letter,
        timeline=_timeline(a, "enterprise"),
        interviews=[
            EnterpriseInterviewOut(**_interview(i, enterprise=True))
            for i in sel.application_interviews(application=a)
        ],
        destination_written=a.destination_id is not None,
    )


class ApplicantFilterIn(PageIn):
    posting: int | None = None
    stage: int | None = None
    q: str = ""


@router.get(
    "/mine/applicants",
    response=list[ApplicantBrief],
    url_name="applicants",
    summary="本企业的应聘者（仅限授权仍有效的学生）",
)
def applicants(request: AuthedRequest, params: Query[ApplicantFilterIn]) -> list[ApplicantBrief]:
    filters = sel.ApplicantFilter.from_query(
        {k: ("" if v is None else v) for k, v in params.dict().items()}
    )
    qs = sel.enterprise_applications(viewer=request.user, filters=filters)
    limit, offset = params.limit, params.offset
    return [ApplicantBrief(**_applicant_brief(a)) for a in qs[offset : offset + limit]]


@router.get(
    "/mine/applicants/{int:application_id}",
    response=ApplicantOut,
    url_name="applicant",
    summary="一位应聘者：学生同意提供的信息、时间线、面试",
)
def applicant(request: AuthedRequest, application_id: int) -> ApplicantOut:
    out = _applicant_out(request, application_id)
    audit_record(
        action="view",
        target_type="recruitment.application",
        target_id=application_id,
        summary=f"查看应聘者信息（学生授权提供）：申请 #{application_id}",
    )
    return out


class MoveIn(Schema):
    stage: str
    note: str = ""


@router.post(
    "/mine/applicants/{int:application_id}/move",
    response=ApplicantOut,
    url_name="applicant_move",
    summary="变更应聘者的阶段（stage 为阶段 id 或代码）",
)
def applicant_move(request: AuthedRequest, application_id: int, body: MoveIn) -> ApplicantOut:
    application = sel.enterprise_application_get(viewer=request.user, application_id=application_id)
    stage = applications.stage_for_move(application=application, stage_id=body.stage)
    applications.application_transition(
        actor=request.user, application=application, stage=stage, note=body.note
    )
    return _applicant_out(request, application_id)


class WhenIn(Schema):
    starts_at: dt.datetime | None = None
    ends_at: dt.datetime | None = None
    mode: str = "onsite"
    location: str = ""
    meeting_url: str = ""

    def when(self) -> interviews.When | None:
        if self.starts_at is None and self.ends_at is None:
            return None
        return interviews.When(
            starts_at=_aware(self.starts_at),
            ends_at=_aware(self.ends_at),
            mode=self.mode,
            location=self.location,
            meeting_url=self.meeting_url,
        )


class InviteIn(WhenIn):
    slot_id: int | None = None


class RescheduleIn(InviteIn):
    reason: str = ""


@router.post(
    "/mine/applicants/{int:application_id}/invite",
    response=EnterpriseInterviewOut,
    url_name="interview_invite",
    summary="邀请面试（slot_id 选用面试时段，或给出时间、方式与地点/链接）",
)
def interview_invite(
    request: AuthedRequest, application_id: int, body: InviteIn
) -> EnterpriseInterviewOut:
    application = sel.enterprise_application_get(viewer=request.user, application_id=application_id)
    interview = interviews.interview_invite(
        actor=request.user,
        application=application,
        slot=_slot_for(application.posting_id, body.slot_id),
        when=body.when(),
    )
    return EnterpriseInterviewOut(**_interview(interview, enterprise=True))


@router.post(
    "/mine/interviews/{int:interview_id}/reschedule",
    response=EnterpriseInterviewOut,
    url_name="interview_reschedule",
    summary="调整面试时间（学生须重新确认）",
)
def interview_reschedule(
    request: AuthedRequest, interview_id: int, body: RescheduleIn
) -> EnterpriseInterviewOut:
    interview = sel.enterprise_interview_get(viewer=request.user, interview_id=interview_id)
    done = interviews.interview_reschedule(
        actor=request.user,
        interview=interview,
        slot=_slot_for(interview.application.posting_id, body.slot_id),
        when=body.when(),
        reason=body.reason,
    )
    return EnterpriseInterviewOut(**_interview(done, enterprise=True))


class ResultIn(Schema):
    result: str
    notes: str = ""
    stage: str | None = None


@router.post(
    "/mine/interviews/{int:interview_id}/result",
    response=EnterpriseInterviewOut,
    url_name="interview_result",
    summary="记录面试记录与结果（可同时变更阶段）",
)
def interview_result(
    request: AuthedRequest, interview_id: int, body: ResultIn
) -> EnterpriseInterviewOut:
    interview = sel.enterprise_interview_get(viewer=request.user, interview_id=interview_id)
    stage = (
        applications.stage_for_move(application=interview.application, stage_id=body.stage)
        if body.stage
        else None
    )
    done = interviews.interview_record_result(
        actor=request.user,
        interview=interview,
        result=body.result,
        notes=body.notes,
        stage=stage,
    )
    return EnterpriseInterviewOut(**_interview(done, enterprise=True))


class SlotIn(WhenIn):
    capacity: int = 1


class SlotOut(Schema):
    id: int
    starts_at: dt.datetime
    ends_at: dt.datetime
    mode: str
    location: str
    meeting_url: str
    capacity: int
    booked: int


def _slots(posting: Any) -> list[SlotOut]:
    return [
        SlotOut(
            id=s.pk,
            starts_at=s.starts_at,
            ends_at=s.ends_at,
            mode=s.mode,
            location=s.location,
            meeting_url=s.meeting_url,
            capacity=s.capacity,
            booked=getattr(s, "booked", 0),
        )
        for s in sel.posting_slots(posting=posting)
    ]


@router.get(
    "/mine/{int:posting_id}/slots",
    response=list[SlotOut],
    url_name="interview_slots",
    summary="本企业岗位的面试时段",
)
def interview_slots(request: AuthedRequest, posting_id: int) -> list[SlotOut]:
    return _slots(posting_selectors.own_posting_get(viewer=request.user, posting_id=posting_id))


@router.post(
    "/mine/{int:posting_id}/slots",
    response=list[SlotOut],
    url_name="interview_slots",
    summary="新增面试时段（线上须给出 https 视频会议链接）",
)
def interview_slot_create(request: AuthedRequest, posting_id: int, body: SlotIn) -> list[SlotOut]:
    posting = posting_selectors.own_posting_get(viewer=request.user, posting_id=posting_id)
    interviews.slot_create(
        actor=request.user,
        posting=posting,
        when=body.when() or interviews.When(starts_at=None, ends_at=None),
        capacity=body.capacity,
    )
    return _slots(posting)


class StageIn(Schema):
    name: str
    after: str
    notify_student: bool = False
    message_template: str = ""


class StageUpdateIn(Schema):
    name: str
    notify_student: bool = False
    message_template: str = ""
    is_active: bool = True


def _own_enterprise(request: AuthedRequest) -> Any:
    enterprise = enterprise_for_user(user=request.user)
    if enterprise is None:
        raise NotFound("账号尚未关联已登记的企业")
    return enterprise


@router.get(
    "/mine/stages",
    response=list[StageOut],
    url_name="pipeline_stages",
    summary="本企业的招聘阶段（平台默认阶段与自定义阶段）",
)
def pipeline_stages(request: AuthedRequest) -> list[StageOut]:
    enterprise = _own_enterprise(request)
    return [_stage(s) for s in sel.stages_for(enterprise=enterprise, active_only=False)]


@router.post(
    "/mine/stages",
    response=list[StageOut],
    url_name="pipeline_stages",
    summary="新增自定义招聘阶段（after 为阶段 id 或代码）",
)
def pipeline_stage_create(request: AuthedRequest, body: StageIn) -> list[StageOut]:
    enterprise = _own_enterprise(request)
    key = body.after.strip()
    visible = sel.stages_for(enterprise=enterprise, active_only=False)
    after = (
        visible.filter(pk=int(key)).first()
        if key.isdigit()
        else visible.filter(code=key).order_by("enterprise_id").first()
    )
    if after is None:
        raise NotFound("未找到该阶段")
    stage_services.stage_create(
        actor=request.user,
        enterprise=enterprise,
        name=body.name,
        after=after,
        notify_student=body.notify_student,
        message_template=body.message_template,
    )
    return [_stage(s) for s in sel.stages_for(enterprise=enterprise, active_only=False)]


@router.put(
    "/mine/stages/{int:stage_id}",
    response=StageOut,
    url_name="pipeline_stage",
    summary="修改本企业的自定义阶段（改名、通知、停用）",
)
def pipeline_stage_update(request: AuthedRequest, stage_id: int, body: StageUpdateIn) -> StageOut:
    stage = sel.own_stage_get(viewer=request.user, stage_id=stage_id)
    stage_services.stage_update(
        actor=request.user,
        stage=stage,
        name=body.name,
        notify_student=body.notify_student,
        message_template=body.message_template,
        is_active=body.is_active,
    )
    return _stage(sel.own_stage_get(viewer=request.user, stage_id=stage_id))


# --- staff ----------------------------------------------------------------------------------------


class StaffApplicationOut(Schema):
    id: int
    posting_id: int
    posting_title: str
    posting_kind: str
    enterprise: str
    enterprise_id: int
    talent_id: int
    name_masked: str
    stage_kind: str
    stage_name: str
    applied_at: dt.datetime
    hired_at: dt.datetime | None
    destination_written: bool
    share_in_force: bool


class StaffCountsOut(Schema):
    total: int
    by_stage: dict[str, int]
    hired: int
    hired_native_jobs: int


class StaffListOut(Schema):
    counts: StaffCountsOut
    items: list[StaffApplicationOut]


class StaffApplicationDetailOut(StaffApplicationOut):
    timeline: list[TimelineOut]
    interviews: list[InterviewOut]


class StaffFilterIn(PageIn):
    q: str = ""
    stage: str = ""
    kind: str = ""
    year: int | None = None
    hired: str = ""


def _staff_brief(a: Application) -> dict[str, Any]:
    return {
        "id": a.pk,
        "posting_id": a.posting_id,
        "posting_title": a.posting.title,
        "posting_kind": a.posting.kind,
        "enterprise": a.enterprise.name,
        "enterprise_id": a.enterprise_id,
        "talent_id": a.talent_id,
        "name_masked": mask_name(a.talent.name),
        "stage_kind": a.stage.kind,
        "stage_name": a.stage.name,
        "applied_at": a.applied_at,
        "hired_at": a.hired_at,
        "destination_written": a.destination_id is not None,
        "share_in_force": bool(getattr(a, "share_granted", False)),
    }


@router.get(
    "/staff/applications",
    response=StaffListOut,
    url_name="staff_applications",
    summary="全部求职申请与各阶段人数（人社局）",
)
def staff_applications(request: AuthedRequest, params: Query[StaffFilterIn]) -> StaffListOut:
    filters = sel.StaffApplicationFilter.from_query(
        {k: ("" if v is None else v) for k, v in params.dict().items()}
    )
    counts = sel.staff_counts(viewer=request.user, filters=filters)
    qs = sel.staff_applications(viewer=request.user, filters=filters)
    limit, offset = params.limit, params.offset
    return StaffListOut(
        counts=StaffCountsOut(
            total=counts.total,
            by_stage={kind: n for kind, _, n in counts.by_stage},
            hired=counts.hired,
            hired_native_jobs=counts.hired_native_jobs,
        ),
        items=[StaffApplicationOut(**_staff_brief(a)) for a in qs[offset : offset + limit]],
    )


@router.get(
    "/staff/applications/{int:application_id}",
    response=StaffApplicationDetailOut,
    url_name="staff_application",
    summary="一份求职申请的进度与时间线（人社局，只读）",
)
def staff_application(request: AuthedRequest, application_id: int) -> StaffApplicationDetailOut:
    a = sel.staff_application_get(viewer=request.user, application_id=application_id)
    return StaffApplicationDetailOut(
        **_staff_brief(a),
        timeline=_timeline(a, "staff"),
        interviews=[
            InterviewOut(**_interview(i)) for i in sel.application_interviews(application=a)
        ],
    )
