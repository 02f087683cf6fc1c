"""DomainErrorMiddleware: the one path from a domain error to a page response."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth.models import AnonymousUser
from django.contrib.messages import get_messages
from django.contrib.messages.storage.fallback import FallbackStorage
from django.contrib.sessions.backends.signed_cookies import SessionStore
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.test import RequestFactory

from qinghe.core.errorhandling import DomainErrorMiddleware, redirect_on_error
from qinghe.core.errors import ApplicationError, NotFound, PermissionDenied

pytestmark = pytest.mark.django_db

middleware = DomainErrorMiddleware(lambda request: HttpResponse("unused"))


def _request(method: str, path: str, **extra: Any) -> HttpRequest:
    factory = RequestFactory()
    data = extra.pop("data", {})
    request = (
        factory.post(path, data, **extra) if method == "POST" else factory.get(path, data, **extra)
    )
    request.user = AnonymousUser()
    request.session = SessionStore()
    request._messages = FallbackStorage(request)  # type: ignore[attr-defined]
    return request


def _messages(request: HttpRequest) -> list[tuple[str, str]]:
    return [(m.level_tag, m.message) for m in get_messages(request)]


def _handle(request: HttpRequest, exc: Exception) -> HttpResponse | None:
    return middleware.process_exception(request, exc)


def test_not_found_gives_the_chinese_404_page_on_get_and_post() -> None:
    for method in ("GET", "POST"):
        request = _request(method, "/talents/5/")
        response = _handle(request, NotFound())
        assert response is not None
        assert response.status_code == 404
        assert "页面不存在，或您无权查看该记录。" in response.content.decode()
        assert _messages(request) == []


def test_permission_denied_on_a_get_gives_the_chinese_403_page() -> None:
    request = _request("GET", "/enterprises/5/")
    response = _handle(request, PermissionDenied("只有人社局工作人员可以审核企业"))
    assert response is not None
    assert response.status_code == 403
    assert "无权访问" in response.content.decode()
    assert _messages(request) == []


def test_permission_denied_on_a_post_is_a_refusal_message_on_the_page_it_came_from() -> None:
    request = _request("POST", "/talents/5/verify/", HTTP_REFERER="http://testserver/talents/5/")
    response = _handle(request, PermissionDenied("只能核实分配给你的学生的档案"))
    assert response is not None
    assert (response.status_code, response["Location"]) == (302, "http://testserver/talents/5/")
    assert _messages(request) == [("error", "只能核实分配给你的学生的档案")]


def test_application_error_on_post_becomes_a_message_and_a_redirect_to_the_same_url() -> None:
    request = _request("POST", "/jobs/postings/7/submit/?tab=1")
    response = _handle(request, ApplicationError("岗位当前为“已发布”，不能提交审核"))
    assert response is not None
    assert (response.status_code, response["Location"]) == (302, "/jobs/postings/7/submit/?tab=1")
    assert _messages(request) == [("error", "岗位当前为“已发布”，不能提交审核")]


def test_validation_error_on_post_becomes_one_chinese_line() -> None:
    request = _request("POST", "/x/")
    exc = ValidationError({"note": ["请填写原因"], "title": ["请填写岗位名称"]})
    response = _handle(request, exc)
    assert response is not None
    assert (response.status_code, response["Location"]) == (302, "/x/")
    assert _messages(request) == [("error", "请填写原因；请填写岗位名称")]


def test_a_safe_next_then_a_same_host_referer_are_followed() -> None:
    request = _request("POST", "/x/", data={"next": "/talents/?page=2"})
    assert _handle(request, ApplicationError("不行"))["Location"] == "/talents/?page=2"  # type: ignore[index]
    request = _request("POST", "/x/", HTTP_REFERER="http://testserver/me/")
    assert _handle(request, ApplicationError("不行"))["Location"] == "http://testserver/me/"  # type: ignore[index]


@pytest.mark.parametrize(
    "extra",
    [
        {"data": {"next": "https://evil.example.com/"}},
        {"data": {"next": "//evil.example.com/"}},
        {"HTTP_REFERER": "https://evil.example.com/phish"},
    ],
)
def test_no_redirect_to_another_host(extra: dict[str, Any]) -> None:
    request = _request("POST", "/x/", **extra)
    response = _handle(request, ApplicationError("不行"))
    assert response is not None
    assert response["Location"] == "/x/"
    assert _messages(request) == [("error", "不行")]


def test_a_declared_target_wins_over_next_and_referer() -> None:
    @redirect_on_error("talents:detail", "talent_id")
    def view(request: HttpRequest, talent_id: int) -> HttpResponse:
        raise ApplicationError("该记录已核实")

    request = _request(
        "POST", "/x/", data={"next": "/me/"}, HTTP_REFERER="http://testserver/other/"
    )
    with pytest.raises(ApplicationError) as caught:
        view(request, talent_id=42)
    response = _handle(request, caught.value)
    assert response is not None
    assert (response.status_code, response["Location"]) == (302, "/talents/42/")
    assert _messages(request) == [("error", "该记录已核实")]


def test_application_error_on_a_get_page_renders_a_chinese_400() -> None:
    request = _request("GET", "/x/")
    response = _handle(request, ApplicationError("请填写导出原因"))
    assert response is not None
    assert response.status_code == 400
    body = response.content.decode()
    assert "无法完成该请求：请填写导出原因" in body
    assert _messages(request) == []


@pytest.mark.parametrize(
    "exc",
    [NotFound(), PermissionDenied("无权"), ApplicationError("不行"), ValidationError("坏")],
)
def test_api_paths_are_left_to_django_ninja(exc: Exception) -> None:
    for method in ("GET", "POST"):
        request = _request(method, "/api/v1/jobs/postings/1/submit")
        assert _handle(request, exc) is None
        assert _messages(request) == []


def test_other_exceptions_pass_through() -> None:
    request = _request("POST", "/x/")
    assert _handle(request, ValueError("boom")) is None


def test_the_middleware_is_installed_after_messages(settings: Any) -> None:
    chain: Callable[[str], int] = settings.MIDDLEWARE.index
    assert chain("qinghe.core.errorhandling.DomainErrorMiddleware") > chain(
        "django.contrib.messages.middleware.MessageMiddleware"
    )


def test_through_the_stack_the_api_keeps_its_json_404(client_as: Any) -> None:
    client = client_as("student")
    response = client.post("/api/v1/jobs/999999/favourite")
    assert response.status_code == 404
    assert response.json() == {"detail": "未找到该记录"}


def _page_messages(response: Any) -> list[str]:
    return [str(m) for m in response.context["messages"]] if response.context else []


def test_through_the_stack_a_refused_page_post_is_a_message_on_the_declared_page(
    client_as: Any,
) -> None:
    from qinghe.enterprises.models import EnterpriseEvent
    from qinghe.enterprises.tests.factories import make_enterprise, make_reference

    verified = make_enterprise(make_reference(), name="鹤山市华翔卫浴实业有限公司", n=2)
    client = client_as("hr_staff")
    events = EnterpriseEvent.objects.count()
    response = client.post(
        f"/enterprises/{verified.pk}/verify/", HTTP_REFERER="https://evil.example.com/"
    )
    assert (response.status_code, response["Location"]) == (302, f"/enterprises/{verified.pk}/")
    page = client.get(response["Location"])
    assert "企业当前状态为“已认证”，不能认证通过" in _page_messages(page)
    assert EnterpriseEvent.objects.count() == events


def test_through_the_stack_a_missing_record_is_the_chinese_404(client_as: Any) -> None:
    client = client_as("hr_staff")
    for response in (
        client.get("/enterprises/999999/"),
        client.post("/enterprises/999999/verify/"),
    ):
        assert response.status_code == 404
        assert "页面不存在，或您无权查看该记录。" in response.content.decode()
