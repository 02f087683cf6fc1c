"""Card materials are deleted QINGHE_CARD_MATERIAL_RETENTION_DAYS after the application was
decided (issued, or rejected; a dependant's voided before approval too), never while it is open;
the row stays with the deletion time, one audit row per card, staff are told it went, and the
scheduled job runs it and records what it did. A second run deletes nothing."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from django.core.files.storage import default_storage
from django.test import Client, override_settings

from qinghe.accounts.services import user_create
from qinghe.cards import dependants, services
from qinghe.cards.models import Card, CardMaterial, DependantMaterial
from qinghe.cards.purge import PurgeResult, card_materials_purge
from qinghe.core.models import AuditLog
from qinghe.core.roles import Role
from qinghe.scheduler.models import JobRun
from qinghe.scheduler.schedule import SCHEDULE
from qinghe.scheduler.services import Scheduler
from qinghe.scheduler.tests.clock import FakeClock
from qinghe.talents.models import Education, Source, Talent

from .factories import CardWorld, apply_data
from .test_dependants import data as dependant_data

SH = ZoneInfo("Asia/Shanghai")
T0 = dt.datetime(2026, 3, 2, 10, 0, tzinfo=SH)


def files_exist(card: Card) -> list[bool]:
    names = (
        CardMaterial.objects.filter(card=card).order_by("pk").values_list("stored_name", flat=True)
    )
    return [default_storage.exists(n) for n in names]


def second_applicant(cw: CardWorld) -> Card:
    student = user_create(
        username="xuezi3", password="Qinghe-test-2026", role=Role.STUDENT, validate=False
    )
    talent = Talent.objects.create(name="梁嘉欣", user=student, town=cw.shaping.town)
    Education.objects.create(
        talent=talent,
        university_name="五邑大学",
        level="bachelor",
        graduation_year=2025,
        source=Source.STUDENT,
    )
    return services.card_apply(user=student, data=apply_data(T0.date(), requested_tier="C"), now=T0)


@override_settings(QINGHE_CARD_MATERIAL_RETENTION_DAYS=180)
def test_materials_go_180_days_after_the_decision_and_never_while_open(cw: CardWorld) -> None:
    # Issued on T0, with a dependant's card issued the same day.
    card = services.card_apply(user=cw.student, data=apply_data(T0.date()), now=T0)
    card = services.card_transition(card=card, action="review", actor=cw.station_staff, now=T0)
    card = services.card_transition(card=card, action="approve", actor=cw.hr, now=T0)
    dep = dependants.dependant_apply(user=cw.student, data=dependant_data(), now=T0)
    dep = dependants.dependant_transition(
        dependant=dep, action="review", actor=cw.station_staff, now=T0
    )
    dep = dependants.dependant_transition(dependant=dep, action="approve", actor=cw.hr, now=T0)
    # Still open: submitted on T0 and never decided.
    waiting = second_applicant(cw)
    assert files_exist(card) == [True, True, True]

    day_179 = T0 + dt.timedelta(days=179, hours=23)
    assert card_materials_purge(now=day_179) == PurgeResult(0, 0, 0)
    assert files_exist(card) == [True, True, True]

    day_180 = T0 + dt.timedelta(days=180, minutes=1)
    assert card_materials_purge(now=day_180) == PurgeResult(3, 2, 2)
    assert files_exist(card) == [False, False, False]
    assert set(CardMaterial.objects.filter(card=card).values_list("purged_at", flat=True)) == {
        day_180
    }
    assert set(DependantMaterial.objects.values_list("purged_at", flat=True)) == {day_180}
    assert files_exist(waiting) == [True, True, True]
    assert CardMaterial.objects.filter(card=waiting, purged_at__isnull=True).count() == 3
    rows = AuditLog.objects.filter(action="delete").order_by("id")
    assert list(rows.values_list("target_type", "summary", "count")) == [
        ("cards.card", "删除超过保留期（180 天）的鹤才青年卡申请材料 3 份", 3),
        ("cards.dependantcard", "删除超过保留期（180 天）的家属卡申请材料 2 份", 2),
    ]
    # Idempotent: nothing more to do, nothing more audited.
    assert card_materials_purge(now=day_180 + dt.timedelta(days=1)) == PurgeResult(0, 0, 0)
    assert AuditLog.objects.filter(action="delete").count() == 2

    # Staff see that it went; the file is not offered any more.
    staff = Client()
    staff.force_login(cw.station_staff)
    page = staff.get(f"/cards/manage/{card.pk}/").content.decode()
    assert page.count("已超过保留期，于 2026-08-29 删除") == 3
    material = CardMaterial.objects.filter(card=card).first()
    assert material is not None
    assert staff.get(f"/cards/manage/{card.pk}/materials/{material.pk}/").status_code == 404


@override_settings(QINGHE_CARD_MATERIAL_RETENTION_DAYS=30)
def test_a_rejected_application_counts_from_its_rejection_and_the_setting_is_read(
    cw: CardWorld,
) -> None:
    card = services.card_apply(user=cw.student, data=apply_data(T0.date()), now=T0)
    rejected_at = T0 + dt.timedelta(days=10)
    card = services.card_transition(
        card=card, action="reject", actor=cw.station_staff, reason="合同页不清晰", now=rejected_at
    )
    Card.objects.filter(pk=card.pk).update(updated_at=rejected_at)
    assert card_materials_purge(now=rejected_at + dt.timedelta(days=29)).materials == 0
    assert card_materials_purge(now=rejected_at + dt.timedelta(days=31)).materials == 3


def test_the_scheduled_job_runs_the_purge_and_records_its_figures(cw: CardWorld) -> None:
    card = services.card_apply(user=cw.student, data=apply_data(T0.date()), now=T0)
    card = services.card_transition(card=card, action="review", actor=cw.station_staff, now=T0)
    services.card_transition(card=card, action="approve", actor=cw.hr, now=T0)
    job = next(j for j in SCHEDULE if j.name == "purge_card_materials")
    assert (job.cron, job.target) == ("40 3 * * *", "qinghe.cards.purge.card_materials_purge")
    clock = FakeClock(T0 + dt.timedelta(days=400))
    Scheduler((job,), clock=clock).tick()
    run = JobRun.objects.get(job="purge_card_materials")
    assert (run.outcome, run.summary) == (
        "succeeded",
        "主卡材料 3 份，家属卡材料 0 份，涉及 1 张卡",
    )
    assert files_exist(card) == [False, False, False]
