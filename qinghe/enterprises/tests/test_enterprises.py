from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.test import Client

from qinghe.accounts.models import Organisation, User
from qinghe.core.errors import ApplicationError, PermissionDenied
from qinghe.core.models import AuditLog
from qinghe.core.roles import Role
from qinghe.enterprises import services
from qinghe.enterprises.models import Enterprise, EnterpriseEvent, InternshipBase
from qinghe.enterprises.tests.factories import Ref, make_base, uscc_for
from qinghe.enterprises.uscc import make_uscc, normalise_uscc, validate_uscc
from qinghe.testing.world import World

pytestmark = pytest.mark.django_db

VALID = make_uscc("91440784MA4UJ123X")  # the check digit computed by stdnum


def registration(ref: Ref, **overrides: str) -> dict[str, Any]:
    data = {
        "uscc": VALID,
        "name": "鹤山市智汇软件科技有限公司",
        "industry": "65",
        "town": str(ref.shaping.pk),
        "park": "zhongou",
        "size": "small",
        "address": "鹤山市沙坪街道",
        "description": "为本地制造企业开发 MES 系统",
        "contact_name": "何志明",
        "contact_phone": "13922220001",
        "username": "zhihui_hr",
        "display_name": "何志明",
        "phone": "",
        "password": "Zhihui-2026-hr!",
        "password2": "Zhihui-2026-hr!",
    }
    data.update(overrides)
    return data


def counts() -> tuple[int, int, int, int]:
    return (
        Organisation.objects.count(),
        Enterprise.objects.count(),
        User.objects.count(),
        AuditLog.objects.filter(action="create").count(),
    )


# --- 统一社会信用代码 -----------------------------------------------------------------------------


def test_uscc_is_normalised_from_full_width_lower_case_and_spaces() -> None:
    messy = " ".join(VALID.lower()[i : i + 4] for i in range(0, 18, 4))
    full_width = "".join(chr(ord(ch) + 0xFEE0) if ch.isalnum() else ch for ch in messy)
    assert normalise_uscc(full_width) == VALID
    assert validate_uscc(full_width) == VALID


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("", "请填写统一社会信用代码"),
        ("91440784MA4UJ123", "统一社会信用代码应为 18 位，当前为 16 位"),
        (
            VALID[:-1] + ("0" if VALID[-1] != "0" else "1"),
            "统一社会信用代码校验位不正确，请核对营业执照",
        ),
    ],
)
def test_invalid_uscc_gets_a_chinese_message(raw: str, message: str) -> None:
    with pytest.raises(ValidationError) as caught:
        validate_uscc(raw)
    assert caught.value.messages == [message]


# --- registration ------------------------------------------------------------------------------


def test_registration_creates_the_organisation_a_pending_enterprise_and_its_first_hr(
    client: Client, ref: Ref
) -> None:
    response = client.post("/enterprises/register/", registration(ref, uscc=VALID.lower()))
    assert response.status_code == 302 and response["Location"] == "/enterprises/mine/"
    enterprise = Enterprise.objects.get(uscc=VALID)
    assert (enterprise.name, enterprise.state, enterprise.industry.code, enterprise.park) == (
        "鹤山市智汇软件科技有限公司",
        "pending",
        "65",
        "zhongou",
    )
    assert (enterprise.organisation.kind, enterprise.organisation.code) == ("enterprise", VALID)
    hr = User.objects.get(username="zhihui_hr")
    assert (hr.role, hr.organisation_id) == (Role.ENTERPRISE_HR, enterprise.organisation_id)
    assert enterprise.contact_phone == "13922220001"
    assert enterprise.contact_phone_masked == "139****0001"
    # the new HR is signed in and sees the pending state
    page = client.get("/enterprises/mine/").content.decode()
    assert "待审核" in page and "139****0001" in page and "13922220001" not in page
    assert list(enterprise.events.values_list("action", "to_state")) == [("register", "pending")]


def test_a_duplicate_uscc_is_refused_in_chinese_and_nothing_is_created(
    client: Client, world: World
) -> None:
    before = counts()
    response = client.post(
        "/enterprises/register/",
        registration(world.ref, uscc=uscc_for(2).lower(), name="鹤山市别的公司"),
    )
    assert response.status_code == 200
    assert services.DUPLICATE_USCC in response.content.decode()
    assert counts() == before
    assert not User.objects.filter(username="zhihui_hr").exists()


def test_a_duplicate_name_or_a_bad_password_creates_nothing(client: Client, world: World) -> None:
    before = counts()
    response = client.post("/enterprises/register/", registration(world.ref, name=world.b.name))
    assert services.DUPLICATE_NAME in response.content.decode()
    response = client.post(
        "/enterprises/register/", registration(world.ref, password="1234", password2="1234")
    )
    assert response.status_code == 200 and counts() == before


def test_registration_with_a_taken_username_rolls_back_the_enterprise(
    client: Client, world: World
) -> None:
    before = counts()
    response = client.post("/enterprises/register/", registration(world.ref, username="qiye_b"))
    assert "该用户名已被使用" in response.content.decode()
    assert counts() == before and not Enterprise.objects.filter(uscc=VALID).exists()


# --- verification ------------------------------------------------------------------------------


def test_staff_verify_a_pending_enterprise_with_an_event_and_an_audit_entry(
    client_as: Any, world: World
) -> None:
    response = client_as(Role.HR_STAFF).post(f"/enterprises/{world.c.pk}/verify/")
    assert response.status_code == 302
    world.c.refresh_from_db()
    assert world.c.verified_by is not None
    assert (world.c.state, world.c.verified_by.username) == ("verified", "renshe")
    event = EnterpriseEvent.objects.get(enterprise=world.c, action="verify")
    assert event.actor is not None
    assert (event.from_state, event.to_state, event.actor.username) == (
        "pending",
        "verified",
        "renshe",
    )
    entry = AuditLog.objects.filter(action="transition").latest("id")
    assert (entry.actor_label, entry.target_id, entry.data) == (
        "renshe",
        str(world.c.pk),
        {"action": "verify", "from": "pending", "to": "verified"},
    )


def test_rejecting_needs_a_reason_and_the_enterprise_sees_it(client_as: Any, world: World) -> None:
    staff = client_as(Role.HR_STAFF)
    staff.post(f"/enterprises/{world.c.pk}/reject/", {"reason": ""})
    world.c.refresh_from_db()
    assert (
        world.c.state == "pending"
        and not EnterpriseEvent.objects.filter(enterprise=world.c).exists()
    )
    staff.post(f"/enterprises/{world.c.pk}/reject/", {"reason": "营业执照照片不清晰"})
    world.c.refresh_from_db()
    assert (world.c.state, world.c.reject_reason) == ("rejected", "营业执照照片不清晰")
    hr_c = Client()
    hr_c.force_login(world.hr_c)
    assert "营业执照照片不清晰" in hr_c.get("/enterprises/mine/").content.decode()
    # the enterprise corrects and resubmits: back in the queue
    hr_c.post("/enterprises/mine/resubmit/")
    world.c.refresh_from_db()
    assert world.c.state == "pending"
    assert list(world.c.events.order_by("id").values_list("action", flat=True)) == [
        "reject",
        "resubmit",
    ]


def test_a_verified_enterprise_cannot_be_verified_twice(world: World, personas: Any) -> None:
    with pytest.raises(ApplicationError, match="企业当前状态为“已认证”，不能认证通过"):
        services.enterprise_transition(
            actor=personas[Role.HR_STAFF], enterprise=world.a, action="verify"
        )


def test_an_enterprise_cannot_verify_itself_and_nothing_changes(world: World) -> None:
    with pytest.raises(PermissionDenied):
        services.enterprise_transition(actor=world.hr_c, enterprise=world.c, action="verify")
    world.c.refresh_from_db()
    assert world.c.state == "pending" and not world.c.events.exists()


def test_staff_mark_a_key_enterprise(client_as: Any, world: World) -> None:
    client_as(Role.SYSADMIN).post(f"/enterprises/{world.b.pk}/key/", {"is_key": "1"})
    world.b.refresh_from_db()
    assert world.b.is_key is True
    assert AuditLog.objects.filter(action="update", target_id=str(world.b.pk)).count() == 1


def test_the_review_queue_lists_pending_enterprises_oldest_first(
    client_as: Any, world: World
) -> None:
    page = client_as(Role.HR_STAFF).get("/enterprises/review/").context["page"]
    assert [e.name for e in page.object_list] == ["鹤山市双合纺织服饰有限公司"]
    everything = (
        client_as(Role.HR_STAFF).get("/enterprises/review/", {"state": "all"}).context["page"]
    )
    assert everything.paginator.count == 3


# --- profile and colleagues --------------------------------------------------------------------


def test_hr_edits_the_profile_of_their_own_enterprise(client_as: Any, world: World) -> None:
    client = client_as(Role.ENTERPRISE_HR)
    form = client.get("/enterprises/mine/edit/").context["form"]
    data = {k: v for k, v in form.initial.items() if v is not None}
    data.update(description="全球领先的出版物印刷企业", contact_phone="0750-8888888")
    response = client.post("/enterprises/mine/edit/", data)
    assert response.status_code == 302
    world.a.refresh_from_db()
    assert (world.a.description, world.a.contact_phone) == (
        "全球领先的出版物印刷企业",
        "0750-8888888",
    )
    world.b.refresh_from_db()
    assert world.b.description == ""


def test_a_verified_enterprise_adds_a_colleague_in_the_same_organisation(
    client_as: Any, world: World
) -> None:
    response = client_as(Role.ENTERPRISE_HR).post(
        "/enterprises/mine/colleagues/new/",
        {
            "username": "yatushi_2",
            "display_name": "梁敏",
            "password": "Printing-desk-2026",
            "password2": "Printing-desk-2026",
        },
    )
    assert response.status_code == 302
    colleague = User.objects.get(username="yatushi_2")
    assert (colleague.role, colleague.organisation_id) == (
        Role.ENTERPRISE_HR,
        world.a.organisation_id,
    )


def test_a_pending_enterprise_cannot_add_colleagues(world: World) -> None:
    before = User.objects.count()
    client = Client()
    client.force_login(world.hr_c)
    response = client.post(
        "/enterprises/mine/colleagues/new/",
        {
            "username": "c2",
            "display_name": "张三",
            "password": "Printing-desk-2026",
            "password2": "Printing-desk-2026",
        },
        follow=True,
    )
    assert "企业通过认证后才能添加同事账号" in response.content.decode()
    assert User.objects.count() == before


def test_hr_without_an_enterprise_profile_is_told_so(client_as: Any, personas: Any) -> None:
    response = client_as(Role.ENTERPRISE_HR).get("/enterprises/mine/")
    assert response.status_code == 200
    assert 'data-testid="no-enterprise"' in response.content.decode()


# --- internship bases --------------------------------------------------------------------------


def test_an_enterprise_applies_and_staff_certify_the_base_for_a_period(
    client_as: Any, world: World
) -> None:
    year = dt.date.today().year
    response = client_as(Role.ENTERPRISE_HR).post(
        "/enterprises/mine/bases/apply/",
        {
            "description": "提供印刷工艺实习岗位，导师带教，免费食宿",
            "capacity": "40",
            "requested_from": f"{year}-01-01",
            "requested_to": f"{year + 2}-12-31",
        },
    )
    base = InternshipBase.objects.get(enterprise=world.a)
    assert response["Location"] == f"/enterprises/bases/{base.pk}/"
    assert (base.state, base.capacity, base.applied_by_id) == ("applied", 40, world.hr_a.pk)
    client_as(Role.HR_STAFF).post(
        f"/enterprises/bases/{base.pk}/certify/",
        {"valid_from": f"{year}-03-01", "valid_to": f"{year + 2}-02-28", "reason": "现场核查通过"},
    )
    base.refresh_from_db()
    assert base.certified_by is not None
    assert (base.state, base.valid_from, base.valid_to, base.certified_by.username) == (
        "certified",
        dt.date(year, 3, 1),
        dt.date(year + 2, 2, 28),
        "renshe",
    )
    assert (
        AuditLog.objects.filter(
            action="transition", target_type="enterprises.internshipbase"
        ).count()
        == 1
    )


def test_certifying_needs_a_valid_period_and_revoking_a_reason(
    client_as: Any, world: World
) -> None:
    base = make_base(world.a)
    staff = client_as(Role.HR_STAFF)
    staff.post(
        f"/enterprises/bases/{base.pk}/certify/",
        {"valid_from": "2026-05-01", "valid_to": "2026-04-01"},
    )
    base.refresh_from_db()
    assert base.state == "applied" and base.valid_from is None
    staff.post(
        f"/enterprises/bases/{base.pk}/certify/",
        {"valid_from": "2026-01-01", "valid_to": "2027-12-31"},
    )
    staff.post(f"/enterprises/bases/{base.pk}/revoke/", {"reason": ""})
    base.refresh_from_db()
    assert base.state == "certified"
    staff.post(f"/enterprises/bases/{base.pk}/revoke/", {"reason": "安全检查不合格"})
    base.refresh_from_db()
    assert (base.state, base.decision_note) == ("revoked", "安全检查不合格")


def test_a_pending_enterprise_cannot_apply_for_a_base(world: World) -> None:
    with pytest.raises(ApplicationError, match="企业通过认证后才能申请实习基地"):
        services.internship_base_apply(
            actor=world.hr_c,
            enterprise=world.c,
            description="提供实习岗位，导师带教，免费食宿",
            capacity=10,
            requested_from=dt.date(2026, 1, 1),
            requested_to=dt.date(2026, 12, 31),
        )
    assert not InternshipBase.objects.exists()


def test_an_enterprise_sees_its_own_base_and_not_another(world: World) -> None:
    base_b = make_base(world.b)
    client = Client()
    client.force_login(world.hr_a)
    assert client.get(f"/enterprises/bases/{base_b.pk}/").status_code == 404
    client.force_login(world.hr_b)
    assert client.get(f"/enterprises/bases/{base_b.pk}/").status_code == 200
