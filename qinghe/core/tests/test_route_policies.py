from __future__ import annotations

import pytest
from django.http import HttpResponse
from django.test import override_settings
from django.urls import get_resolver, include, path

from config import urls as project_urls
from qinghe.core.policies import POLICIES, iter_view_names, undeclared_routes


def test_every_route_of_the_project_has_a_declared_policy() -> None:
    assert undeclared_routes(get_resolver().url_patterns) == []


def _orphan_view(request):  # pragma: no cover - must never run
    return HttpResponse("should not be reachable")


orphan_urlpatterns = [
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
    names = {name for name, _ in iter_view_names(get_resolver().url_patterns)}
    stale = [key for key in POLICIES if not key.endswith(":*") and key not in names]
    assert stale == []
