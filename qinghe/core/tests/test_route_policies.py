from __future__ import annotations

import pytest
from django.http import HttpRequest, HttpResponse
from django.test import override_settings
from django.urls import URLPattern, URLResolver, get_resolver, include, path
from ninja import NinjaAPI
from ninja.security import django_auth

from config import urls as project_urls
from qinghe.core.policies import (
    HR,
    POLICIES,
    SIGNED_IN,
    iter_operations,
    iter_view_names,
    misgoverned_operations,
    undeclared_routes,
)


def test_every_route_of_the_project_has_a_declared_policy() -> None:
    assert undeclared_routes(get_resolver().url_patterns) == []


def _orphan_view(request):  # pragma: no cover - must never run
    return HttpResponse("should not be reachable")


orphan_urlpatterns: list[URLPattern | URLResolver] = [
    *project_urls.urlpatterns,
    path("orphan/", _orphan_view, name="orphan"),
    path("ns/", include(([path("x/", _orphan_view, name="x")], "newapp"))),
]


def test_a_route_added_without_a_policy_is_reported_by_name() -> None:
    assert undeclared_routes(orphan_urlpatterns) == ["newapp:x", "orphan"]


def test_an_unnamed_route_is_reported_by_its_view_path() -> None:
    patterns = [path("nameless/", _orphan_view)]
    assert undeclared_routes(patterns) == ["qinghe.core.tests.test_route_policies._orphan_view"]


@pytest.mark.django_db
@override_settings(ROOT_URLCONF=__name__)
def test_a_route_without_a_policy_is_refused_even_to_the_system_administrator(client_as) -> None:
    response = client_as("sysadmin").get("/orphan/")
    assert response.status_code == 403
    assert b"should not be reachable" not in response.content


urlpatterns = orphan_urlpatterns


def test_policy_keys_name_real_routes() -> None:
    """A stale key (a renamed route) would silently stop protecting anything."""
    from qinghe.realtime.routing import websocket_urlpatterns

    names = {name for name, _ in iter_view_names(get_resolver().url_patterns)}
    names |= {name for name, _ in iter_view_names(websocket_urlpatterns)}
    stale = [key for key in POLICIES if not key.endswith(":*") and key not in names]
    assert stale == []


# A django-ninja path with two operations under different policies: anyone signed in reads,
# only HR bureau staff delete. ninja registers both under one route; resolve() names the first.
_deleted: list[int] = []
policy_api = NinjaAPI(urls_namespace="policytest", auth=django_auth, docs_url=None)


@policy_api.get("/thing/{int:thing_id}", url_name="thing_read")
def _thing_read(request: HttpRequest, thing_id: int) -> dict[str, int]:
    return {"id": thing_id}


@policy_api.delete("/thing/{int:thing_id}", url_name="thing_delete")
def _thing_delete(request: HttpRequest, thing_id: int) -> dict[str, int]:
    _deleted.append(thing_id)
    return {"deleted": thing_id}


class two_policy_urls:  # noqa: N801 - a URLconf module stand-in
    urlpatterns = [path("api/test/", policy_api.urls)]


TWO_POLICIES = {
    "policytest:thing_read": SIGNED_IN,
    "policytest:thing_delete": {"DELETE": HR},
    "policytest:openapi-json": SIGNED_IN,
}


def test_every_api_operation_and_method_is_governed_by_its_own_declared_policy() -> None:
    operations = list(iter_operations(get_resolver().url_patterns))
    assert len(operations) > 50
    assert misgoverned_operations(get_resolver().url_patterns) == []


def test_an_operation_whose_own_policy_is_missing_is_reported(monkeypatch) -> None:
    monkeypatch.setattr("qinghe.core.policies.POLICIES", {"policytest:thing_read": SIGNED_IN})
    assert misgoverned_operations(two_policy_urls.urlpatterns) == ["DELETE policytest:thing_delete"]


def test_the_enforced_name_is_the_operation_for_the_method() -> None:
    found = {
        (name, method): enforced
        for name, method, enforced in iter_operations(two_policy_urls.urlpatterns)
    }
    assert found == {
        ("policytest:thing_read", "GET"): "policytest:thing_read",
        ("policytest:thing_read", "DELETE"): "policytest:thing_delete",
        ("policytest:thing_delete", "GET"): "policytest:thing_read",
        ("policytest:thing_delete", "DELETE"): "policytest:thing_delete",
    }


@pytest.mark.django_db
@override_settings(ROOT_URLCONF=two_policy_urls)
def test_a_stricter_delete_on_a_read_path_is_refused_to_who_may_only_read(
    client_as, monkeypatch
) -> None:
    monkeypatch.setattr("qinghe.core.policies.POLICIES", TWO_POLICIES)
    _deleted.clear()
    student = client_as("student")
    assert student.get("/api/test/thing/7").json() == {"id": 7}

    response = student.delete("/api/test/thing/7")

    assert response.status_code == 403
    assert response.json() == {"detail": "无权访问"}
    assert _deleted == []


@pytest.mark.django_db
@override_settings(ROOT_URLCONF=two_policy_urls)
def test_the_stricter_delete_is_allowed_to_its_own_role(client_as, monkeypatch) -> None:
    monkeypatch.setattr("qinghe.core.policies.POLICIES", TWO_POLICIES)
    _deleted.clear()

    response = client_as("hr_staff").delete("/api/test/thing/7")

    assert response.status_code == 200
    assert _deleted == [7]
