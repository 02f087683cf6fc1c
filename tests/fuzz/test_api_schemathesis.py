"""Schemathesis against the JSON API's own OpenAPI schema, in process (WSGI), signed in as
three roles, every phase (examples, coverage, fuzzing, stateful), asserting that no request is
answered with a server error (``not_a_server_error``).

Selected with ``-m fuzz``; bounded so a run takes a few minutes on a shared machine. The
engine runs requests on its own thread, so the test uses a committed database
(``transactional_db``) that the thread can see."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
import schemathesis
from django.conf import settings
from django.core.handlers.wsgi import WSGIHandler
from django.test import Client
from schemathesis.engine import Status, events
from schemathesis.engine import from_schema as engine_for

from qinghe.accounts.models import User

pytestmark = [pytest.mark.fuzz, pytest.mark.django_db(transaction=True)]

CSRF_TOKEN = "f" * 32
MAX_EXAMPLES = 15


@dataclass
class Outcome:
    cases: Counter[str] = field(default_factory=Counter)
    responses: Counter[int] = field(default_factory=Counter)
    failures: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    seconds: float = 0.0


class SignedIn:
    """The Django WSGI app behind a browser that signed in as ``user``: the session cookie of a
    real sign-in, a CSRF cookie and the matching header on every request. (Werkzeug's test
    client, which schemathesis drives, replaces a Cookie header with its own jar, so the
    cookies go into the WSGI environ here.)"""

    def __init__(self, user: User) -> None:
        client = Client()
        client.force_login(user)
        session = client.cookies[settings.SESSION_COOKIE_NAME].value
        self.cookie = (
            f"{settings.SESSION_COOKIE_NAME}={session}; {settings.CSRF_COOKIE_NAME}={CSRF_TOKEN}"
        )
        self.app = WSGIHandler()

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        theirs = environ.get("HTTP_COOKIE")
        environ["HTTP_COOKIE"] = f"{theirs}; {self.cookie}" if theirs else self.cookie
        environ.setdefault("HTTP_X_CSRFTOKEN", CSRF_TOKEN)
        return self.app(environ, start_response)


def _config() -> schemathesis.Config:
    return schemathesis.Config.from_dict(
        {
            "checks": {"enabled": False, "not_a_server_error": {"enabled": True}},
            "generation": {"max-examples": MAX_EXAMPLES, "database": "none"},
            "phases": {
                "examples": {"enabled": True},
                "coverage": {"enabled": True},
                "fuzzing": {"enabled": True},
                "stateful": {"enabled": True, "max-steps": 10},
            },
            "seed": 20261203,
        }
    )


def _run(user: User) -> Outcome:
    schema = schemathesis.openapi.from_wsgi(
        "/api/v1/openapi.json", SignedIn(user), config=_config()
    )
    outcome = Outcome()
    started = time.monotonic()
    for event in engine_for(schema).execute():
        if isinstance(event, events.ScenarioFinished):
            _record(outcome, event.phase.value, event.recorder)
        elif isinstance(event, events.NonFatalError):
            outcome.errors.append(f"{event.label}: {event.value!r}")
        elif isinstance(event, events.FatalError):
            outcome.errors.append(f"fatal: {event.exception!r}")
    outcome.seconds = time.monotonic() - started
    return outcome


def _record(outcome: Outcome, phase: str, recorder: Any) -> None:
    outcome.cases[phase] += len(recorder.cases)
    for interaction in recorder.interactions.values():
        if interaction.response is not None:
            outcome.responses[interaction.response.status_code] += 1
    for case_id, checks in recorder.checks.items():
        for check in checks:
            if check.status == Status.FAILURE:
                interaction = recorder.interactions.get(case_id)
                request = interaction.request if interaction else None
                where = f"{request.method} {request.uri}" if request else recorder.label
                outcome.failures.append(f"{check.name}: {where}")


@pytest.fixture
def disable_axes_and_rate_limits(settings: Any) -> Iterator[None]:
    settings.AXES_ENABLED = False
    yield


@pytest.mark.parametrize("role", ["hr_staff", "enterprise_hr", "student"])
def test_the_api_never_answers_with_a_server_error(
    personas: dict[str, User], role: str, capsys: pytest.CaptureFixture[str]
) -> None:
    outcome = _run(personas[role])
    with capsys.disabled():
        print(
            f"\n[{role}] {outcome.seconds:.1f}s cases by phase {dict(outcome.cases)} "
            f"responses {dict(sorted(outcome.responses.items()))} "
            f"failures {len(outcome.failures)} errors {len(outcome.errors)}"
        )
    assert outcome.failures == []
    assert outcome.errors == []
    assert sum(outcome.cases.values()) > 0
    assert not any(code >= 500 for code in outcome.responses)
