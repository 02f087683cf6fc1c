"""Selectors only read: the platform's default stages are put back by the write paths that
need them (services.stages.default_stages_ensure), never by a page or API read."""

from __future__ import annotations

from typing import Any

import pytest

from qinghe.recruitment import selectors
from qinghe.recruitment.default_stages import DEFAULT_STAGES
from qinghe.recruitment.models import PipelineStage
from qinghe.recruitment.services.stages import default_stage, default_stages_ensure, stage_create
from qinghe.testing.recruiting import X_PHONE, apply_to, claim_talent
from qinghe.testing.world import World

pytestmark = pytest.mark.django_db
DEFAULT_CODES = [code for code, *_ in DEFAULT_STAGES]


def default_codes() -> list[str]:
    return list(
        PipelineStage.objects.filter(enterprise__isnull=True)
        .order_by("position")
        .values_list("code", flat=True)
    )


def test_reading_the_stages_writes_nothing_even_when_the_defaults_are_missing(
    world: World, django_assert_num_queries: Any
) -> None:
    PipelineStage.objects.filter(enterprise__isnull=True).delete()
    with django_assert_num_queries(1):
        assert list(selectors.stages_for(enterprise=world.a, active_only=False)) == []
    assert PipelineStage.objects.count() == 0


def test_the_stages_page_reads_without_seeding(world: World, client: Any) -> None:
    PipelineStage.objects.filter(enterprise__isnull=True).delete()
    client.force_login(world.hr_a)
    assert client.get("/jobs/mine/stages/").status_code == 200
    assert PipelineStage.objects.count() == 0


def test_adding_a_stage_puts_the_defaults_back_first(world: World) -> None:
    PipelineStage.objects.filter(enterprise__isnull=True).delete()
    stage = stage_create(
        actor=world.hr_a, enterprise=world.a, name="笔试", after=default_stage("screening")
    )
    assert default_codes() == DEFAULT_CODES
    assert [s.name for s in selectors.stages_for(enterprise=world.a)] == [
        "已投递",
        "筛选",
        "笔试",
        "面试",
        "录用",
        "入职",
        "未通过",
        "撤回",
    ]
    assert stage.code == "custom-1"


def test_applying_puts_the_defaults_back_when_they_are_missing(world: World) -> None:
    PipelineStage.objects.filter(enterprise__isnull=True).delete()
    claim_talent(world.x, name="李晓彤", seq="102", phone=X_PHONE)
    application = apply_to(world.x, world.posting_a)
    assert application.stage.code == "applied"
    assert default_codes() == DEFAULT_CODES


def test_the_defaults_are_never_changed_by_putting_them_back(world: World) -> None:
    # A transactional test run earlier in this process may have flushed the seeded rows.
    default_stages_ensure()
    PipelineStage.objects.filter(enterprise__isnull=True, code="screening").update(name="初筛")
    PipelineStage.objects.filter(enterprise__isnull=True, code="onboarded").delete()
    assert default_stage("onboarded").name == "入职"
    assert PipelineStage.objects.get(enterprise__isnull=True, code="screening").name == "初筛"
    assert default_codes() == DEFAULT_CODES
