from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.db import DatabaseError, connection, transaction
from django.test import Client
from django.utils import timezone

from qinghe.accounts.demo import DEMO_PASSWORD
from qinghe.core.audit import audit_purge_expired, audit_record
from qinghe.core.models import AppendOnlyError, AuditLog
from qinghe.core.roles import Role

pytestmark = pytest.mark.django_db


def test_a_login_is_audited_with_actor_role_and_ip(personas: Any) -> None:
    before = AuditLog.objects.count()
    client = Client()
    response = client.post("/accounts/login/", {"username": "renshe", "password": DEMO_PASSWORD})
    assert response.status_code == 302
    entry = AuditLog.objects.order_by("-id").first()
    assert AuditLog.objects.count() == before + 1
    assert entry is not None
    assert (entry.action, entry.actor_label, entry.actor_role, entry.ip_address) == (
        "login",
        "renshe",
        Role.HR_STAFF,
        "127.0.0.1",
    )


def test_a_failed_login_is_audited_without_the_typed_phone(personas: Any) -> None:
    Client().post("/accounts/login/", {"username": "13800138003", "password": "wrong-password"})
    entry = AuditLog.objects.order_by("-id").first()
    assert entry is not None
    assert entry.action == "login_failed"
    assert entry.summary == "登录失败：138****8003"


def test_an_audit_entry_cannot_be_changed_or_deleted_through_the_orm(personas: Any) -> None:
    entry = audit_record(
        action="export", actor=personas[Role.HR_STAFF], summary="导出 12 条", count=12
    )
    entry.summary = "tampered"
    with pytest.raises(AppendOnlyError):
        entry.save()
    with pytest.raises(AppendOnlyError):
        entry.delete()
    with pytest.raises(AppendOnlyError):
        AuditLog.objects.filter(pk=entry.pk).update(summary="tampered")
    with pytest.raises(AppendOnlyError):
        AuditLog.objects.filter(pk=entry.pk).delete()
    assert AuditLog.objects.get(pk=entry.pk).summary == "导出 12 条"


def test_the_database_refuses_a_raw_update(personas: Any) -> None:
    entry = audit_record(action="export", actor=personas[Role.HR_STAFF], summary="导出", count=3)
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE core_auditlog SET summary = 'x' WHERE id = %s", [entry.pk])
    assert AuditLog.objects.get(pk=entry.pk).summary == "导出"


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the delete trigger is PostgreSQL's")
def test_postgresql_refuses_a_raw_delete_of_a_recent_entry(personas: Any) -> None:
    entry = audit_record(action="export", actor=personas[Role.HR_STAFF], summary="导出", count=3)
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM core_auditlog WHERE id = %s", [entry.pk])
    assert AuditLog.objects.filter(pk=entry.pk).exists()


def _insert_aged(days: int) -> int:
    created = timezone.now() - timedelta(days=days)
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO core_auditlog (created_at, actor_label, actor_role, action, target_type,"
            " target_id, summary, reason, count, data) VALUES (%s, '', '', 'view', '', '', %s, '', 1, '{}')",
            [created, f"aged {days}"],
        )
    return AuditLog.objects.get(summary=f"aged {days}").pk


def test_purge_keeps_everything_younger_than_six_months() -> None:
    young = _insert_aged(182)
    old = _insert_aged(400)
    assert audit_purge_expired() == 1
    assert list(AuditLog.objects.filter(pk__in=[young, old]).values_list("pk", flat=True)) == [
        young
    ]


def test_auditor_reads_the_trail_and_nobody_can_post_to_it(client_as: Any) -> None:
    audit_record(action="export", summary="导出名单", count=7)
    response = client_as(Role.AUDITOR).get("/audit/")
    assert response.status_code == 200
    assert "导出名单" in response.content.decode()
    clients = [client_as(role) for role in (Role.AUDITOR, Role.SYSADMIN)]
    count = AuditLog.objects.count()
    for client in clients:
        assert client.post("/audit/", {"summary": "x"}).status_code == 405
    assert AuditLog.objects.count() == count


def test_admin_offers_no_add_change_or_delete_of_audit_entries(client_as: Any) -> None:
    entry = audit_record(action="export", summary="导出", count=1)
    admin = client_as(Role.SYSADMIN)
    assert admin.get("/backoffice/core/auditlog/add/").status_code == 403
    response = admin.post(f"/backoffice/core/auditlog/{entry.pk}/delete/", {"post": "yes"})
    assert response.status_code == 403
    assert AuditLog.objects.filter(pk=entry.pk).exists()
