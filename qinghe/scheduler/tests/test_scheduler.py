"""The scheduler's rules, with an injected clock: each period runs once, a missed run is
caught up once, a failure is recorded (Chinese, masked) and the other jobs go on, a dead
worker's run is taken over after its lease."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
from django.core.management import call_command

from qinghe.scheduler.checks import schedule_check
from qinghe.scheduler.jobs import Job
from qinghe.scheduler.models import JobRun
from qinghe.scheduler.schedule import SCHEDULE
from qinghe.scheduler.services import Scheduler, job_claim, job_run

from .clock import FakeClock, at

pytestmark = pytest.mark.django_db


def counting(calls: list[str], name: str, result: Any = 1) -> Callable[[], Any]:
    def work() -> Any:
        calls.append(name)
        return result

    return work


def runs() -> list[tuple[str, str, str]]:
    return [
        (
            r.job,
            f"{r.scheduled_for.astimezone(at('2026-01-01 00:00').tzinfo):%m-%d %H:%M}",
            r.outcome,
        )
        for r in JobRun.objects.order_by("scheduled_for", "job")
    ]


def test_a_period_belongs_to_the_latest_scheduled_time_at_or_before_now() -> None:
    quarter = Job("q", "*/15 * * * *", "每 15 分钟", "builtins.int")
    assert quarter.due(at("2026-12-03 10:15")) == at("2026-12-03 10:15")
    assert quarter.due(at("2026-12-03 10:29")) == at("2026-12-03 10:15")
    nightly = Job("n", "5 0 * * *", "每天", "builtins.int")
    # Cron reads Beijing time: 00:04 in Heshan is still yesterday's period.
    assert nightly.due(at("2026-12-03 00:04")) == at("2026-12-02 00:05")
    assert nightly.due(dt.datetime(2026, 12, 2, 16, 5, tzinfo=dt.UTC)) == at("2026-12-03 00:05")
    assert nightly.next_after(at("2026-12-03 00:05")) == at("2026-12-04 00:05")
    assert nightly.periods_between(at("2026-11-28 00:05"), at("2026-12-03 00:05")) == 4


def test_a_bad_cron_expression_is_refused_when_the_schedule_is_declared() -> None:
    with pytest.raises(ValueError, match="bad cron expression"):
        Job("broken", "61 * * * *", "坏的", "builtins.int")


def test_each_job_runs_once_per_period_however_often_the_scheduler_looks() -> None:
    calls: list[str] = []
    clock = FakeClock(at("2026-12-03 10:00"))
    scheduler = Scheduler(
        [
            Job("quarter", "*/15 * * * *", "每 15 分钟", counting(calls, "quarter")),
            Job("hourly", "0 * * * *", "每小时", counting(calls, "hourly")),
        ],
        clock=clock,
        worker="w1",
    )
    assert scheduler.tick() == [("quarter", "succeeded"), ("hourly", "succeeded")]
    for minute in ("10:01", "10:14", "10:14"):
        clock.set(f"2026-12-03 {minute}")
        assert scheduler.tick() == []
    clock.set("2026-12-03 10:15")
    assert scheduler.tick() == [("quarter", "succeeded")]
    clock.set("2026-12-03 11:00")
    assert scheduler.tick() == [("quarter", "succeeded"), ("hourly", "succeeded")]
    assert calls == ["quarter", "hourly", "quarter", "quarter", "hourly"]
    assert runs() == [
        ("hourly", "12-03 10:00", "succeeded"),
        ("quarter", "12-03 10:00", "succeeded"),
        ("quarter", "12-03 10:15", "succeeded"),
        ("hourly", "12-03 11:00", "succeeded"),
        ("quarter", "12-03 11:00", "succeeded"),
    ]
    first = JobRun.objects.get(job="quarter", scheduled_for=at("2026-12-03 10:00"))
    assert (first.summary, first.count, first.missed, first.attempts, first.worker) == (
        "处理 1 条",
        1,
        0,
        1,
        "w1",
    )
    assert first.started_at == first.finished_at == at("2026-12-03 10:00")


def test_a_run_missed_while_the_machine_was_down_is_caught_up_once() -> None:
    calls: list[str] = []
    clock = FakeClock(at("2026-11-28 03:30"))
    scheduler = Scheduler(
        [Job("nightly", "30 3 * * *", "每天 03:30", counting(calls, "nightly"))], clock=clock
    )
    scheduler.tick()
    # Down from the 28th after the run until the 3rd at 10:00: five 03:30s passed.
    clock.set("2026-12-03 10:00")
    assert scheduler.tick() == [("nightly", "succeeded")]
    clock.set("2026-12-03 10:01")
    assert scheduler.tick() == []
    clock.set("2026-12-04 03:29")
    assert scheduler.tick() == []
    assert calls == ["nightly", "nightly"]
    assert runs() == [
        ("nightly", "11-28 03:30", "succeeded"),
        ("nightly", "12-03 03:30", "succeeded"),
    ]
    caught_up = JobRun.objects.get(scheduled_for=at("2026-12-03 03:30"))
    assert (caught_up.missed, caught_up.started_at) == (4, at("2026-12-03 10:00"))


def test_a_failing_job_is_recorded_in_chinese_with_personal_data_masked_and_the_others_run() -> (
    None
):
    calls: list[str] = []

    def broken() -> None:
        raise ValueError("学生 13812345678（440784200001011234）的记录无效")

    clock = FakeClock(at("2026-12-03 10:00"))
    scheduler = Scheduler(
        [
            Job("broken", "0 * * * *", "坏任务", broken),
            Job("fine", "0 * * * *", "好任务", counting(calls, "fine", 3)),
        ],
        clock=clock,
    )
    assert scheduler.tick() == [("broken", "failed"), ("fine", "succeeded")]
    failed = JobRun.objects.get(job="broken")
    assert (
        failed.error == "执行失败（ValueError）：学生 138****5678（440784********1234）的记录无效"
    )
    assert (failed.outcome, failed.summary, failed.count) == ("failed", "", None)
    assert failed.finished_at == at("2026-12-03 10:00")
    assert JobRun.objects.get(job="fine").summary == "处理 3 条"
    # A failed period is not retried in the same period; the next period runs again.
    assert scheduler.tick() == []
    clock.set("2026-12-03 11:00")
    assert scheduler.tick() == [("broken", "failed"), ("fine", "succeeded")]


def test_a_run_whose_worker_died_is_taken_over_after_its_lease_and_the_late_write_is_ignored() -> (
    None
):
    calls: list[str] = []
    job = Job("nightly", "30 3 * * *", "每天", counting(calls, "nightly", 7))
    lease = dt.timedelta(minutes=5)
    dead = job_claim(job=job, now=at("2026-12-03 03:30"), worker="dead", lease=lease)
    assert dead is not None
    # Within the lease another scheduler leaves it alone.
    assert job_claim(job=job, now=at("2026-12-03 03:34"), worker="w2", lease=lease) is None
    clock = FakeClock(at("2026-12-03 03:36"))
    assert Scheduler([job], clock=clock, worker="w2", lease=lease).tick() == [
        ("nightly", "succeeded")
    ]
    run = JobRun.objects.get()
    assert (run.outcome, run.attempts, run.worker, run.summary) == (
        "succeeded",
        2,
        "w2",
        "处理 7 条",
    )
    # The first worker was only slow: its result arrives after the takeover and is dropped.
    job_run(claim=dead, clock=FakeClock(at("2026-12-03 03:40")))
    run.refresh_from_db()
    assert (run.outcome, run.worker, run.finished_at) == ("succeeded", "w2", at("2026-12-03 03:36"))
    assert calls == ["nightly", "nightly"]


def test_an_older_run_left_running_by_a_dead_worker_is_closed_as_interrupted() -> None:
    job = Job("hourly", "0 * * * *", "每小时", counting([], "hourly"))
    assert job_claim(job=job, now=at("2026-12-03 10:00"), worker="dead") is not None
    Scheduler([job], clock=FakeClock(at("2026-12-03 11:00"))).tick()
    assert runs() == [
        ("hourly", "12-03 10:00", "interrupted"),
        ("hourly", "12-03 11:00", "succeeded"),
    ]
    assert JobRun.objects.get(outcome="interrupted").error.startswith("执行中断")


def test_every_job_of_the_schedule_runs_on_an_empty_database_and_says_what_it_did() -> None:
    clock = FakeClock(at("2026-12-03 10:00"))
    ran = Scheduler(SCHEDULE, clock=clock).tick()
    assert ran == [(job.name, "succeeded") for job in SCHEDULE]
    summaries = dict(JobRun.objects.values_list("job", "summary"))
    assert summaries["expire_postings"] == "过期岗位 0 个"
    assert summaries["purge_import_files"] == "上传文件 0 个，拒绝行文件 0 个，孤立文件 0 个"
    assert summaries["purge_exports"] == "过期文件 0 个，中断的导出 0 个，孤立文件 0 个"
    assert summaries["purge_card_materials"] == "主卡材料 0 份，家属卡材料 0 份，涉及 0 张卡"
    assert summaries["purge_subsidy_materials"] == "删除材料 0 个，涉及申请 0 件"
    assert summaries["purge_video_recordings"] == "删除录像 0 个，文件 0 个"
    assert summaries["recompute_recommendations"].startswith(
        "学生 0 人，岗位 0 个，推荐 0 条，推荐人才 0 条，用时 "
    )
    assert schedule_check() == []


def test_the_system_check_reports_a_job_that_does_not_import(monkeypatch: Any) -> None:
    from qinghe.scheduler import schedule

    monkeypatch.setattr(
        schedule,
        "SCHEDULE",
        (
            Job("gone", "0 * * * *", "不存在", "qinghe.nowhere.service"),
            Job("twice", "0 * * * *", "一", "builtins.int"),
            Job("twice", "0 * * * *", "二", "builtins.int"),
        ),
    )
    assert [(e.id, e.msg.split("：")[0]) for e in schedule_check()] == [
        ("scheduler.E002", "定时任务 gone 无法导入"),
        ("scheduler.E001", "定时任务 twice 重复声明"),
    ]


def test_run_scheduler_once_runs_what_is_due_and_list_prints_the_schedule(capsys: Any) -> None:
    call_command("run_scheduler", "--once")
    out = capsys.readouterr().out
    assert out.splitlines() == [f"{job.name}: 成功" for job in SCHEDULE]
    call_command("run_scheduler", "--once")
    assert capsys.readouterr().out == ""
    call_command("run_scheduler", "--list")
    listed = capsys.readouterr().out.splitlines()
    assert [line.split()[0] for line in listed] == [job.name for job in SCHEDULE]
