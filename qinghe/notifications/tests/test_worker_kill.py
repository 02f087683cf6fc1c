"""Kill -9 the delivery worker, run two workers at once: a gateway that does NOT de-duplicate
(like Aliyun's SendSms) still receives every message exactly once.

The workers run as real `manage.py deliver_outbox` processes against a file SQLite database
(or the PostgreSQL database named by KILLTEST_DATABASE_URL, which these tests migrate and fill:
point it at a scratch database)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from qinghe.notifications.fakes import FakeAliyunSms

ROOT = Path(__file__).resolve().parents[3]

SEED = """
from django.db import transaction
from qinghe.accounts.models import User
from qinghe.notifications.models import Category, Channel, OutboxMessage
from qinghe.notifications.services import notify_bulk
OutboxMessage.objects.all().delete()
User.objects.filter(username__startswith="kt").delete()
users = [User(username=f"kt{{i:05d}}", role="student", phone=f"139{{i:08d}}") for i in range({count})]
User.objects.bulk_create(users, batch_size=2000)
ids = list(User.objects.filter(username__startswith="kt").values_list("pk", flat=True))
with transaction.atomic():
    notify_bulk(user_ids=ids, channels=[Channel.SMS], category=Category.SYSTEM, subject="年度信息确认", body="请登录青鹤确认你的信息", key="kill")
print(OutboxMessage.objects.filter(state="queued").count())
"""

REPORT = """
import json
from django.db.models import Count
from qinghe.notifications.models import OutboxMessage
states = dict(OutboxMessage.objects.values_list("state").annotate(n=Count("id")))
keys = list(OutboxMessage.objects.values_list("idempotency_key", flat=True))
try:
    from qinghe.notifications.models import DeliveryAttempt
    attempts = list(DeliveryAttempt.objects.order_by("id").values_list("idempotency_key", "outcome", "detail"))
except ImportError:
    attempts = []
print(json.dumps({"states": states, "keys": keys, "attempts": attempts}))
"""


def _environment(database_url: str, gateway: FakeAliyunSms) -> dict[str, str]:
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "DATABASE_URL": database_url,
        "NOTIFY_SMS_BASE_URL": gateway.url,
        "NOTIFY_SMS_ACCESS_KEY_ID": "test-key",
        "NOTIFY_SMS_ACCESS_KEY_SECRET": "test-secret",
        # An attempt without a recorded outcome is queried once it is this old.
        "NOTIFY_INFLIGHT_SECONDS": "2",
    }


def _manage(env: dict[str, str], *args: str, timeout: float = 120) -> str:
    done = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


def _seed(env: dict[str, str], count: int) -> None:
    _manage(env, "migrate", "-v0")
    seed = SEED.format(count=count)
    assert _manage(env, "shell", "--no-imports", "-c", seed).strip() == str(count)


def _report(env: dict[str, str]) -> dict[str, Any]:
    return json.loads(_manage(env, "shell", "--no-imports", "-c", REPORT).strip().splitlines()[-1])


def _database_url(tmp_path: Path) -> str:
    return os.environ.get("KILLTEST_DATABASE_URL") or f"sqlite:///{tmp_path / 'outbox.sqlite3'}"


def _worker(*options: str) -> list[str]:
    return [sys.executable, "manage.py", "deliver_outbox", "--idle-sleep", "0.1", *options]


def test_a_worker_killed_after_12_of_40_sends_and_restarted_sends_each_message_exactly_once(
    tmp_path: Path,
) -> None:
    count = 40
    with FakeAliyunSms() as gateway:
        env = _environment(_database_url(tmp_path), gateway)
        _seed(env, count)
        # The gateway takes the 12th message and never answers: the worker dies between
        # the provider's acceptance and saving the outcome.
        gateway.hold_after = 12
        worker = subprocess.Popen(
            _worker("--lease", "3", "--batch", "40", "--threads", "1"),
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        try:
            assert gateway.held.wait(timeout=60), "the worker never reached the 12th send"
        finally:
            os.kill(worker.pid, signal.SIGKILL)
            worker.wait(timeout=10)
            gateway.release.set()
        assert gateway.posts == 12

        restarted = subprocess.run(
            [*_worker("--lease", "3", "--batch", "40", "--threads", "1"), "--until-empty"],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=600,
        )
        assert restarted.returncode == 0, restarted.stderr[-2000:]

        report = _report(env)
        assert report["states"] == {"sent": count}
        keys = set(report["keys"])
        assert len(keys) == count
        assert gateway.posts == count
        assert set(gateway.deliveries) == keys
        assert set(gateway.deliveries.values()) == {1}
        # The 12th was in flight when the worker died: its outcome was unknown, and the
        # status query (not a second send) settled it.
        held_key = gateway.bodies[11]["OutId"]
        assert [a[1:] for a in report["attempts"] if a[0] == held_key] == [
            ["sent", "服务商状态查询：已送达"]
        ]
        assert gateway.queries == 1
        assert len(report["attempts"]) == count


def test_a_worker_killed_at_random_with_eight_threads_sends_each_message_exactly_once(
    tmp_path: Path,
) -> None:
    count = 300
    with FakeAliyunSms() as gateway:
        gateway.keep_bodies = False
        gateway.latency = 0.01
        env = _environment(_database_url(tmp_path), gateway)
        _seed(env, count)
        args = _worker("--lease", "3", "--batch", "50", "--threads", "8")
        worker = subprocess.Popen(
            args, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
        )
        deadline = time.monotonic() + 120
        while gateway.posts < count // 3 and time.monotonic() < deadline:
            assert worker.poll() is None, (
                worker.stderr.read().decode()[-2000:] if worker.stderr else ""
            )
            time.sleep(0.005)
        os.kill(worker.pid, signal.SIGKILL)
        worker.wait(timeout=10)
        at_kill = gateway.posts
        assert 0 < at_kill < count, at_kill

        restarted = subprocess.run(
            [*args, "--until-empty"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300
        )
        assert restarted.returncode == 0, restarted.stderr[-2000:]
        report = _report(env)
        assert report["states"] == {"sent": count}
        assert set(gateway.deliveries) == set(report["keys"])
        assert set(gateway.deliveries.values()) == {1}
        assert gateway.posts == count and gateway.duplicates == 0


def _two_workers(env: dict[str, str], *options: str) -> None:
    args = [*_worker(*options), "--until-empty"]
    workers = [
        subprocess.Popen(
            args, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
        )
        for _ in range(2)
    ]
    for worker in workers:
        _, err = worker.communicate(timeout=300)
        assert worker.returncode == 0, err[-2000:]


def test_two_workers_with_a_lease_shorter_than_their_batch_send_each_message_once(
    tmp_path: Path,
) -> None:
    """A 1 s lease, 0.1 s per send, batches of 40: a batch outlives its lease many times
    over, so only extending the lease before each send keeps the other worker off."""
    count = 40
    with FakeAliyunSms() as gateway:
        gateway.latency = 0.1
        env = _environment(_database_url(tmp_path), gateway)
        _seed(env, count)
        _two_workers(env, "--lease", "1", "--batch", "40", "--threads", "1")
        report = _report(env)
        assert report["states"] == {"sent": count}
        assert set(gateway.deliveries) == set(report["keys"])
        assert set(gateway.deliveries.values()) == {1}
        assert gateway.posts == count


def test_two_workers_with_a_send_slower_than_the_lease_send_each_message_once(
    tmp_path: Path,
) -> None:
    """Each send takes 1.5 s, the lease is 1 s: the other worker reclaims a message whose
    send is still under way, finds the open attempt in the ledger and does not send it."""
    count = 4
    with FakeAliyunSms() as gateway:
        gateway.latency = 1.5
        env = _environment(_database_url(tmp_path), gateway)
        _seed(env, count)
        _two_workers(env, "--lease", "1", "--batch", "4", "--threads", "1")
        report = _report(env)
        assert report["states"] == {"sent": count}
        assert set(gateway.deliveries) == set(report["keys"])
        assert set(gateway.deliveries.values()) == {1}
        assert gateway.posts == count
