"""Every page and API operation of enterprises and postings, for every role, an anonymous
visitor, and the two "other" people: enterprise B's HR (against enterprise A's objects) and
student Y. Each request carries valid input, so a refusal is a refusal and not a form error;
every refused request (by the policy, or a 404 from a scoped selector) must change nothing."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.test import Client
from django.utils import timezone

from qinghe.accounts.models import Organisation, User
from qinghe.core.models import AuditLog
from qinghe.core.policies import access_for
from qinghe.core.roles import ALL_ROLES, Role
from qinghe.enterprises.models import Enterprise, EnterpriseEvent, InternshipBase
from qinghe.enterprises.tests.factories import make_base, make_posting
from qinghe.enterprises.uscc import make_uscc
from qinghe.jobs.models import Favourite, Posting, PostingEvent
from qinghe.plan.models import YearTarget
from qinghe.recruitment.models import (
    Application,
    ApplicationEvent,
    Interview,
    InterviewEvent,
    InterviewSlot,
    PipelineStage,
)
from qinghe.recruitment.services.stages import default_stage, stage_create
from qinghe.talents.models import Consent, Destination
from qinghe.talents.resume import resume_upload
from qinghe.testing.files import make_pdf
from qinghe.testing.recruiting import apply_to, at, claim_talent, interview_in_the_past, invite
from qinghe.testing.routes import walk_routes
from qinghe.testing.world import World

pytestmark = pytest.mark.django_db

YEAR = timezone.localdate().year
CLOSING = str(timezone.localdate().replace(year=YEAR + 1))


@dataclass
class Pipeline:
    """Student X's applications to enterprise A: one with an upcoming interview (待确认), one
    with an interview that has begun, one with none; A's own stage; a slot of posting_a."""

    app: Application
    app_past: Application
    app_plain: Application
    upcoming: Interview
    past: Interview
    stage: PipelineStage
    slot: InterviewSlot


@dataclass
class Objects:
    world: World
    base_applied: InternshipBase
    base_certified: InternshipBase
    quality_a: Posting
    pipe: Pipeline | None = None


def make_pipeline(world: World, quality_a: Posting, personas: dict[str, User]) -> Pipeline:
    claim_talent(world.x, name="李晓彤", seq="102", phone="13512340001")
    claim_talent(world.y, name="区嘉敏", seq="202", phone="13512340002")
    claim_talent(personas[Role.AMBASSADOR], name="黄子晴", seq="302", phone="13512340003")
    app = apply_to(world.x, world.posting_a)
    app_past = apply_to(world.x, quality_a)
    app_plain = apply_to(world.x, make_posting(world.a, title="面试邀请样例"))
    return Pipeline(
        app=app,
        app_past=app_past,
        app_plain=app_plain,
        upcoming=invite(world.hr_a, app),
        past=interview_in_the_past(app_past),
        stage=stage_create(
            actor=world.hr_a, enterprise=world.a, name="体检", after=default_stage("offer")
        ),
        slot=InterviewSlot.objects.create(
            posting=world.posting_a,
            starts_at=at(60),
            ends_at=at(60.5),
            location="雅图仕大厦",
            capacity=2,
        ),
    )


@dataclass(frozen=True)
class Case:
    """How to call a route: its URL parameters from the world, the input, and whose object it
    is ("a": enterprise A's, so B's HR must get a 404; "" otherwise)."""

    params: Callable[[Objects], dict[str, int]] = lambda o: {}
    data: dict[str, Any] | None = None
    json: dict[str, Any] | None = None
    owner: str = ""  # "a": enterprise A's object; "x": student X's object
    query: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


def profile_form(o: Objects) -> dict[str, Any]:
    return {
        "industry": "23",
        "town": str(o.world.ref.shaping.pk),
        "park": "industrial_city",
        "size": "xlarge",
        "address": "鹤山市沙坪街道",
        "description": "出版物印刷",
        "contact_name": "陈嘉豪",
        "contact_phone": "0750-8888888",
    }


REGISTRATION = {
    "uscc": make_uscc("91440784MA4UJ999X"),
    "name": "鹤山市新注册企业有限公司",
    "industry": "39",
    "park": "",
    "size": "small",
    "contact_name": "何志明",
    "contact_phone": "13922220001",
    "username": "newco_hr",
    "display_name": "何志明",
    "password": "Newco-register-2026",
    "password2": "Newco-register-2026",
}
POSTING_FORM = {
    "kind": "job",
    "title": "新岗位",
    "description": "负责新产品导入与工艺改进。",
    "min_level": "bachelor",
    "headcount": "2",
    "salary_min": "6000",
    "salary_max": "8000",
    "closing_date": CLOSING,
    "working_hours": "双休",
    "housing": "宿舍",
    "meals": "两餐",
    "social_insurance": "五险一金",
    "leave": "年假",
    "safety": "培训",
}
POSTING_JSON = {
    "kind": "job",
    "title": "新岗位",
    "description": "负责新产品导入与工艺改进。",
    "town": "440784001",
    "salary_min": 6000,
    "salary_max": 8000,
    "closing_date": CLOSING,
}
CRITERIA = ["contract", "insurance", "growth", "industry"]
TARGETS = {
    "quality_jobs": 600,
    "internship_bases": 12,
    "internship_posts": 550,
    "native_hires": 320,
}
BASE_FORM = {
    "description": "提供实习岗位，导师带教，免费食宿",
    "capacity": "20",
    "requested_from": f"{YEAR}-01-01",
    "requested_to": f"{YEAR + 1}-12-31",
}

A_POSTING = lambda o: {"posting_id": o.world.posting_a.pk}  # noqa: E731
A_DRAFT = lambda o: {"posting_id": o.world.draft_a.pk}  # noqa: E731
A_REVIEW = lambda o: {"posting_id": o.world.review_a.pk}  # noqa: E731
A_QUALITY = lambda o: {"posting_id": o.quality_a.pk}  # noqa: E731
C_ENTERPRISE = lambda o: {"enterprise_id": o.world.c.pk}  # noqa: E731
A_ENTERPRISE = lambda o: {"enterprise_id": o.world.a.pk}  # noqa: E731
A_BASE = lambda o: {"base_id": o.base_applied.pk}  # noqa: E731
A_CERTIFIED_BASE = lambda o: {"base_id": o.base_certified.pk}  # noqa: E731
THIS_YEAR = lambda o: {"year": YEAR}  # noqa: E731
B_POSTING = lambda o: {"posting_id": o.world.posting_b.pk}  # noqa: E731
X_APP = lambda o: {"application_id": o.pipe.app.pk}  # noqa: E731
X_APP_PLAIN = lambda o: {"application_id": o.pipe.app_plain.pk}  # noqa: E731
X_UPCOMING = lambda o: {"interview_id": o.pipe.upcoming.pk}  # noqa: E731
X_PAST = lambda o: {"interview_id": o.pipe.past.pk}  # noqa: E731
A_STAGE = lambda o: {"stage_id": o.pipe.stage.pk}  # noqa: E731


def _local(hours: float) -> str:
    return timezone.localtime(at(hours)).strftime("%Y-%m-%dT%H:%M")


WHEN_FORM = {
    "starts_at": _local(72),
    "ends_at": _local(72.5),
    "mode": "onsite",
    "location": "雅图仕大厦 3 楼",
}
WHEN_JSON = {
    "starts_at": at(72).isoformat(),
    "ends_at": at(72.5).isoformat(),
    "mode": "online",
    "meeting_url": "https://meeting.tencent.com/dm/abc123",
}

CASES: dict[tuple[str, str], Case] = {
    # enterprises: pages
    ("enterprises:register", "GET"): Case(),
    ("enterprises:register", "POST"): Case(data=REGISTRATION, extra={"town": "shaping"}),
    ("enterprises:mine", "GET"): Case(),
    ("enterprises:edit", "GET"): Case(),
    ("enterprises:edit", "POST"): Case(data={}, extra={"profile": True}),
    ("enterprises:resubmit", "POST"): Case(data={}),
    ("enterprises:colleague_add", "GET"): Case(),
    ("enterprises:colleague_add", "POST"): Case(
        data={
            "username": "colleague_x",
            "display_name": "梁敏",
            "password": "Printing-desk-2026",
            "password2": "Printing-desk-2026",
        }
    ),
    ("enterprises:base_apply", "GET"): Case(),
    ("enterprises:base_apply", "POST"): Case(data=BASE_FORM, extra={"no_pending_base": True}),
    ("enterprises:review_list", "GET"): Case(),
    ("enterprises:detail", "GET"): Case(A_ENTERPRISE),
    ("enterprises:verify", "POST"): Case(C_ENTERPRISE, data={}),
    ("enterprises:reject", "POST"): Case(C_ENTERPRISE, data={"reason": "材料不全"}),
    ("enterprises:set_key", "POST"): Case(A_ENTERPRISE, data={"is_key": "1"}),
    ("enterprises:base_list", "GET"): Case(),
    ("enterprises:base_detail", "GET"): Case(A_BASE, owner="a"),
    ("enterprises:base_certify", "POST"): Case(
        A_BASE, data={"valid_from": f"{YEAR}-01-01", "valid_to": f"{YEAR + 1}-12-31"}
    ),
    ("enterprises:base_reject", "POST"): Case(A_BASE, data={"reason": "不符合条件"}),
    ("enterprises:base_revoke", "POST"): Case(A_CERTIFIED_BASE, data={"reason": "安全检查不合格"}),
    # jobs: pages
    ("jobs:search", "GET"): Case(query="q=软件&kind=job"),
    ("jobs:detail", "GET"): Case(A_POSTING),
    ("jobs:favourite_toggle", "POST"): Case(A_POSTING, data={}),
    ("jobs:favourites", "GET"): Case(),
    ("jobs:my_list", "GET"): Case(),
    ("jobs:create", "GET"): Case(),
    ("jobs:create", "POST"): Case(data=POSTING_FORM, extra={"town": "shaping"}),
    ("jobs:my_detail", "GET"): Case(A_POSTING, owner="a"),
    ("jobs:edit", "GET"): Case(A_DRAFT, owner="a"),
    ("jobs:edit", "POST"): Case(A_DRAFT, data=POSTING_FORM, owner="a", extra={"town": "shaping"}),
    ("jobs:submit", "POST"): Case(A_DRAFT, data={}, owner="a"),
    ("jobs:withdraw", "POST"): Case(A_REVIEW, data={}, owner="a"),
    ("jobs:revise", "POST"): Case(A_POSTING, data={}, owner="a"),
    ("jobs:close", "POST"): Case(A_POSTING, data={}, owner="a"),
    ("jobs:staff_list", "GET"): Case(),
    ("jobs:staff_detail", "GET"): Case(A_POSTING),
    ("jobs:approve", "POST"): Case(A_REVIEW, data={}),
    ("jobs:reject", "POST"): Case(A_REVIEW, data={"note": "请补充薪酬说明"}),
    ("jobs:staff_close", "POST"): Case(A_POSTING, data={}),
    ("jobs:certify", "POST"): Case(A_POSTING, data={"criteria": CRITERIA, "note": "核实"}),
    ("jobs:revoke_quality", "POST"): Case(A_QUALITY, data={"reason": "欠缴社保"}),
    ("plan:targets", "GET"): Case(query=f"year={YEAR}"),
    ("plan:targets_edit", "GET"): Case(query=f"year={YEAR}"),
    ("plan:targets_edit", "POST"): Case(
        data={k: str(v) for k, v in TARGETS.items()}, query=f"year={YEAR}"
    ),
    # API: enterprises
    ("api:enterprise_me", "GET"): Case(),
    ("api:enterprise_list", "GET"): Case(),
    ("api:enterprise_detail", "GET"): Case(A_ENTERPRISE, owner="a"),
    ("api:enterprise_verify", "POST"): Case(C_ENTERPRISE, json={}),
    ("api:enterprise_reject", "POST"): Case(C_ENTERPRISE, json={"reason": "材料不全"}),
    ("api:internship_bases", "GET"): Case(),
    ("api:internship_bases", "POST"): Case(
        extra={"no_pending_base": True},
        json={
            "description": "提供实习岗位，导师带教，免费食宿",
            "capacity": 20,
            "requested_from": f"{YEAR}-01-01",
            "requested_to": f"{YEAR + 1}-12-31",
        },
    ),
    ("api:internship_base_certify", "POST"): Case(
        A_BASE, json={"valid_from": f"{YEAR}-01-01", "valid_to": f"{YEAR + 1}-12-31"}
    ),
    ("api:internship_base_reject", "POST"): Case(A_BASE, json={"reason": "不符合条件"}),
    ("api:internship_base_revoke", "POST"): Case(
        A_CERTIFIED_BASE, json={"reason": "安全检查不合格"}
    ),
    # API: postings
    ("api:posting_search", "GET"): Case(query="q=软件&kind=job"),
    ("api:posting_detail", "GET"): Case(A_POSTING),
    ("api:favourite_list", "GET"): Case(),
    ("api:favourite_toggle", "POST"): Case(A_POSTING, json={}),
    ("api:my_postings", "GET"): Case(),
    ("api:my_postings", "POST"): Case(json=POSTING_JSON),
    ("api:my_posting", "GET"): Case(A_DRAFT, owner="a"),
    ("api:my_posting", "PUT"): Case(A_DRAFT, json=POSTING_JSON, owner="a"),
    ("api:posting_submit", "POST"): Case(A_DRAFT, json={}, owner="a"),
    ("api:posting_withdraw", "POST"): Case(A_REVIEW, json={}, owner="a"),
    ("api:posting_revise", "POST"): Case(A_POSTING, json={}, owner="a"),
    ("api:posting_close", "POST"): Case(A_POSTING, json={}, owner="a"),
    ("api:staff_postings", "GET"): Case(),
    ("api:posting_approve", "POST"): Case(A_REVIEW, json={}),
    ("api:posting_reject", "POST"): Case(A_REVIEW, json={"note": "请补充薪酬说明"}),
    ("api:posting_certify", "POST"): Case(A_POSTING, json={"criteria": CRITERIA}),
    ("api:year_targets", "GET"): Case(THIS_YEAR),
    ("api:year_targets", "PUT"): Case(THIS_YEAR, json=TARGETS),
    # applications and interviews: pages
    ("recruitment:apply", "GET"): Case(B_POSTING),
    ("recruitment:apply", "POST"): Case(B_POSTING, data={"consent": "1"}),
    ("recruitment:my_applications", "GET"): Case(),
    ("recruitment:my_application", "GET"): Case(X_APP, owner="x"),
    ("recruitment:application_withdraw", "POST"): Case(
        X_APP_PLAIN, data={"reason": "已接受其他单位录用"}, owner="x"
    ),
    ("recruitment:interview_confirm", "POST"): Case(X_UPCOMING, data={}, owner="x"),
    ("recruitment:interview_reschedule_request", "POST"): Case(
        X_UPCOMING, data={"reason": "当天有期末考试"}, owner="x"
    ),
    ("recruitment:applicants", "GET"): Case(),
    ("recruitment:applicant", "GET"): Case(X_APP, owner="a"),
    ("recruitment:applicant_resume", "GET"): Case(X_APP, owner="a", extra={"resume": True}),
    ("recruitment:applicant_move", "POST"): Case(
        X_APP_PLAIN, data={"note": "初筛通过"}, owner="a", extra={"stage": "screening"}
    ),
    ("recruitment:interview_invite", "POST"): Case(X_APP_PLAIN, data=WHEN_FORM, owner="a"),
    ("recruitment:interview_reschedule", "POST"): Case(
        X_UPCOMING, data={**WHEN_FORM, "reason": "改到周四"}, owner="a"
    ),
    ("recruitment:interview_result", "POST"): Case(
        X_PAST, data={"result": "passed", "notes": "沟通良好"}, owner="a"
    ),
    ("recruitment:slots", "GET"): Case(A_POSTING, owner="a"),
    ("recruitment:slots", "POST"): Case(A_POSTING, data={**WHEN_FORM, "capacity": "3"}, owner="a"),
    ("recruitment:stages", "GET"): Case(),
    ("recruitment:stages", "POST"): Case(data={"name": "笔试"}, extra={"after": "screening"}),
    ("recruitment:stage_edit", "POST"): Case(
        A_STAGE, data={"name": "入职体检", "is_active": "1"}, owner="a"
    ),
    ("recruitment:staff_applications", "GET"): Case(query=f"year={YEAR}&stage=applied"),
    ("recruitment:staff_application", "GET"): Case(X_APP),
    # applications and interviews: API
    ("api:application_apply", "GET"): Case(B_POSTING),
    ("api:application_apply", "POST"): Case(B_POSTING, json={"consent": True}),
    ("api:my_applications", "GET"): Case(),
    ("api:my_application", "GET"): Case(X_APP, owner="x"),
    ("api:application_withdraw", "POST"): Case(
        X_APP_PLAIN, json={"reason": "已接受其他单位录用"}, owner="x"
    ),
    ("api:interview_confirm", "POST"): Case(X_UPCOMING, json={}, owner="x"),
    ("api:interview_reschedule_request", "POST"): Case(
        X_UPCOMING, json={"reason": "当天有期末考试"}, owner="x"
    ),
    ("api:applicants", "GET"): Case(),
    ("api:applicant", "GET"): Case(X_APP, owner="a"),
    ("api:applicant_move", "POST"): Case(X_APP_PLAIN, json={"stage": "screening"}, owner="a"),
    ("api:interview_invite", "POST"): Case(X_APP_PLAIN, json=WHEN_JSON, owner="a"),
    ("api:interview_reschedule", "POST"): Case(
        X_UPCOMING, json={**WHEN_JSON, "reason": "改到周四"}, owner="a"
    ),
    ("api:interview_result", "POST"): Case(X_PAST, json={"result": "passed"}, owner="a"),
    ("api:interview_slots", "GET"): Case(A_POSTING, owner="a"),
    ("api:interview_slots", "POST"): Case(A_POSTING, json={**WHEN_JSON, "capacity": 2}, owner="a"),
    ("api:pipeline_stages", "GET"): Case(),
    ("api:pipeline_stages", "POST"): Case(json={"name": "笔试", "after": "screening"}),
    ("api:pipeline_stage", "PUT"): Case(A_STAGE, json={"name": "入职体检"}, owner="a"),
    ("api:staff_applications", "GET"): Case(query=f"year={YEAR}"),
    ("api:staff_application", "GET"): Case(X_APP),
}
# The routes of applications and interviews: their cases get student X's applications.
PIPELINE_ROUTES = {
    name
    for name, _ in CASES
    if not name.startswith("enterprises:")
    and any(word in name for word in ("appl", "interview", "slot", "stage"))
}

OUR_API = {name for name, _ in CASES if name.startswith("api:")}


def our_routes() -> dict[tuple[str, str], str]:
    """(view name, method) -> route pattern, for every route of enterprises, jobs, recruitment
    and plan."""
    from qinghe.core.policies import policy_for
    from qinghe.testing.routes import methods_of

    found: dict[tuple[str, str], str] = {}
    for name, route in walk_routes():
        if (
            name.startswith(("enterprises:", "jobs:", "recruitment:", "plan:"))
            or name in OUR_API
            or (name.startswith("api:") and ("/enterprises/" in route or "/jobs/" in route))
        ):
            rule = policy_for(name)
            assert rule is not None, name
            for method in methods_of(rule):
                found[(name, method)] = route
    return found


ROUTES = our_routes()


def test_every_route_and_operation_of_the_two_apps_has_a_case() -> None:
    assert sorted(set(ROUTES) - set(CASES)) == []
    assert sorted(set(CASES) - set(ROUTES)) == []


ACTORS = sorted(ALL_ROLES) + ["anonymous", "hr_b", "student_y"]


def snapshot() -> tuple[Any, ...]:
    return (
        sorted(
            Enterprise.objects.values_list(
                "pk", "state", "is_key", "description", "contact_phone", "reject_reason"
            )
        ),
        sorted(
            Posting.objects.values_list(
                "pk", "state", "title", "is_quality", "review_note", "salary_min"
            )
        ),
        sorted(InternshipBase.objects.values_list("pk", "state", "valid_from")),
        Favourite.objects.count(),
        User.objects.count(),
        Organisation.objects.count(),
        sorted(YearTarget.objects.values_list("year", "quality_jobs")),
        PostingEvent.objects.count(),
        EnterpriseEvent.objects.count(),
        AuditLog.objects.exclude(action__in=["login", "logout"]).count(),
        sorted(
            Application.objects.values_list(
                "pk", "stage_id", "hired_at", "withdrawn_at", "destination_id"
            )
        ),
        ApplicationEvent.objects.count(),
        sorted(
            Interview.objects.values_list(
                "pk", "state", "starts_at", "slot_id", "result", "notes", "reminder_sent_at"
            )
        ),
        InterviewEvent.objects.count(),
        sorted(InterviewSlot.objects.values_list("pk", "starts_at", "capacity")),
        sorted(PipelineStage.objects.values_list("pk", "name", "is_active", "position")),
        Consent.objects.count(),
        Destination.objects.count(),
    )


def _path(route: str, params: dict[str, int], query: str) -> str:
    from qinghe.testing.routes import concrete_path

    path = concrete_path(route, {k: str(v) for k, v in params.items()})
    assert path is not None, route
    return path + (f"?{query}" if query else "")


def _request(client: Client, method: str, path: str, case: Case, objects: Objects) -> Any:
    if case.json is not None:
        return client.generic(method, path, json.dumps(case.json), content_type="application/json")
    if method == "GET":
        return client.get(path)
    data = dict(case.data or {})
    if case.extra.get("town"):
        data["town"] = str(objects.world.ref.shaping.pk)
    if case.extra.get("profile"):
        data.update(profile_form(objects))
    for name in ("stage", "after"):
        if case.extra.get(name):
            data[name] = str(default_stage(case.extra[name]).pk)
    return client.post(path, data)


def _user_for(actor: str, personas: dict[str, User], world: World) -> User | None:
    if actor == "anonymous":
        return None
    if actor == "hr_b":
        return world.hr_b
    if actor == "student_y":
        return world.y
    return personas[actor]


@pytest.mark.parametrize(("name", "method"), sorted(CASES))
def test_each_actor_is_let_through_or_refused_and_a_refusal_changes_nothing(
    name: str, method: str, world: World, personas: dict[str, User]
) -> None:
    objects = Objects(
        world=world,
        base_applied=make_base(world.a),
        base_certified=make_base(
            world.a,
            state=InternshipBase.State.CERTIFIED,
            valid_from=timezone.localdate(),
            valid_to=timezone.localdate().replace(year=YEAR + 2),
        ),
        quality_a=make_posting(
            world.a, title="优质岗位样例", is_quality=True, quality_certified_at=timezone.now()
        ),
    )
    case = CASES[(name, method)]
    if name in PIPELINE_ROUTES:
        objects.pipe = make_pipeline(world, objects.quality_a, personas)
    if case.extra.get("resume"):  # student X's PDF résumé, for the enterprise applied to
        resume_upload(user=world.x, upload=SimpleUploadedFile("简历.pdf", make_pdf()))
    if case.extra.get("no_pending_base"):  # one application at a time: let A apply afresh
        InternshipBase.objects.filter(pk=objects.base_applied.pk).update(
            state=InternshipBase.State.REJECTED
        )
    path = _path(ROUTES[(name, method)], case.params(objects), case.query)
    is_api = path.startswith("/api/")
    wrong: list[str] = []
    for actor in ACTORS:
        user = _user_for(actor, personas, world)
        role = user.role if user else None
        access = access_for(name, method)
        assert access is not None
        allowed = access.allows(authenticated=user is not None, role=role)
        with transaction.atomic():
            client = Client(raise_request_exception=True)
            if user is not None:
                client.force_login(user)
            before = snapshot()
            response = _request(client, method, path, case, objects)
            after = snapshot()
            transaction.set_rollback(True)
        status = response.status_code
        if not allowed:
            refused = getattr(response, "policy_refused", False) and (
                (
                    status == 401
                    if is_api
                    else status == 302 and "/accounts/login/" in response["Location"]
                )
                if user is None
                else status == 403
            )
            if not refused:
                wrong.append(f"{actor}: expected refusal, got {status}")
            if after != before:
                wrong.append(f"{actor}: refused but changed data")
        elif (case.owner == "a" and actor == "hr_b") or (
            case.owner == "x" and actor != Role.STUDENT
        ):
            whose = "enterprise A's" if case.owner == "a" else "student X's"
            if status != 404:
                wrong.append(f"{actor}: expected 404 for {whose} object, got {status}")
            if after != before:
                wrong.append(f"{actor}: 404 but changed data")
        elif status >= 400:
            wrong.append(f"{actor}: expected success, got {status} {response.content[:200]!r}")
    assert wrong == []


# --- the outcomes of allowed requests that must do exactly their job --------------------------


def test_enterprise_b_lists_only_its_own_postings(world: World) -> None:
    client = Client()
    client.force_login(world.hr_b)
    page = client.get("/jobs/mine/").context["page"]
    assert sorted(p.title for p in page.object_list) == ["外贸业务员", "机械设计工程师（五金卫浴）"]
    api = client.get("/api/v1/jobs/mine").json()
    assert sorted(p["title"] for p in api) == ["外贸业务员", "机械设计工程师（五金卫浴）"]


def test_enterprise_b_cannot_edit_enterprise_as_draft_through_the_api_and_nothing_changes(
    world: World,
) -> None:
    client = Client()
    client.force_login(world.hr_b)
    before = snapshot()
    response = client.put(
        f"/api/v1/jobs/mine/{world.draft_a.pk}",
        json.dumps(POSTING_JSON),
        content_type="application/json",
    )
    assert response.status_code == 404 and response.json() == {"detail": "未找到该记录"}
    assert snapshot() == before
    assert Posting.objects.get(pk=world.draft_a.pk).title == "印前设计工程师"


def test_enterprise_a_edits_and_submits_its_draft_through_the_api(world: World) -> None:
    client = Client()
    client.force_login(world.hr_a)
    body = {
        **POSTING_JSON,
        "title": "印前设计工程师（包装）",
        "majors": ["080902"],
        "working_hours": "双休",
        "housing": "宿舍",
        "meals": "两餐",
        "social_insurance": "五险一金",
        "leave": "年假",
        "safety": "培训",
    }
    updated = client.put(
        f"/api/v1/jobs/mine/{world.draft_a.pk}", json.dumps(body), content_type="application/json"
    )
    assert updated.status_code == 200
    assert (
        updated.json()["title"],
        updated.json()["majors"],
        updated.json()["missing_to_publish"],
    ) == (
        "印前设计工程师（包装）",
        ["080902"],
        {},
    )
    submitted = client.post(f"/api/v1/jobs/mine/{world.draft_a.pk}/submit")
    assert (submitted.status_code, submitted.json()["state"]) == (200, "review")


def test_the_api_refuses_an_unverified_enterprise_and_changes_nothing(world: World) -> None:
    client = Client()
    client.force_login(world.hr_c)
    draft = make_posting(world.c, title="服装设计师", state=Posting.State.DRAFT)
    before = snapshot()
    response = client.post(f"/api/v1/jobs/mine/{draft.pk}/submit")
    assert response.status_code == 400
    assert response.json() == {"detail": "企业尚未通过人社局认证，不能提交或发布岗位"}
    assert snapshot() == before


def test_the_api_search_answers_like_the_page(client_as: Any, world: World) -> None:
    client = client_as(Role.STUDENT)
    api = client.get("/api/v1/jobs/search", {"q": "软件 开发", "kind": "job"}).json()
    page = client.get("/jobs/", {"q": "软件 开发", "kind": "job"}).context["page"]
    assert api["count"] == page.paginator.count == 1
    assert (
        [i["title"] for i in api["items"]]
        == [p.title for p in page.object_list]
        == ["软件开发工程师"]
    )


def test_the_openapi_schema_documents_the_operations(client_as: Any) -> None:
    schema = client_as(Role.HR_STAFF).get("/api/v1/openapi.json").json()
    paths = schema["paths"]
    assert "/api/v1/jobs/search" in paths and "/api/v1/enterprises/{enterprise_id}/verify" in paths
    assert (
        paths["/api/v1/jobs/staff/{posting_id}/certify"]["post"]["summary"]
        == "认定优质岗位（人社局）"
    )
