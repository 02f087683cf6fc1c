"""Kill -9 the delivery worker in the middle of 10,000 messages, restart it: the fake SMS
gateway receives every message exactly once.

The worker runs as a real `manage.py deliver_outbox` process against a file SQLite database
(or the PostgreSQL database named by KILLTEST_DATABASE_URL, which this test migrates and fills:
point it at a scratch database)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from qinghe.notifications.fakes import FakeAliyunSms

ROOT = Path(__file__).resolve().parents[3]
COUNT = 10_000

SEED = f"""
from django.db import transaction
from qinghe.accounts.models import User
from qinghe.notifications.models import Category, Channel, OutboxMessage
from qinghe.notifications.services import notify_bulk
OutboxMessage.objects.all().delete()
User.objects.filter(username__startswith="kt").delete()
users = [User(username=f"kt{{i:05d}}", role="student", phone=f"139{{i:08d}}") for i in range({COUNT})]
User.objects.bulk_create(users, batch_size=2000)
ids = list(User.objects.filter(username__startswith="kt").values_list("pk", flat=True))
with transaction.atomic():
    notify_bulk(user_ids=ids, channels=[Channel.SMS], category=Category.SYSTEM, subject="年度信息确认", body="请登录青鹤确认你的信息", key="kill")
print(OutboxMessage.objects.filter(state="queued").count())
"""

REPORT = """
from qinghe.notifications.models import OutboxMessage
from django.db.models import Count
print(dict(OutboxMessage.objects.values_list("state").annotate(n=Count("id"))))
for key in OutboxMessage.objects.values_list("idempotency_key", flat=True):
    print(key)
"""


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


def test_a_worker_killed_mid_way_and_restarted_delivers_every_message_exactly_once(
    tmp_path: Path,
) -> None:
    database_url = (
        os.environ.get("KILLTEST_DATABASE_URL") or f"sqlite:///{tmp_path / 'outbox.sqlite3'}"
    )
    with FakeAliyunSms() as gateway:
        gateway.keep_bodies = False
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "config.settings.test",
            "DATABASE_URL": database_url,
            "NOTIFY_SMS_BASE_URL": gateway.url,
            "NOTIFY_SMS_ACCESS_KEY_ID": "test-key",
            "NOTIFY_SMS_ACCESS_KEY_SECRET": "test-secret",
        }
        _manage(env, "migrate", "-v0")
        assert _manage(env, "shell", "--no-imports", "-c", SEED).strip() == str(COUNT)
        worker_args = [
            sys.executable,
            "manage.py",
            "deliver_outbox",
            "--lease",
            "3",
            "--batch",
            "100",
            "--threads",
            "8",
            "--idle-sleep",
            "0.2",
        ]
        worker = subprocess.Popen(
            worker_args, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
        )
        deadline = time.monotonic() + 120
        while len(gateway.deliveries) < COUNT // 3 and time.monotonic() < deadline:
            assert worker.poll() is None, (
                worker.stderr.read().decode()[-2000:] if worker.stderr else ""
            )
            time.sleep(0.01)
        os.kill(worker.pid, signal.SIGKILL)
        worker.wait(timeout=10)
        at_kill = len(gateway.deliveries)
        assert 0 < at_kill < COUNT, at_kill

        restarted = subprocess.run(
            [*worker_args, "--until-empty"],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert restarted.returncode == 0, restarted.stderr[-2000:]

        lines = _manage(env, "shell", "--no-imports", "-c", REPORT).splitlines()
        states: dict[str, Any] = eval(lines[0])  # noqa: S307 - our own repr of a dict of counts
        keys = set(lines[1:])
        assert states == {"sent": COUNT}
        assert len(keys) == COUNT
        assert set(gateway.deliveries) == keys
        assert set(gateway.deliveries.values()) == {1}
        # Requests beyond COUNT are re-sends of messages the killed worker had in flight,
        # answered once by the gateway thanks to the idempotency key.
        assert gateway.posts == COUNT + gateway.duplicates
        print(f"killed after {at_kill} deliveries; {gateway.duplicates} re-sends deduplicated")
