"""The policies and subsidies API: the public library and programmes, the student's own
eligibility check and applications, and who reaches each operation."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from dateutil.relativedelta import relativedelta
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone

from qinghe.accounts.models import User
from qinghe.core.roles import ALL_ROLES, Role
from qinghe.policies.models import Application, Payment, Policy, Programme
from qinghe.policies.services import (
    PolicyInput,
    builtin_ensure,
    policy_attachment_add,
    policy_create,
)
from qinghe.talents.models import Talent
from qinghe.talents.tests.factories import make_talent

pytestmark = pytest.mark.django_db

SELF = {str(Role.STUDENT), str(Role.AMBASSADOR)}
EXPECTED: list[tuple[str, str, set[str] | None]] = [
    ("GET", "/api/v1/policies", None),  # None: public, anonymous too
    ("GET", "/api/v1/policies/999999", None),
    ("GET", "/api/v1/subsidies/programmes", None),
    ("POST", "/api/v1/subsidies/programmes/one_off_startup/eligibility", SELF),
    ("GET", "/api/v1/subsidies/applications/mine", SELF),
]


@pytest.fixture(autouse=True)
def _builtin(db: Any) -> None:
    builtin_ensure()


@pytest.mark.parametrize(("method", "path", "allowed"), EXPECTED)
def test_each_operation_lets_in_exactly_these_roles(
    method: str, path: str, allowed: set[str] | None, personas: dict[str, User]
) -> None:
    let_in: set[str] = set()
    for role in ALL_ROLES:
        client = Client()
        client.force_login(personas[role])
        response = client.generic(method, path, "{}", content_type="application/json")
        if not getattr(response, "policy_refused", False):
            let_in.add(role)
    anonymous = Client().generic(method, path, "{}", content_type="application/json")
    if allowed is None:
        assert let_in == set(ALL_ROLES)
        assert getattr(anonymous, "policy_refused", False) is False
    else:
        assert let_in == allowed
        assert getattr(anonymous, "policy_refused", False) is True


def test_the_library_is_public_searchable_and_paged(personas: dict[str, User]) -> None:
    client = Client()
    everything = client.get("/api/v1/policies", {"limit": 100}).json()
    published = Policy.objects.filter(status=Policy.Status.PUBLISHED).count()
    assert len(everything) == published > 2
    found = client.get("/api/v1/policies", {"q": "创业补贴"}).json()
    assert found and all("创业" in p["title"] + p["summary"] + " ".join(p["tags"]) for p in found)
    assert client.get("/api/v1/policies", {"q": "养老保险缴费"}).json() == []
    heshan = client.get("/api/v1/policies", {"level": "heshan"}).json()
    assert heshan and {p["level"] for p in heshan} == {"heshan"}
    assert [p["id"] for p in client.get("/api/v1/policies", {"limit": 1, "offset": 1}).json()] == [
        everything[1]["id"]
    ]
    for bad in ({"limit": 0}, {"limit": 101}, {"offset": -1}, {"offset": 10**12}):
        answer = client.get("/api/v1/policies", bad)
        assert answer.status_code == 422
        assert answer.json()["detail"] == "输入有误"


def test_a_policy_with_its_versions_attachments_and_programmes(
    personas: dict[str, User],
) -> None:
    hr = personas[Role.HR_STAFF]
    old = policy_create(
        actor=hr,
        data=PolicyInput(title="鹤山市青年人才生活补贴办法", level="heshan", issuer="鹤山市人社局"),
    )
    new = policy_create(
        actor=hr,
        data=PolicyInput(
            title="鹤山市青年人才生活补贴办法（修订）",
            level="heshan",
            issuer="鹤山市人社局",
            replaces_id=old.pk,
        ),
    )
    annex = policy_attachment_add(
        actor=hr,
        policy=new,
        title="申请表",
        upload=SimpleUploadedFile("申请表.pdf", b"%PDF-1.4\n"),
    )
    data = Client().get(f"/api/v1/policies/{new.pk}").json()
    assert data["replaces_ids"] == [old.pk]
    assert data["attachments"] == [
        {
            "id": annex.pk,
            "title": "申请表",
            "filename": "申请表.pdf",
            "size": 9,
            "url": f"/policies/{new.pk}/attachments/{annex.pk}/",
        }
    ]
    assert Client().get(f"/api/v1/policies/{old.pk}").json()["replaced_by_id"] == new.pk
    Policy.objects.filter(pk=old.pk).update(status=Policy.Status.DRAFT)
    assert Client().get(f"/api/v1/policies/{old.pk}").status_code == 404
    with_programmes = Programme.objects.exclude(policy=None).first()
    assert with_programmes is not None and with_programmes.policy_id is not None
    detail = Client().get(f"/api/v1/policies/{with_programmes.policy_id}").json()
    assert with_programmes.code in detail["programme_codes"]
    programmes = Client().get("/api/v1/subsidies/programmes").json()
    assert {p["code"] for p in programmes} >= {"one_off_startup", "startup_hiring"}


@pytest.fixture
def student(personas: dict[str, User]) -> User:
    user = personas[Role.STUDENT]
    talent = make_talent(phone=None, graduation_year=2024, user=user, gender=Talent.Gender.MALE)
    talent.birth_date = dt.date(2001, 4, 2)
    talent.save(update_fields=["birth_date"])
    return user


def test_the_student_checks_eligibility_and_sees_the_date_a_rule_will_pass(
    client_as: Any, student: User
) -> None:
    registered = timezone.localdate() - relativedelta(months=2)
    client = client_as(Role.STUDENT)
    url = "/api/v1/subsidies/programmes/one_off_startup/eligibility"
    body = {"category": "毕业生", "registered_on": registered.isoformat(), "insured_months": 3}
    answer = client.post(url, body, content_type="application/json")
    assert answer.status_code == 200
    data = answer.json()
    assert (data["eligible"], data["as_of"]) == (False, timezone.localdate().isoformat())
    failed = [r for r in data["results"] if not r["passed"]]
    assert [(r["code"], r["passes_on"]) for r in failed] == [
        ("registered_6_months", (registered + relativedelta(months=6)).isoformat())
    ]
    assert "registered_on" in data["declared_fields"]
    ok = client.post(
        url,
        {**body, "registered_on": (timezone.localdate() - relativedelta(months=7)).isoformat()},
        content_type="application/json",
    ).json()
    assert (ok["eligible"], ok["amount"]) == (True, 10000)
    for bad, status, detail in (
        ({**body, "category": "外星人"}, 400, "输入有误"),
        (
            {**body, "registered_on": "0001-01-01"},
            400,
            "营业执照注册日期超出范围（1950-01-01 至 2100-12-31）",
        ),
        ({**body, "insured_months": -1}, 422, "输入有误"),
    ):
        answer = client.post(url, bad, content_type="application/json")
        assert (answer.status_code, answer.json()["detail"]) == (status, detail)
    assert (
        client.post(
            "/api/v1/subsidies/programmes/nothing/eligibility",
            body,
            content_type="application/json",
        ).status_code
        == 404
    )
    assert Application.objects.count() == 0  # a check saves nothing


def test_my_applications_show_only_mine_with_their_payments(
    client_as: Any, student: User, personas: dict[str, User]
) -> None:
    programme = Programme.objects.get(code="one_off_startup")
    mine = Application.objects.create(
        programme=programme, applicant=student, state=Application.State.APPROVED, amount=10000
    )
    Payment.objects.create(
        application=mine,
        period="1",
        amount=10000,
        paid_on=dt.date(2026, 6, 1),
        recorded_by=personas[Role.HR_STAFF],
    )
    Application.objects.create(programme=programme, applicant=personas[Role.AMBASSADOR])
    data = client_as(Role.STUDENT).get("/api/v1/subsidies/applications/mine").json()
    assert [(a["id"], a["state"], a["amount"]) for a in data] == [(mine.pk, "approved", 10000)]
    assert data[0]["payments"] == [{"period": "1", "amount": 10000, "paid_on": "2026-06-01"}]
    assert len(client_as(Role.AMBASSADOR).get("/api/v1/subsidies/applications/mine").json()) == 1
