"""Every role (and an anonymous visitor) against every page and API operation.

The walker requests every URL pattern of the project with each method its policy declares and
checks that the middleware lets exactly the declared roles through. Tests below it pin the
expected answer for the foundation's pages by hand, so a mistaken policy is caught too."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from qinghe.core.policies import policy_for
from qinghe.core.roles import ALL_ROLES, Role
from qinghe.testing.routes import access_of, concrete_path, methods_of, walk_routes

# Sample values for URL parameters, by parameter name. A new route with a parameter that is
# not listed here fails test_every_route_is_walked, so the walker never skips a route silently.
SAMPLE_PARAMS: dict[str, str] = {
    "pk": "999999",
    "id": "999999",
    "object_id": "999999",
    "app_label": "accounts",
    "dataset": "majors",
    "url": "nothing",
    "content_type_id": "1",
    "uidb64": "MQ",
    "token": "set-password",
    "model_name": "user",
    "talent_id": "999999",
    "segment_id": "999999",
    "change_id": "999999",
    "batch_id": "999999",
    "enterprise_id": "999999",
    "base_id": "999999",
    "posting_id": "999999",
    "year": "999999",
    "invitation_id": "999999",
    "category_id": "999999",
    "application_id": "999999",
    "interview_id": "999999",
    "stage_id": "999999",
    "consultation_id": "999999",
    "campaign_id": "999999",
    "event_id": "999999",
    "education_id": "999999",
    "chapter_id": "999999",
    "membership_id": "999999",
    "round_id": "999999",
    "nomination_id": "999999",
    "stop_id": "999999",
    "photo_id": "999999",
    "story_id": "999999",
    "policy_id": "999999",
    "attachment_id": "999999",
    "file_id": "999999",
    "code": "no_such_programme",
    "export_id": "999999",
    "card_id": "999999",
    "material_id": "999999",
    "dependant_id": "999999",
    "action": "renew",
    "station_id": "999999",
    "request_id": "999999",
    "ticket_id": "999999",
    "report_id": "999999",
    "kind": "pdf",
    "room_uuid": "00000000-0000-0000-0000-000000000000",
    "recording_uuid": "00000000-0000-0000-0000-000000000000",
    "seq": "0",
    "stream_id": "999999",
    "fair_id": "999999",
    "booth_id": "999999",
    "entry_id": "999999",
}

ROUTES = walk_routes()


def test_every_route_is_walked() -> None:
    unwalkable = [name for name, route in ROUTES if concrete_path(route, SAMPLE_PARAMS) is None]
    assert unwalkable == []


def _refused(response: Any, *, anonymous: bool, api: bool) -> bool:
    """True when the access policy (not the view itself) turned the request away."""
    if not getattr(response, "policy_refused", False):
        return False
    if anonymous:
        if api:
            return response.status_code == 401
        return response.status_code == 302 and "/accounts/login/" in response["Location"]
    return response.status_code == 403


@pytest.mark.django_db
@pytest.mark.parametrize("role", sorted(ALL_ROLES) + ["anonymous"])
def test_each_role_reaches_exactly_the_routes_its_policy_declares(role: str, personas: Any) -> None:
    client = Client(raise_request_exception=True)
    if role != "anonymous":
        client.force_login(personas[role])
    wrong: list[str] = []
    for name, route in ROUTES:
        rule = policy_for(name)
        assert rule is not None, name
        path = concrete_path(route, SAMPLE_PARAMS)
        assert path is not None
        for method in methods_of(rule):
            access = access_of(rule, method)
            allowed = access.allows(
                authenticated=role != "anonymous", role=None if role == "anonymous" else role
            )
            response = client.generic(method, path)
            if role != "anonymous":
                client.force_login(personas[role])  # the walk includes signing out
            refused = _refused(
                response, anonymous=role == "anonymous", api=path.startswith("/api/")
            )
            if allowed == refused:
                wrong.append(
                    f"{method} {path} ({name}) -> {response.status_code}, expected {'allowed' if allowed else 'refused'}"
                )
    assert wrong == []


# Hand-written expectations for the foundation's pages: a wrong policy fails here.
EXPECTED_GET: dict[str, set[str]] = {
    "/workbench/": set(ALL_ROLES),
    "/accounts/me/": set(ALL_ROLES),
    "/audit/": {Role.AUDITOR, Role.SYSADMIN},
    "/reference/": {
        Role.HR_STAFF,
        Role.EDU_STAFF,
        Role.LIAISON,
        Role.LEAGUE_STAFF,
        Role.STATION_STAFF,
        Role.SYSADMIN,
    },
    "/backoffice/": {Role.SYSADMIN},
    "/api/v1/accounts/me": set(ALL_ROLES),
    "/policies/": set(ALL_ROLES),
    "/policies/for-me/": {Role.STUDENT, Role.AMBASSADOR},
    "/policies/applications/": {Role.STUDENT, Role.AMBASSADOR},
    "/policies/staff/applications/": {Role.HR_STAFF, Role.SYSADMIN},
    "/policies/staff/programmes/": {Role.HR_STAFF, Role.SYSADMIN},
    "/policies/staff/batch/": {Role.HR_STAFF, Role.SYSADMIN},
    "/policies/staff/figures/": {Role.HR_STAFF, Role.SYSADMIN},
    # the 十个一 board: the leaders' bureaus (HR, education, League / organisation department)
    "/plan/": {Role.HR_STAFF, Role.EDU_STAFF, Role.LEAGUE_STAFF, Role.SYSADMIN},
    "/plan/funnel/": {Role.HR_STAFF, Role.EDU_STAFF, Role.LEAGUE_STAFF, Role.SYSADMIN},
    "/plan/reports/": {Role.HR_STAFF, Role.EDU_STAFF, Role.LEAGUE_STAFF, Role.SYSADMIN},
}


@pytest.mark.django_db
@pytest.mark.parametrize("path", sorted(EXPECTED_GET))
def test_foundation_pages_are_open_to_exactly_these_roles(path: str, client_as: Any) -> None:
    let_in = {role for role in ALL_ROLES if client_as(role).get(path).status_code == 200}
    assert let_in == EXPECTED_GET[path]


@pytest.mark.django_db
def test_public_pages_answer_everyone(client: Client) -> None:
    assert client.get("/").status_code == 200
    assert client.get("/accounts/login/").status_code == 200
    assert client.get("/healthz").json() == {"status": "ok"}
    # the policy library and the programmes are readable without signing in
    assert client.get("/policies/").status_code == 200
    assert client.get("/policies/programmes/").status_code == 200
    # the plan's aggregate figures for the public and the press
    assert client.get("/figures/").status_code == 200


@pytest.mark.django_db
def test_logout_refuses_get_and_changes_nothing(client_as: Any) -> None:
    client = client_as(Role.STUDENT)
    assert client.get("/accounts/logout/").status_code == 405
    assert client.get("/workbench/").status_code == 200
