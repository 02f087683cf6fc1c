"""The liaison workspace shows the full name and phone of each assigned student who consented
to liaison contact (the consent in force); the others stay masked. A view that shows numbers
writes one audit row with their count."""

from __future__ import annotations

from typing import Any

import pytest

from qinghe.core.models import AuditLog
from qinghe.core.roles import Role
from qinghe.outreach.services import assignment_set
from qinghe.talents.models import Consent, Talent
from qinghe.talents.services import consent_record
from qinghe.talents.tests.factories import make_id, make_talent

pytestmark = pytest.mark.django_db


def assigned(personas: Any, name: str, seq: str, phone: str) -> Talent:
    talent = make_talent(name=name, id_number=make_id("440784", "20030512", seq), phone=phone)
    assignment_set(talent=talent, liaison=personas[Role.LIAISON], actor=personas[Role.HR_STAFF])
    return talent


def consent(talent: Talent, granted: bool) -> None:
    consent_record(talent=talent, purpose=Consent.Purpose.LIAISON, granted=granted, actor=None)


def test_consenting_students_show_name_and_phone_the_others_stay_masked_and_it_is_audited(
    personas: Any, client_as: Any
) -> None:
    yes = assigned(personas, "李晓彤", "101", "13512340101")
    withdrawn = assigned(personas, "区嘉敏", "102", "13512340102")
    never = assigned(personas, "黄志强", "103", "13512340103")
    consent(yes, True)
    consent(withdrawn, True)
    consent(withdrawn, False)
    client = client_as(Role.LIAISON)
    before = AuditLog.objects.filter(action="outreach.workspace_phones_view").count()
    body = client.get("/outreach/").content.decode()
    students = body[body.index('data-testid="students"') :]
    assert (
        '<tr><td>李晓彤</td>\n      <td><a href="tel:13512340101">13512340101</a></td>' in students
    )
    assert f"<tr><td>{withdrawn.name_masked}</td>" in students
    assert f"<tr><td>{never.name_masked}</td>" in students
    assert students.count('<span class="text-muted small">未同意联络</span>') == 2
    for hidden in ("区嘉敏", "黄志强", "13512340102", "13512340103"):
        assert hidden not in body
    rows = AuditLog.objects.filter(action="outreach.workspace_phones_view")
    assert rows.count() == before + 1
    row = rows.latest("id")
    assert (row.actor_id, row.count, row.summary) == (
        personas[Role.LIAISON].pk,
        1,
        "服务专员查看所联络学子（显示同意联络者的姓名和手机号 1 个）",
    )


def test_no_consent_no_number_and_no_audit_row(personas: Any, client_as: Any) -> None:
    talent = assigned(personas, "李晓彤", "101", "13512340101")
    client = client_as(Role.LIAISON)
    before = AuditLog.objects.exclude(action__in=["login", "logout"]).count()
    body = client.get("/outreach/").content.decode()
    assert "13512340101" not in body and "李晓彤" not in body
    assert f"<tr><td>{talent.name_masked}</td>" in body
    assert AuditLog.objects.exclude(action__in=["login", "logout"]).count() == before
