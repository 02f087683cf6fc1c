"""The audit writer learns who is asking and from where through the request context, not
through a ``request`` argument handed down every service."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import AnonymousUser
from django.http import HttpRequest, HttpResponse
from django.test import RequestFactory

from qinghe.core.audit import audit_record
from qinghe.core.context import RequestContextMiddleware, current
from qinghe.core.models import AuditLog
from qinghe.core.roles import Role

pytestmark = pytest.mark.django_db


def served(request: HttpRequest) -> HttpResponse:
    audit_record(action="export", summary="导出")
    return HttpResponse("ok")


def test_an_audit_row_written_while_serving_a_request_names_its_user_and_address(
    personas: Any,
) -> None:
    request = RequestFactory().get("/talents/", REMOTE_ADDR="203.0.113.7")
    request.user = personas[Role.HR_STAFF]
    RequestContextMiddleware(served)(request)
    row = AuditLog.objects.get(action="export")
    assert (row.actor_id, row.actor_label, row.actor_role, row.ip_address) == (
        personas[Role.HR_STAFF].pk,
        "renshe",
        Role.HR_STAFF,
        "203.0.113.7",
    )
    assert current() is None


def test_an_anonymous_request_gives_its_address_and_no_actor() -> None:
    request = RequestFactory().get("/", REMOTE_ADDR="198.51.100.2")
    request.user = AnonymousUser()
    RequestContextMiddleware(served)(request)
    row = AuditLog.objects.get(action="export")
    assert (row.actor_id, row.actor_label, row.ip_address) == (None, "", "198.51.100.2")


def test_outside_a_request_there_is_no_address_and_the_actor_is_whoever_is_named(
    personas: Any,
) -> None:
    audit_record(action="purge", actor=personas[Role.SYSADMIN])
    audit_record(action="export")
    rows = list(
        AuditLog.objects.filter(action__in=["purge", "export"])
        .order_by("id")
        .values_list("action", "actor_id", "ip_address")
    )
    assert rows == [("purge", personas[Role.SYSADMIN].pk, None), ("export", None, None)]


def test_behind_a_trusted_proxy_the_forwarded_client_is_recorded(
    personas: Any, settings: Any
) -> None:
    settings.QINGHE_TRUSTED_PROXIES = ["10.0.0.0/8"]
    request = RequestFactory().get(
        "/", REMOTE_ADDR="10.0.0.5", HTTP_X_FORWARDED_FOR="203.0.113.9, 10.0.0.4"
    )
    request.user = personas[Role.HR_STAFF]
    RequestContextMiddleware(served)(request)
    assert AuditLog.objects.get(action="export").ip_address == "203.0.113.9"
