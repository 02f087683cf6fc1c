"""Walks every page and API answer (GET) with a real application, interview and stage in the
URL, for every role and for enterprise B and student Y, and fails where the student's phone
shows to anyone but the enterprise they consented to share it with (on its applicant pages)
and the student themself; the ID number shows to nobody outside the student's own pages."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from qinghe.core.policies import policy_for
from qinghe.core.roles import ALL_ROLES, Role
from qinghe.recruitment.services.stages import default_stage, stage_create
from qinghe.testing.recruiting import X_PHONE, apply_to, claim_talent, invite
from qinghe.testing.routes import access_of, concrete_path, methods_of, walk_routes
from qinghe.testing.world import World

pytestmark = pytest.mark.django_db

# Where the phone may show, and to whom.
SHARED_WITH_A = {"recruitment:applicant", "api:applicant"}
STUDENTS_OWN = {"recruitment:my_application", "api:my_application", "api:application_apply"}


def test_the_shared_phone_shows_only_to_the_consented_enterprise_and_the_student(
    world: World, personas: Any
) -> None:
    from qinghe.core.tests.test_authorization import SAMPLE_PARAMS

    talent = claim_talent(world.x, name="李晓彤", seq="102", phone=X_PHONE)
    application = apply_to(world.x, world.posting_a)
    interview = invite(world.hr_a, application)
    stage = stage_create(
        actor=world.hr_a, enterprise=world.a, name="笔试", after=default_stage("screening")
    )
    params = {
        **SAMPLE_PARAMS,
        "application_id": str(application.pk),
        "interview_id": str(interview.pk),
        "posting_id": str(world.posting_a.pk),
        "stage_id": str(stage.pk),
        "enterprise_id": str(world.a.pk),
        "talent_id": str(talent.pk),
    }
    actors = {role: personas[role] for role in sorted(ALL_ROLES)}
    actors.update({"hr_b": world.hr_b, "student_y": world.y})
    leaks: list[str] = []
    seen_by_a: list[str] = []
    for label, user in actors.items():
        client = Client()
        client.force_login(user)
        for name, route in walk_routes():
            rule = policy_for(name)
            if rule is None or "GET" not in methods_of(rule) or name.startswith("admin:"):
                continue
            if not access_of(rule, "GET").allows(authenticated=True, role=user.role):
                continue
            path = concrete_path(route, params)
            assert path is not None, name
            response = client.get(path)
            if response.streaming:
                continue
            body = response.content.decode("utf-8", errors="replace")
            own = label == Role.STUDENT and (name.startswith("me:") or name in STUDENTS_OWN)
            consented = label == Role.ENTERPRISE_HR and name in SHARED_WITH_A
            if X_PHONE in body:
                if consented:
                    seen_by_a.append(name)
                elif not own:
                    leaks.append(f"{label}: phone on {name}")
            if talent.id_number in body and not (label == Role.STUDENT and name.startswith("me:")):
                leaks.append(f"{label}: ID number on {name}")
    assert leaks == []
    assert sorted(seen_by_a) == ["api:applicant", "recruitment:applicant"]
