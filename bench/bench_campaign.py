"""Campaign benchmark: prints measured figures.

    .venv/bin/python bench/bench_campaign.py [--recipients 75000]

Builds a fresh database with N students (users with phones, talents, liaison consent granted)
and a saved segment holding all of them, then times
  1. queueing: ``campaign_queue`` (segment members -> consent/preferences -> bulk INSERT into
     the outbox, one transaction) — goal <= 10 s for 75,000;
  2. delivery: the ``deliver_outbox`` worker (a separate process, 8 sender threads) sending
     every message by SMS to a local fake Aliyun SendSms gateway — goal >= 500 messages/s;
and prints the campaign's delivery figures. SQLite runs on a temporary file; PostgreSQL runs
when BENCH_PG_URL is set (a temporary database is created on that server and dropped).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

GOAL_QUEUE_S = 10.0
GOAL_RATE = 500.0


def child(recipients: int, gateway_url: str) -> dict[str, object]:
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")
    django.setup()
    from django.core.management import call_command
    from django.db import connection

    call_command("migrate", verbosity=0)
    from qinghe.accounts.models import User
    from qinghe.notifications.models import OutboxMessage
    from qinghe.notifications.selectors import delivery_figures
    from qinghe.outreach.models import Campaign
    from qinghe.outreach.services import campaign_preview, campaign_queue
    from qinghe.talents.models import Consent, Segment, Talent

    t0 = time.perf_counter()
    staff = User.objects.create(username="bench-hr", role="hr_staff")
    users = [
        User(username=f"b{i:06d}", role="student", phone=f"13{i % 10}{i:08d}")
        for i in range(recipients)
    ]
    User.objects.bulk_create(users, batch_size=5000)
    ids = list(User.objects.filter(role="student").order_by("pk").values_list("pk", flat=True))
    Talent.objects.bulk_create(
        [Talent(name=f"学子{i}", user_id=u, graduation_year=2026) for i, u in enumerate(ids)],
        batch_size=5000,
    )
    talent_ids = list(Talent.objects.values_list("pk", flat=True))
    Consent.objects.bulk_create(
        [
            Consent(talent_id=t, purpose="liaison", granted=True, notice_version="2026-01")
            for t in talent_ids
        ],
        batch_size=5000,
    )
    segment = Segment.objects.create(name="全部学子", filters={}, owner=staff)
    campaign = Campaign.objects.create(
        kind="jobs",
        title="本周岗位推荐",
        body="鹤山企业本周新增 120 个岗位",
        segment=segment,
        channels=["sms"],
        created_by=staff,
        state="scheduled",
    )
    setup_s = time.perf_counter() - t0

    t = time.perf_counter()
    preview = campaign_preview(campaign=campaign)
    preview_s = time.perf_counter() - t
    t = time.perf_counter()
    queued = campaign_queue(campaign_id=campaign.pk)
    queue_s = time.perf_counter() - t
    connection.close()

    env = {
        **os.environ,
        "NOTIFY_SMS_BASE_URL": gateway_url,
        "NOTIFY_SMS_ACCESS_KEY_ID": "test-key",
        "NOTIFY_SMS_ACCESS_KEY_SECRET": "test-secret",
    }
    t = time.perf_counter()
    subprocess.run(
        [
            sys.executable,
            "manage.py",
            "deliver_outbox",
            "--until-empty",
            "--threads",
            "8",
            "--batch",
            "500",
            "--idle-sleep",
            "0.1",
        ],
        cwd=ROOT,
        env=env,
        check=True,
        stdout=subprocess.DEVNULL,
    )
    deliver_s = time.perf_counter() - t
    figures = delivery_figures(campaign_ids=[campaign.pk])[campaign.pk]
    return {
        "setup_s": setup_s,
        "preview_s": preview_s,
        "preview": preview["counts"],
        "queued": queued,
        "queue_s": queue_s,
        "deliver_s": deliver_s,
        "figures": figures,
        "outbox_rows": OutboxMessage.objects.count(),
    }


def run_engine(name: str, database_url: str, recipients: int) -> None:
    from qinghe.notifications.fakes import FakeAliyunSms

    with FakeAliyunSms() as gateway:
        gateway.keep_bodies = False
        env = {
            **os.environ,
            "DATABASE_URL": database_url,
            "DJANGO_SETTINGS_MODULE": "config.settings.test",
        }
        done = subprocess.run(
            [
                sys.executable,
                __file__,
                "--child",
                "--recipients",
                str(recipients),
                "--gateway",
                gateway.url,
            ],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
        )
        if done.returncode != 0:
            print(f"{name}: FAILED\n{done.stderr[-3000:]}")
            return
        r = json.loads(done.stdout.strip().splitlines()[-1])
        rate = r["figures"]["sent"] / r["deliver_s"] if r["deliver_s"] else 0.0
        print(
            f"{name}: {recipients:,} recipients (setup {r['setup_s']:.1f} s, preview {r['preview_s']:.2f} s -> {r['preview']})"
        )
        print(
            f"{name}: queued {r['queued']:,} messages in {r['queue_s']:.2f} s  (goal <= {GOAL_QUEUE_S:.0f} s: {'met' if r['queue_s'] <= GOAL_QUEUE_S else 'MISSED'})"
        )
        print(
            f"{name}: delivered {r['figures']['sent']:,} in {r['deliver_s']:.1f} s = {rate:,.0f} messages/s  (goal >= {GOAL_RATE:.0f}/s: {'met' if rate >= GOAL_RATE else 'MISSED'})"
        )
        print(
            f"{name}: gateway accepted {len(gateway.deliveries):,} distinct keys from {gateway.posts:,} requests ({gateway.duplicates} duplicates)"
        )
        print(f"{name}: campaign figures {r['figures']}")


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--recipients", type=int, default=75_000)
    parser.add_argument("--child", action="store_true")
    parser.add_argument("--gateway", default="")
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.recipients, args.gateway)))
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        run_engine("sqlite", f"sqlite:///{tmp}/bench.sqlite3", args.recipients)
    pg = os.environ.get("BENCH_PG_URL")
    if not pg:
        print("postgresql: skipped (set BENCH_PG_URL)")
        return 0
    import psycopg

    name = f"qinghe_bench_campaign_{os.getpid()}"
    parts = urlsplit(pg)
    admin = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        run_engine("postgresql", urlunsplit(parts._replace(path=f"/{name}")), args.recipients)
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
