"""Records students create by claiming: flagged for staff, verified or found not genuine by the
roles that may edit talents, and a student who reads the same answer whatever their claim
found. Every refused action leaves the database as it was."""

from __future__ import annotations

import importlib
import re
from html import unescape
from typing import Any

import pytest
from django.apps import apps as django_apps
from django.core.exceptions import ValidationError
from django.test import Client
from django.utils import timezone

from qinghe.accounts.models import User
from qinghe.accounts.services import user_create
from qinghe.accounts.sms import CODE_RE, MemorySmsSender
from qinghe.core.audit import audit_record
from qinghe.core.errors import ApplicationError, PermissionDenied
from qinghe.core.models import AuditLog
from qinghe.core.roles import ALL_ROLES, Role
from qinghe.outreach.models import LiaisonAssignment
from qinghe.talents import claims as services_claims
from qinghe.talents import services_self
from qinghe.talents.models import Source, Talent
from qinghe.talents.services import source_stamp, talent_merge
from qinghe.talents.services_self import (
    CLAIM_DONE,
    CLAIM_REFUSED,
    talent_claim,
    talent_verification_decide,
)
from qinghe.talents.tests.factories import make_id, make_talent

pytestmark = pytest.mark.django_db

IMPORTED_ID = make_id("440784", "20030512", "123")
NEW_ID = make_id("440784", "20040101", "456")
OTHER_NEW_ID = make_id("440784", "20050202", "789")
PASSWORD = "Heshan-home-2026"


def student_account(username: str, phone: str, name: str = "") -> User:
    return user_create(
        username=username,
        password=PASSWORD,
        role=Role.STUDENT,
        display_name=name or username,
        phone=phone,
    )


@pytest.fixture
def imported(db: Any) -> Talent:
    """A record the education bureau's survey brought in, not yet claimed."""
    return make_talent(name="黄嘉怡", id_number=IMPORTED_ID, phone="13912345678")


@pytest.fixture
def newcomer(db: Any) -> User:
    return student_account("xuezi-new", "13800138222", "李晓彤")


@pytest.fixture
def pending(newcomer: User) -> Talent:
    """A record a student created by claiming: no record held the ID number."""
    return talent_claim(user=newcomer, id_number=NEW_ID, name="李晓彤").talent


def signed_in(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def snapshot() -> dict[str, Any]:
    """Everything a verification or a claim could change."""
    return {
        "talents": list(
            Talent.objects.order_by("pk").values_list(
                "pk",
                "user_id",
                "name",
                "id_index",
                "merged_into_id",
                "verification",
                "verification_by_id",
                "verification_at",
                "verification_reason",
                "updated_at",
            )
        ),
        "audit": list(AuditLog.objects.order_by("pk").values_list("pk", flat=True)),
    }


def flash_messages(response: Any) -> list[str]:
    return [str(m) for m in response.context["messages"]]


def alert_texts(html: str) -> list[str]:
    """The text of every alert on a page, tags stripped."""
    blocks = re.findall(r'<div class="alert[^"]*"[^>]*>(.*?)</div>', html, flags=re.S)
    return [unescape(re.sub(r"<[^>]+>", "", b)).strip() for b in blocks]


# --- the flag ---------------------------------------------------------------------------------


def test_a_record_created_by_claiming_awaits_verification(newcomer: User) -> None:
    result = talent_claim(user=newcomer, id_number=NEW_ID, name="李晓彤")
    talent = Talent.objects.get(pk=result.talent.pk)
    assert result.created is True
    assert (
        talent.verification,
        talent.verification_by_id,
        talent.verification_at,
        talent.verification_reason,
    ) == ("pending", None, None, "")
    assert talent.get_verification_display() == "学生自建，待核实"
    entry = AuditLog.objects.get(target_type="talents.talent", target_id=str(talent.pk))
    assert (entry.action, entry.actor_id, entry.summary, entry.data) == (
        "create",
        newcomer.pk,
        "学生本人认领：新建档案，待工作人员核实",
        {"claim": "created"},
    )


def test_claiming_an_imported_record_sets_no_flag_and_links_nothing_yet(
    newcomer: User, imported: Talent
) -> None:
    result = talent_claim(user=newcomer, id_number=IMPORTED_ID, name="黄嘉怡")
    imported.refresh_from_db()
    assert result.created is False and result.talent.pk == imported.pk
    assert result.claim is not None and result.claim.state == "awaiting_code"
    assert (imported.user_id, imported.verification, imported.verification_at) == (None, "", None)
    assert Talent.objects.filter(verification="pending").count() == 0


def test_a_decided_state_needs_a_time_in_the_database(pending: Talent) -> None:
    from django.db import IntegrityError, transaction

    with pytest.raises(IntegrityError), transaction.atomic():
        Talent.objects.filter(pk=pending.pk).update(verification="verified")
    pending.refresh_from_db()
    assert pending.verification == "pending"


# --- what the student reads ----------------------------------------------------------------


def test_the_student_reads_the_same_in_the_access_log_whether_the_claim_linked_or_created(
    imported: Talent, settings: Any
) -> None:
    """Claiming a record the city holds takes a code now, so the two claims no longer read
    the same on the way; the student's own view of the audit trail still does."""
    settings.SMS_SENDER = "qinghe.accounts.sms.MemorySmsSender"
    MemorySmsSender.clear()
    linking = student_account("xuezi-a", "13800138301", "黄嘉怡")
    creating = student_account("xuezi-b", "13800138302", "李晓彤")

    opened = signed_in(linking).post(
        "/me/claim/", {"id_number": IMPORTED_ID, "name": "黄嘉怡"}, follow=True
    )
    created = signed_in(creating).post(
        "/me/claim/", {"id_number": NEW_ID, "name": "李晓彤"}, follow=True
    )
    assert opened.redirect_chain == [("/me/claim/verify/", 302)]
    assert created.redirect_chain == [("/me/", 302)]
    assert flash_messages(created) == [CLAIM_DONE]
    for page in (opened.content.decode(), created.content.decode()):
        assert "新建" not in page and "自建" not in page
    services_claims.claim_code_send(user=linking, choice=0)
    code = CODE_RE.search(MemorySmsSender.outbox[-1].text)
    assert code is not None
    services_claims.claim_code_confirm(user=linking, code=code.group(1))
    MemorySmsSender.clear()

    assert Talent.objects.get(user=linking).verification == ""
    assert Talent.objects.get(user=creating).verification == "pending"

    def claim_entries(user: User) -> list[tuple[str, str, str]]:
        data = services_self.self_data(talent=Talent.objects.get(user=user), user=user)
        return [(a["action"], a["by"], a["summary"]) for a in data["access_log"]]

    assert (
        claim_entries(linking) == claim_entries(creating) == [("认领", "本人", "学生本人认领档案")]
    )
    # Staff still tell them apart.
    assert sorted(
        AuditLog.objects.filter(data__claim__in=["created", "linked"]).values_list(
            "actor__username", "action", "data__claim"
        )
    ) == [("xuezi-a", "update", "linked"), ("xuezi-b", "create", "created")]


def test_the_refusal_names_no_cause(imported: Talent) -> None:
    holder = student_account("xuezi-holder", "13800138303", "区浩然")
    make_talent(name="区浩然", id_number=OTHER_NEW_ID, phone=None, user=holder)
    client = signed_in(student_account("xuezi-c", "13800138304"))
    before = snapshot()

    wrong_name = client.post("/me/claim/", {"id_number": IMPORTED_ID, "name": "黄佳怡"})
    taken = client.post("/me/claim/", {"id_number": OTHER_NEW_ID, "name": "区浩然"})

    refusals = [
        [t for t in alert_texts(r.content.decode()) if "认领" in t] for r in (wrong_name, taken)
    ]
    assert refusals == [[CLAIM_REFUSED], [CLAIM_REFUSED]]
    assert CLAIM_REFUSED == (
        "无法完成认领。请核对身份证号和姓名是否与身份证一致；如确认无误，请联系服务专员"
    )
    for words in ("未找到", "已被", "已有", "不符", "不一致，", "存在"):
        assert words not in CLAIM_REFUSED
    after = snapshot()
    assert after["talents"] == before["talents"]
    assert len(after["audit"]) == len(before["audit"]) + 2  # the two counted refusals


# --- the staff list: filter and count --------------------------------------------------------


@pytest.fixture
def mixed(imported: Talent, pending: Talent, personas: Any) -> dict[str, Talent]:
    hr = personas[Role.HR_STAFF]
    second = talent_claim(
        user=student_account("xuezi-d", "13800138305"), id_number=OTHER_NEW_ID, name="陈思远"
    ).talent
    verified = talent_claim(
        user=student_account("xuezi-e", "13800138306"),
        id_number=make_id("440784", "20010303", "321"),
        name="梁子晴",
    ).talent
    rejected = talent_claim(
        user=student_account("xuezi-f", "13800138307"),
        id_number=make_id("440784", "20000404", "654"),
        name="冒认者",
    ).talent
    talent_verification_decide(viewer=hr, talent=verified, decision="verified")
    talent_verification_decide(
        viewer=hr, talent=rejected, decision="rejected", reason="学校查无此人"
    )
    return {
        "imported": imported,
        "pending": pending,
        "second": second,
        "verified": verified,
        "rejected": rejected,
    }


def test_the_staff_list_filters_and_counts_records_awaiting_verification(
    client_as: Any, mixed: dict[str, Talent]
) -> None:
    client = client_as(Role.HR_STAFF)

    def listed(**query: str) -> list[int]:
        return sorted(t.pk for t in client.get("/talents/", query).context["page"].object_list)

    assert listed(verification="pending") == sorted([mixed["pending"].pk, mixed["second"].pk])
    assert listed(verification="verified") == [mixed["verified"].pk]
    assert listed(verification="rejected") == [mixed["rejected"].pk]
    # Without the filter: everything but the record found not genuine.
    assert listed() == sorted(
        [mixed["imported"].pk, mixed["pending"].pk, mixed["second"].pk, mixed["verified"].pk]
    )
    # An unknown value is no filter at all.
    assert listed(verification="nonsense") == listed()

    response = client.get("/talents/")
    html = response.content.decode()
    assert response.context["verification_counts"] == {"pending": 2, "verified": 1, "rejected": 1}
    assert '<span class="badge text-bg-warning" data-testid="pending-count">2</span>' in html
    assert '<option value="pending">学生自建，待核实（2）</option>' in html
    assert '<option value="rejected">学生自建，核实不属实（1）</option>' in html
    assert response.context["overview"]["total"] == 4
    assert response.context["overview"]["pending"] == 2
    # The page's row count is the overview's (no COUNT of its own): the rows listed.
    assert response.context["page"].paginator.count == len(listed()) == 4
    assert "按状态分布（共 4 人，其中学生自建待核实 2 人）" in html
    assert "另有 1 条学生自建记录经核实不属实，未列入名单和统计；可按“核实状态”筛选查看。" in html
    assert html.count('data-testid="verification-badge">学生自建，待核实</span>') == 2
    assert html.count('data-testid="verification-badge">学生自建，已核实</span>') == 1

    pending_only = client.get("/talents/", {"verification": "pending"})
    assert pending_only.context["overview"] == {
        **pending_only.context["overview"],
        "total": 2,
        "pending": 2,
        "rows": 2,
    }
    assert pending_only.context["page"].paginator.count == 2
    assert 'data-testid="rejected-note"' not in pending_only.content.decode()


def test_a_reader_who_may_not_verify_sees_the_count_and_badge_but_no_buttons(
    client_as: Any, pending: Talent
) -> None:
    client = client_as(Role.EDU_STAFF)
    assert client.get("/talents/").context["verification_counts"]["pending"] == 1
    html = client.get(f"/talents/{pending.pk}/").content.decode()
    assert 'data-testid="verification-badge">学生自建，待核实</span>' in html
    assert "核实无误</button>" not in html and "不属实</button>" not in html
    assert "人社局工作人员、系统管理员或负责该学生的服务专员可以核实。" in html


def test_the_talent_page_offers_both_decisions_to_hr_staff(
    client_as: Any, pending: Talent, imported: Talent
) -> None:
    client = client_as(Role.HR_STAFF)
    html = client.get(f"/talents/{pending.pk}/").content.decode()
    assert 'data-testid="verification-badge">学生自建，待核实</span>' in html
    assert f'action="/talents/{pending.pk}/verify/"' in html
    assert 'name="decision" value="verified">核实无误</button>' in html
    assert 'name="decision" value="rejected">不属实</button>' in html
    imported_html = client.get(f"/talents/{imported.pk}/").content.decode()
    assert 'data-testid="verification"' not in imported_html
    assert "verify/" not in imported_html


# --- verifying and rejecting ---------------------------------------------------------------


def test_hr_staff_verify_a_record_with_who_when_and_an_audit_entry(
    client_as: Any, personas: Any, pending: Talent
) -> None:
    hr = personas[Role.HR_STAFF]
    started = timezone.now()
    response = client_as(Role.HR_STAFF).post(
        f"/talents/{pending.pk}/verify/",
        {"decision": "verified", "reason": "电话核对学籍"},
        follow=True,
    )
    assert response.redirect_chain == [(f"/talents/{pending.pk}/", 302)]
    assert flash_messages(response) == ["已记录：学生自建，已核实。"]
    pending.refresh_from_db()
    assert (pending.verification, pending.verification_by_id, pending.verification_reason) == (
        "verified",
        hr.pk,
        "电话核对学籍",
    )
    assert pending.verification_at is not None and pending.verification_at >= started
    entry = AuditLog.objects.filter(target_type="talents.talent", target_id=str(pending.pk)).latest(
        "pk"
    )
    assert (
        entry.action,
        entry.actor_id,
        entry.actor_role,
        entry.summary,
        entry.reason,
        entry.data,
    ) == (
        "update",
        hr.pk,
        "hr_staff",
        "核实档案真实性：核实无误",
        "电话核对学籍",
        {"verification": "verified"},
    )
    html = response.content.decode()
    assert 'data-testid="verification-badge">学生自建，已核实</span>' in html
    assert "核实无误</button>" not in html


def test_hr_staff_record_that_a_record_is_not_genuine_with_a_reason(
    client_as: Any, personas: Any, pending: Talent
) -> None:
    hr = personas[Role.HR_STAFF]
    client = client_as(Role.HR_STAFF)
    response = client.post(
        f"/talents/{pending.pk}/verify/",
        {"decision": "rejected", "reason": "户籍与学校均查无此人"},
        follow=True,
    )
    assert flash_messages(response) == ["已记录：学生自建，核实不属实。"]
    pending.refresh_from_db()
    assert (
        pending.verification,
        pending.verification_by_id,
        pending.verification_reason,
        pending.user_id is not None,
    ) == ("rejected", hr.pk, "户籍与学校均查无此人", True)
    entry = AuditLog.objects.filter(target_type="talents.talent", target_id=str(pending.pk)).latest(
        "pk"
    )
    assert (entry.action, entry.actor_id, entry.summary, entry.reason, entry.data) == (
        "update",
        hr.pk,
        "核实档案真实性：不属实",
        "户籍与学校均查无此人",
        {"verification": "rejected"},
    )
    assert pending.pk not in [t.pk for t in client.get("/talents/").context["page"].object_list]
    assert [t.pk for t in client.get("/talents/?verification=rejected").context["page"]] == [
        pending.pk
    ]


def test_an_assigned_liaison_may_verify_their_own_student(
    client_as: Any, personas: Any, pending: Talent
) -> None:
    liaison = personas[Role.LIAISON]
    LiaisonAssignment.objects.create(talent=pending, liaison=liaison)
    html = client_as(Role.LIAISON).get(f"/talents/{pending.pk}/").content.decode()
    assert 'name="decision" value="verified">核实无误</button>' in html
    client_as(Role.LIAISON).post(f"/talents/{pending.pk}/verify/", {"decision": "verified"})
    pending.refresh_from_db()
    assert (pending.verification, pending.verification_by_id, pending.verification_reason) == (
        "verified",
        liaison.pk,
        "",
    )
    entry = AuditLog.objects.filter(data__verification="verified").get()
    assert (entry.actor_id, entry.actor_role, entry.target_id) == (
        liaison.pk,
        "liaison",
        str(pending.pk),
    )


def test_the_student_sees_the_decision_in_their_access_log(
    personas: Any, newcomer: User, pending: Talent
) -> None:
    talent_verification_decide(
        viewer=personas[Role.HR_STAFF], talent=pending, decision="verified", reason="核对学籍"
    )
    log = services_self.self_data(talent=pending, user=newcomer)["access_log"]
    assert [(a["action"], a["by"], a["summary"]) for a in log] == [
        ("修改", "人社局工作人员", "核实档案真实性：核实无误"),
        ("认领", "本人", "学生本人认领档案"),
    ]


# --- refusals change nothing --------------------------------------------------------------


def _post(client: Client, talent: Talent, **data: str) -> Any:
    return client.post(f"/talents/{talent.pk}/verify/", data, follow=True)


def test_a_liaison_cannot_verify_a_student_not_assigned_to_them(
    client_as: Any, personas: Any, pending: Talent
) -> None:
    other_liaison = user_create(
        username="zhuanyuan2",
        password=PASSWORD,
        role=Role.LIAISON,
        display_name="另一位专员",
        phone="13800138401",
        validate=False,
    )
    LiaisonAssignment.objects.create(talent=pending, liaison=other_liaison)
    # An ended assignment of this liaison does not count either.
    LiaisonAssignment.objects.create(
        talent=pending, liaison=personas[Role.LIAISON], active=False, ended_at=timezone.now()
    )
    client = client_as(Role.LIAISON)
    assert "核实无误</button>" not in client.get(f"/talents/{pending.pk}/").content.decode()
    before = snapshot()
    response = _post(client, pending, decision="verified")
    assert flash_messages(response) == ["只能核实分配给你的学生的档案"]
    assert snapshot() == before


@pytest.mark.parametrize(
    ("case", "data", "message"),
    [
        ("no reason", {"decision": "rejected", "reason": " "}, "请填写不属实的原因"),
        ("unknown decision", {"decision": "approve"}, "请选择“核实无误”或“不属实”"),
        ("no decision", {}, "请选择“核实无误”或“不属实”"),
        (
            "reason too long",
            {"decision": "verified", "reason": "长" * 301},
            "说明不能超过 300 个字",
        ),
    ],
)
def test_a_bad_request_is_refused_and_changes_nothing(
    client_as: Any, pending: Talent, case: str, data: dict[str, str], message: str
) -> None:
    client = client_as(Role.HR_STAFF)
    before = snapshot()
    response = _post(client, pending, **data)
    assert flash_messages(response) == [message], case
    assert snapshot() == before


def test_a_decided_record_cannot_be_decided_again(
    client_as: Any, personas: Any, pending: Talent
) -> None:
    talent_verification_decide(viewer=personas[Role.HR_STAFF], talent=pending, decision="verified")
    client = client_as(Role.SYSADMIN)
    before = snapshot()
    response = _post(client, pending, decision="rejected", reason="重复操作")
    assert flash_messages(response) == ["该档案已核实过：学生自建，已核实"]
    assert snapshot() == before


def test_an_imported_record_needs_no_verification(client_as: Any, imported: Talent) -> None:
    client = client_as(Role.HR_STAFF)
    before = snapshot()
    response = _post(client, imported, decision="verified")
    assert flash_messages(response) == ["该档案不是学生自建的，无需核实"]
    assert snapshot() == before


def test_a_merged_record_is_not_verified(client_as: Any, personas: Any, pending: Talent) -> None:
    keep = make_talent(name="李晓彤", id_number=None, phone=None)
    talent_merge(viewer=personas[Role.HR_STAFF], keep=keep, others=[pending])
    pending.refresh_from_db()
    client = client_as(Role.HR_STAFF)
    before = snapshot()
    response = _post(client, pending, decision="verified")
    assert flash_messages(response) == ["该记录已合并到另一条记录，请核实保留的记录"]
    assert snapshot() == before


@pytest.mark.parametrize("role", sorted(ALL_ROLES - {Role.HR_STAFF, Role.SYSADMIN, Role.LIAISON}))
def test_the_service_refuses_roles_that_may_not_verify(
    personas: Any, pending: Talent, role: str
) -> None:
    before = snapshot()
    with pytest.raises(PermissionDenied) as refused:
        talent_verification_decide(viewer=personas[role], talent=pending, decision="verified")
    assert refused.value.message == "无权核实学生自建档案"
    assert snapshot() == before


def test_the_service_checks_permission_before_anything_else(
    personas: Any, imported: Talent
) -> None:
    """A refused role learns nothing about the record, not even that it needs no check."""
    with pytest.raises(PermissionDenied):
        talent_verification_decide(viewer=personas[Role.EDU_STAFF], talent=imported, decision="x")
    with pytest.raises(ApplicationError) as not_needed:
        talent_verification_decide(
            viewer=personas[Role.HR_STAFF], talent=imported, decision="verified"
        )
    assert not_needed.value.message == "该档案不是学生自建的，无需核实"
    with pytest.raises(ValidationError):
        talent_verification_decide(viewer=personas[Role.HR_STAFF], talent=imported, decision="x")


# --- the new route against every role -----------------------------------------------------

VERIFY_EXPECTED: dict[str, str] = {
    **{role: "policy" for role in ALL_ROLES},
    Role.HR_STAFF: "decided",
    Role.SYSADMIN: "decided",
    Role.LIAISON: "refused_by_service",  # not assigned to this student
    "anonymous": "sign_in",
}


@pytest.mark.parametrize("role", sorted(ALL_ROLES) + ["anonymous"])
def test_the_verify_route_for_every_role(role: str, personas: Any, pending: Talent) -> None:
    client = Client()
    if role != "anonymous":
        client.force_login(personas[role])
    path = f"/talents/{pending.pk}/verify/"
    before = snapshot()

    # GET is no way in, for anyone (the policy declares POST only).
    assert client.get(path).status_code == 405
    assert snapshot() == before

    response = client.post(path, {"decision": "verified", "reason": "核对"})
    pending.refresh_from_db()
    expected = VERIFY_EXPECTED[role]
    if expected == "decided":
        assert response.status_code == 302 and response["Location"] == f"/talents/{pending.pk}/"
        assert (pending.verification, pending.verification_by_id) == (
            "verified",
            personas[role].pk,
        )
        assert AuditLog.objects.filter(data__verification="verified").count() == 1
        return
    if expected == "sign_in":
        assert response.status_code == 302
        assert response["Location"].startswith("/accounts/login/")
    elif expected == "refused_by_service":
        assert response.status_code == 302 and response["Location"] == f"/talents/{pending.pk}/"
        assert flash_messages(client.get(response["Location"])) == ["只能核实分配给你的学生的档案"]
    else:
        assert response.status_code == 403
        assert "无权访问" in response.content.decode()
    assert snapshot() == before


# --- records created before this change --------------------------------------------------


def test_the_migration_marks_records_students_created_earlier(newcomer: User) -> None:
    migration = importlib.import_module("qinghe.talents.migrations.0003_talent_verification")
    imported = make_talent(name="黄嘉怡", id_number=IMPORTED_ID, phone=None)
    by_audit = make_talent(name="陈思远", id_number=NEW_ID, phone=None, source=Source.STAFF)
    audit_record(
        action="create", actor=newcomer, target=by_audit, summary="x", data={"claim": "created"}
    )
    by_provenance = make_talent(name="李晓彤", id_number=OTHER_NEW_ID, phone=None)
    by_provenance.provenance["id_number"] = source_stamp(Source.STUDENT, newcomer.pk, "学生本人")
    by_provenance.save()
    Talent.objects.update(verification="")

    migration.mark_earlier_self_registrations(django_apps, None)

    assert dict(Talent.objects.values_list("pk", "verification")) == {
        imported.pk: "",
        by_audit.pk: "pending",
        by_provenance.pk: "pending",
    }


def test_the_staff_lists_counts_are_kept_until_a_record_is_decided(
    client_as: Any, mixed: dict[str, Talent], personas: Any
) -> None:
    """The counts are kept (core/fragments.py): read again without their two queries, and
    drawn afresh at once when a record is saved (here: a pending record verified)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = client_as(Role.HR_STAFF)
    client.get("/talents/")

    def visit() -> tuple[int, dict[str, int], int]:
        with CaptureQueriesContext(connection) as captured:
            response = client.get("/talents/")
        return (
            len(captured),
            response.context["verification_counts"],
            response.context["overview"]["pending"],
        )

    kept = visit()
    assert kept[1:] == ({"pending": 2, "verified": 1, "rejected": 1}, 2)
    talent_verification_decide(
        viewer=personas[Role.HR_STAFF], talent=mixed["second"], decision="verified"
    )
    fresh = visit()
    assert fresh[1:] == ({"pending": 1, "verified": 2, "rejected": 1}, 1)
    assert fresh[0] == kept[0] + 2  # the overview and the verification counts read again
