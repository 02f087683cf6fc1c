"""The move of the recruitment pipeline to qinghe.recruitment and of the yearly targets to
qinghe.plan changes Django's state only: rows written before the move (through the
historical models of jobs/0004, main's last jobs migration) are, after migrating to the
latest state, the same rows with the same ids and values, read through the new models.

It migrates the jobs app back to zero and up again, so it needs real transactions (and its
flush removes the rows migrations seed): it lives here, collected after the app tests."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from qinghe.accounts.models import User
from qinghe.enterprises.tests.factories import make_enterprise, make_reference, make_user
from qinghe.talents.models import Consent, Destination
from qinghe.talents.services import consent_record
from qinghe.talents.tests.factories import make_id, make_talent

BEFORE = [
    ("jobs", "0004_application_messages_sealed_snapshot"),
    ("recruitment", None),
    ("plan", None),
]
MOVED = {
    "recruitment": [
        "PipelineStage",
        "Application",
        "ApplicationEvent",
        "InterviewSlot",
        "Interview",
        "InterviewEvent",
    ],
    "plan": ["YearTarget"],
}
STAYING = ["Posting", "PostingEvent", "Favourite"]


def migrate(targets: list[tuple[str, str | None]]) -> MigrationExecutor:
    executor = MigrationExecutor(connection)
    executor.migrate(targets)
    executor.loader.build_graph()
    return executor


def rows(model: Any) -> list[dict[str, Any]]:
    """Every row of a model with every concrete field's value (decrypted where sealed)."""
    names = [f.attname for f in model._meta.concrete_fields]
    return [{name: getattr(obj, name) for name in names} for obj in model.objects.order_by("pk")]


@pytest.mark.django_db(transaction=True)
def test_rows_written_before_the_move_are_the_same_rows_after_it() -> None:
    # People and organisations (apps the move does not touch), written with today's models.
    ref = make_reference()
    enterprise = make_enterprise(ref, name="鹤山雅图仕印刷有限公司", n=1, hr_username="qiye_m")
    hr = User.objects.get(username="qiye_m")
    student = make_user("xuezi_m")
    staff = make_user("renshe_m", role="hr_staff")
    talent = make_talent(name="李晓彤", id_number=make_id("440784", "20030512", "102"))
    talent.user = student
    talent.save(update_fields=["user"])
    consent = consent_record(
        talent=talent,
        purpose=Consent.Purpose.SHARE_ENTERPRISE,
        granted=True,
        actor=student,
        enterprise=enterprise.organisation,
    )
    destination = Destination.objects.create(
        talent=talent, kind=Destination.Kind.EMPLOYED, employer=enterprise.name, year=2026
    )

    # A fresh jobs schema at main's last migration, without the new apps.
    migrate([("jobs", None)])
    executor = migrate(BEFORE)
    old = executor.loader.project_state(BEFORE[:1]).apps
    now = timezone.now().replace(microsecond=0)
    Posting = old.get_model("jobs", "Posting")
    posting = Posting.objects.create(
        enterprise_id=enterprise.pk,
        kind="internship",
        title="印前设计实习生",
        description="学习印前流程。",
        town_id=ref.shaping.pk,
        state="published",
        published_at=now,
        headcount=3,
        search_tokens=" 印前 设计 ",
    )
    old.get_model("jobs", "PostingEvent").objects.create(
        posting=posting,
        action="approve",
        from_state="review",
        to_state="published",
        actor_id=staff.pk,
    )
    old.get_model("jobs", "Favourite").objects.create(user_id=student.pk, posting=posting)
    Stage = old.get_model("jobs", "PipelineStage")
    applied = Stage.objects.get(enterprise=None, code="applied")  # seeded by jobs/0002
    own = Stage.objects.create(
        enterprise_id=enterprise.pk, code="custom-1", name="笔试", kind="custom", position=21
    )
    application = old.get_model("jobs", "Application").objects.create(
        posting=posting,
        enterprise_id=enterprise.pk,
        talent_id=talent.pk,
        applicant_id=student.pk,
        stage=own,
        consent_id=consent.pk,
        shared_snapshot={"name": "李晓彤", "phone": "13512340001", "purpose": "招聘"},
        cover_letter="熟悉 InDesign",
        applied_at=now,
        stage_changed_at=now,
        hired_at=now,
        destination_id=destination.pk,
    )
    old.get_model("jobs", "ApplicationEvent").objects.create(
        application=application,
        action="move",
        from_stage=applied,
        to_stage=own,
        note="进入笔试",
        message="请参加笔试",
        message_sent=True,
        actor_id=hr.pk,
        created_at=now,
    )
    slot = old.get_model("jobs", "InterviewSlot").objects.create(
        posting=posting,
        starts_at=now + dt.timedelta(days=2),
        ends_at=now + dt.timedelta(days=2, hours=1),
        location="雅图仕大厦 3 楼",
        capacity=2,
        created_by_id=hr.pk,
    )
    interview = old.get_model("jobs", "Interview").objects.create(
        application=application,
        slot=slot,
        starts_at=slot.starts_at,
        ends_at=slot.ends_at,
        mode="online",
        meeting_url="https://meet.example.cn/42",
        state="confirmed",
        result="passed",
        notes="沟通顺畅",
        created_by_id=hr.pk,
    )
    old.get_model("jobs", "InterviewEvent").objects.create(
        interview=interview,
        action="confirm",
        reason="准时参加",
        actor_id=student.pk,
        created_at=now,
    )
    old.get_model("jobs", "YearTarget").objects.create(
        year=2026, quality_jobs=600, internship_bases=12, native_hires=320, updated_by_id=staff.pk
    )
    before = {
        name: rows(old.get_model("jobs", name))
        for name in [*STAYING, *MOVED["recruitment"], *MOVED["plan"]]
    }
    assert [len(before[name]) for name in MOVED["recruitment"]] == [8, 1, 1, 1, 1, 1]

    # Forward through the move: jobs/0005, recruitment/0001 and plan/0001 (later migrations
    # change rows on purpose, e.g. recruitment/0002 rewrites the stages' placeholders).
    moved_to: list[tuple[str, str | None]] = [
        ("jobs", "0005_move_recruitment_and_plan"),
        ("recruitment", "0001_initial"),
        ("plan", "0001_initial"),
    ]
    executor = migrate(moved_to)
    from qinghe.jobs.models import Posting as NewPosting
    from qinghe.plan.models import YearTarget
    from qinghe.recruitment.models import Application, Interview

    tables = set(connection.introspection.table_names())
    assert {"jobs_application", "jobs_interview", "jobs_yeartarget"} <= tables
    assert not {t for t in tables if t.startswith(("recruitment_", "plan_"))}
    new = executor.loader.project_state(moved_to).apps
    for app_label, names in [("jobs", STAYING), *MOVED.items()]:
        for name in names:
            assert rows(new.get_model(app_label, name)) == before[name], name
    with pytest.raises(LookupError):
        new.get_model("jobs", "Application")

    # Then to the latest state, and through the application's own models, relations included.
    migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())
    moved = Application.objects.select_related("posting", "stage", "destination").get()
    assert (moved.pk, moved.posting_id, moved.posting.title, moved.stage.name) == (
        application.pk,
        posting.pk,
        "印前设计实习生",
        "笔试",
    )
    assert moved.shared_snapshot == {"name": "李晓彤", "phone": "13512340001", "purpose": "招聘"}
    assert Destination.objects.get(pk=destination.pk).hire_application == moved
    assert NewPosting.objects.get().applications.get() == moved
    assert list(Interview.objects.values_list("pk", "slot_id", "meeting_url", "notes")) == [
        (interview.pk, slot.pk, "https://meet.example.cn/42", "沟通顺畅")
    ]
    assert list(YearTarget.objects.values_list("year", "quality_jobs", "updated_by_id")) == [
        (2026, 600, staff.pk)
    ]
