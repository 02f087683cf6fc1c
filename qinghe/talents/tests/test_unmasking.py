"""Unmasking a phone is not a role alone: a liaison needs a relationship with the student (an
active assignment, or a consultation they answer), the student's liaison consent in force, and
stays under a daily limit; station staff likewise through their station's consultations. A
refusal shows nothing and writes no unmask entry. HR staff and auditors see who unmasked how
many, per user and day, down to the entries."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from qinghe.accounts.models import User
from qinghe.core.errors import PermissionDenied
from qinghe.core.models import AuditLog
from qinghe.core.roles import Role
from qinghe.outreach.models import Consultation, LiaisonAssignment
from qinghe.talents import unmasking
from qinghe.talents.models import Consent, Talent
from qinghe.talents.services import consent_record, talent_unmask

from .factories import make_id, make_talent

pytestmark = pytest.mark.django_db

PHONE = "13912345678"
OTHER_PHONE = "13912340000"


@pytest.fixture
def liaison(personas: dict[str, User]) -> User:
    return personas[Role.LIAISON]


@pytest.fixture
def assigned(liaison: User, personas: dict[str, User]) -> Talent:
    """A student assigned to the liaison, consenting to liaison contact."""
    talent = make_talent(name="黄嘉怡", id_number=make_id(), phone=PHONE)
    LiaisonAssignment.objects.create(talent=talent, liaison=liaison)
    consent_record(talent=talent, purpose=Consent.Purpose.LIAISON, granted=True, actor=None)
    return talent


@pytest.fixture
def stranger(db: Any) -> Talent:
    """A consenting student assigned to nobody."""
    talent = make_talent(
        name="李志伟", id_number=make_id("440784", "20020101", "555"), phone=OTHER_PHONE
    )
    consent_record(talent=talent, purpose=Consent.Purpose.LIAISON, granted=True, actor=None)
    return talent


def signed_in(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def unmask(client: Client, talent: Talent, reason: str = "电话回访") -> Any:
    return client.post(f"/talents/{talent.pk}/unmask/", {"field": "phone", "reason": reason})


def unmask_rows() -> int:
    return AuditLog.objects.filter(action="unmask").count()


def test_a_liaison_unmasks_the_phone_of_their_consenting_assigned_student(
    liaison: User, assigned: Talent
) -> None:
    response = unmask(signed_in(liaison), assigned)
    assert response.status_code == 200 and PHONE in response.content.decode()
    assert unmask_rows() == 1


def test_a_liaison_cannot_unmask_a_student_not_assigned_to_them(
    liaison: User, stranger: Talent
) -> None:
    response = unmask(signed_in(liaison), stranger)
    assert response.status_code == 403
    assert OTHER_PHONE not in response.content.decode()
    assert "只能查看分配给你的学生" in response.content.decode()
    assert unmask_rows() == 0


def test_an_open_consultation_the_liaison_answers_is_a_relationship(
    liaison: User, stranger: Talent
) -> None:
    consultation = Consultation.objects.create(
        talent=stranger,
        student=User.objects.create(username="s-x", role=Role.STUDENT),
        topic=Consultation.Topic.values[0],
        question="落户政策",
        liaison=liaison,
        due_at=timezone.now() + dt.timedelta(days=2),
    )
    assert OTHER_PHONE in unmask(signed_in(liaison), stranger).content.decode()
    Consultation.objects.filter(pk=consultation.pk).update(state=Consultation.State.CLOSED)
    assert unmask(signed_in(liaison), stranger).status_code == 403
    assert unmask_rows() == 1


def test_withdrawn_liaison_consent_stops_unmasking(liaison: User, assigned: Talent) -> None:
    consent_record(talent=assigned, purpose=Consent.Purpose.LIAISON, granted=False, actor=None)
    response = unmask(signed_in(liaison), assigned)
    assert response.status_code == 403
    assert PHONE not in response.content.decode()
    assert "未同意（或已撤回）服务专员联络" in response.content.decode()
    assert unmask_rows() == 0


def test_station_staff_need_a_consultation_routed_to_their_station(
    personas: dict[str, User], stranger: Talent
) -> None:
    staff = personas[Role.STATION_STAFF]
    client = signed_in(staff)
    assert unmask(client, stranger).status_code == 403
    Consultation.objects.create(
        talent=stranger,
        student=User.objects.create(username="s-y", role=Role.STUDENT),
        topic=Consultation.Topic.values[0],
        question="补贴申请",
        station=staff.organisation,
        due_at=timezone.now() + dt.timedelta(days=2),
    )
    assert OTHER_PHONE in unmask(client, stranger).content.decode()
    assert unmask_rows() == 1


def test_hr_staff_keep_their_permission(personas: dict[str, User], stranger: Talent) -> None:
    consent_record(talent=stranger, purpose=Consent.Purpose.LIAISON, granted=False, actor=None)
    response = unmask(signed_in(personas[Role.HR_STAFF]), stranger)
    assert OTHER_PHONE in response.content.decode()


def test_liaisons_are_limited_per_day_and_the_next_one_shows_nothing(
    liaison: User, assigned: Talent, settings: Any
) -> None:
    settings.QINGHE_UNMASK_LIMIT_PER_DAY = 3
    client = signed_in(liaison)
    for _ in range(3):
        assert PHONE in unmask(client, assigned).content.decode()
    refused = unmask(client, assigned)
    assert refused.status_code == 403
    assert PHONE not in refused.content.decode()
    assert "今天查看完整信息已达 3 次上限" in refused.content.decode()
    assert unmask_rows() == 3


def test_yesterdays_unmaskings_do_not_count_today(
    liaison: User, assigned: Talent, settings: Any
) -> None:
    settings.QINGHE_UNMASK_LIMIT_PER_DAY = 1
    now = timezone.now()
    assert talent_unmask(viewer=liaison, talent=assigned, field="phone", reason="回访", now=now)
    with pytest.raises(PermissionDenied):
        talent_unmask(viewer=liaison, talent=assigned, field="phone", reason="回访", now=now)
    tomorrow = now + dt.timedelta(days=1)
    assert (
        talent_unmask(viewer=liaison, talent=assigned, field="phone", reason="回访", now=tomorrow)
        == PHONE
    )


def test_hr_staff_and_auditors_see_who_unmasked_how_many(
    client_as: Any, liaison: User, assigned: Talent, personas: dict[str, User]
) -> None:
    client = signed_in(liaison)
    unmask(client, assigned, "电话回访")
    unmask(client, assigned, "核对号码")
    signed_in(personas[Role.HR_STAFF]).post(
        f"/talents/{assigned.pk}/unmask/", {"field": "id_number", "reason": "补贴核对"}
    )
    rows = unmasking.unmask_report()
    assert [
        (r["actor_label"], r["role_label"], r["total"], r["phone"], r["id_number"]) for r in rows
    ] == [("zhuanyuan", "服务专员", 2, 2, 0), ("renshe", "人社局工作人员", 1, 0, 1)]
    today = timezone.localdate().isoformat()
    for role in (Role.HR_STAFF, Role.AUDITOR):
        page = client_as(role).get("/talents/unmasking/")
        assert page.status_code == 200
        html = page.content.decode()
        assert f"?actor={liaison.pk}&amp;day={today}" in html
        detail = (
            client_as(role)
            .get("/talents/unmasking/", {"actor": liaison.pk, "day": today})
            .content.decode()
        )
        assert "查看记录（2 条）" in detail and "电话回访" in detail and "核对号码" in detail
        assert PHONE not in html and PHONE not in detail
    assert client_as(Role.LIAISON).get("/talents/unmasking/").status_code == 403
