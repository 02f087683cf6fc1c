"""Inputs the fuzzer found answered with a server error: out-of-range pagination and a
multipart body without a boundary. Each is now a client error with a Chinese message."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from config.api import api
from qinghe.accounts.models import User

HUGE_OFFSET = "674596572633358396205347030431694848"

# Every list operation that pages, with the persona allowed to read it.
PAGED_LISTS = [
    ("hr_staff", "/api/v1/talents/"),
    ("hr_staff", "/api/v1/enterprises/"),
    ("hr_staff", "/api/v1/jobs/staff"),
    ("hr_staff", "/api/v1/jobs/staff/applications"),
    ("student", "/api/v1/jobs/search"),
    ("enterprise_hr", "/api/v1/jobs/mine/applicants"),
    ("student", "/api/v1/events"),
]


CSRF_TOKEN = "q" * 32


def _client(user: User) -> Client:
    """Signed in, with CSRF enforced the way a browser meets it: the cookie and the header."""
    client = Client(raise_request_exception=False, enforce_csrf_checks=True)
    client.force_login(user)
    client.cookies["csrftoken"] = CSRF_TOKEN
    return client


@pytest.mark.django_db
@pytest.mark.parametrize(("role", "url"), PAGED_LISTS)
@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"offset": HUGE_OFFSET, "limit": "-527070"}, "offset"),
        ({"offset": "0", "limit": "-527070"}, "limit"),
        ({"offset": "-1"}, "offset"),
        ({"limit": "0"}, "limit"),
        ({"limit": "100000"}, "limit"),
        ({"offset": str(10**9 + 1)}, "offset"),
    ],
)
def test_out_of_range_pagination_is_refused_with_a_chinese_message(
    personas: dict[str, User], role: str, url: str, params: dict[str, str], field: str
) -> None:
    response = _client(personas[role]).get(url, params)
    assert response.status_code == 422
    body = response.json()
    assert body["detail"] == "输入有误"
    fields = [error["loc"][-1] for error in body["errors"]]
    assert field in fields
    messages = [error["msg"] for error in body["errors"] if error["loc"][-1] == field]
    assert all(not msg.isascii() for msg in messages), messages


@pytest.mark.django_db
@pytest.mark.parametrize(("role", "url"), PAGED_LISTS)
def test_the_largest_allowed_page_is_answered(
    personas: dict[str, User], role: str, url: str
) -> None:
    response = _client(personas[role]).get(url, {"offset": str(10**9), "limit": "1"})
    assert response.status_code == 200


def _paged_query_params() -> list[tuple[str, str, dict[str, Any]]]:
    schema = api.get_openapi_schema()
    found = []
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            for param in operation.get("parameters", []):
                if param["in"] == "query" and param["name"] in {"limit", "offset"}:
                    found.append((f"{method.upper()} {path}", param["name"], param["schema"]))
    return found


def test_every_paged_operation_declares_bounds_for_limit_and_offset() -> None:
    params = _paged_query_params()
    assert len(params) >= 2 * len(PAGED_LISTS)
    unbounded = [
        (op, name)
        for op, name, schema in params
        if "maximum" not in schema or "minimum" not in schema
    ]
    assert unbounded == []


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("role", "url"),
    [
        ("hr_staff", "/api/v1/enterprises/1/verify"),
        ("student", "/api/v1/jobs/1/favourite"),
        ("enterprise_hr", "/api/v1/jobs/mine"),
    ],
)
def test_a_multipart_body_without_a_boundary_is_a_bad_request(
    personas: dict[str, User], role: str, url: str
) -> None:
    client = _client(personas[role])
    response = client.generic(
        "POST", url, b"x=1", content_type="multipart/form-data", HTTP_X_CSRFTOKEN=CSRF_TOKEN
    )
    assert response.status_code == 400
    assert response.json() == {"detail": "请求体格式有误"}


@pytest.mark.django_db
def test_a_malformed_multipart_page_post_is_a_bad_request(personas: dict[str, User]) -> None:
    client = _client(personas["student"])
    response = client.generic(
        "POST",
        "/accounts/logout/",
        b"x",
        content_type="multipart/form-data",
        HTTP_X_CSRFTOKEN=CSRF_TOKEN,
    )
    assert response.status_code == 400
    assert "请求体格式有误" in response.content.decode()
