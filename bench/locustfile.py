"""Locust users for `make loadtest` (bench/loadtest.py starts the stack and runs this file).

Run alone against a running stack (`python scripts/prodstack.py NAME`):
    REQUESTS_CA_BUNDLE=/tmp/.../tls/fullchain.pem locust -f bench/locustfile.py \\
        --host https://localhost:PORT Student Enterprise Staff

Students (weight 70) browse 为你推荐, search jobs and open a posting, each simulated student on
its own account (the 200 that loadtest.py prepares and signs in); the demo enterprise's HR
(15) reviews its applicants and its postings; staff (15) filter the talent list and open the
plan board, each staff user on its own account with its own TOTP code. `BareView` is the
yardstick: a bare Django view (`/healthz`, one SELECT 1) through the same nginx and workers.
Every page is checked for its status and a piece of its content: a page without it is an error.
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import os
import random
import re
import struct
import time
from typing import Any

import gevent
from _shared import SEARCH_WORDS  # bench/ is on the path: locust adds the locustfile's folder
from gevent.lock import Semaphore
from locust import HttpUser, between, events, task

PASSWORD = os.environ.get("LOAD_PASSWORD", "Qinghe-demo-2026")
STAFF_KEY = bytes.fromhex(
    os.environ.get("LOAD_STAFF_KEY", "3132333435363738393031323334353637383930")
)
STAFF_ACCOUNTS = int(os.environ.get("LOAD_STAFF_ACCOUNTS", "20"))
_staff_numbers = itertools.count()
POSTING_LINK = re.compile(r'href="/jobs/(\d+)/"')


def totp(key: bytes, step: int = 30, digits: int = 6) -> str:
    """RFC 6238 (SHA-1, 30 s, 6 digits), what django-otp checks and an authenticator app shows."""
    counter = struct.pack(">Q", int(time.time()) // step)
    digest = hmac.new(key, counter, hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    code = (struct.unpack(">I", digest[offset : offset + 4])[0] & 0x7FFFFFFF) % 10**digits
    return f"{code:0{digits}d}"


REQUEST_LOG = os.environ.get("LOAD_REQUEST_LOG", "")
if REQUEST_LOG:
    # bench/loadtest.py --trace: every request's start (Unix time), name, time and outcome, one
    # line each, for the per-second series of bench/latency_trace.py.
    _log = open(REQUEST_LOG, "a", encoding="utf-8", buffering=1)  # noqa: SIM115 - open for the run

    @events.request.add_listener
    def _log_request(
        name: str, response_time: float, exception: Any = None, start_time: float = 0.0, **_: Any
    ) -> None:
        _log.write(f"{start_time:.3f}\t{name}\t{response_time:.1f}\t{int(exception is not None)}\n")


WARM_UP_SECONDS = float(os.environ.get("LOAD_WARM_UP_SECONDS", "0") or 0)


@events.test_start.add_listener
def _measure_after_warm_up(environment: Any, **_: Any) -> None:
    """bench/loadtest.py --warm-up: after LOAD_WARM_UP_SECONDS of the mix, what was measured so
    far goes to LOAD_WARM_UP_REPORT (the cold start, printed apart), the statistics start
    again (the CSV covers the measured seconds only), and LOAD_MEASURE_MARK is touched: the
    load test starts the import then."""
    if WARM_UP_SECONDS <= 0:
        return

    def later() -> None:
        gevent.sleep(WARM_UP_SECONDS)
        stats = environment.runner.stats
        report = {
            name: {
                "requests": entry.num_requests,
                "failures": entry.num_failures,
                "p50": entry.get_response_time_percentile(0.5),
                "p99": entry.get_response_time_percentile(0.99),
                "max": entry.max_response_time,
            }
            for (name, _method), entry in stats.entries.items()
            if entry.num_requests
        }
        with open(os.environ["LOAD_WARM_UP_REPORT"], "w", encoding="utf-8") as handle:
            json.dump(report, handle, ensure_ascii=False)
        stats.reset_all()
        with open(os.environ["LOAD_MEASURE_MARK"], "w", encoding="utf-8"):
            pass

    gevent.spawn(later)


_sessions: dict[str, dict[str, str]] = {}
_signing_in: dict[str, Semaphore] = {}


def trust(user: HttpUser) -> None:
    """The stack's self-signed certificate (loadtest.py passes its path): verified, not ignored."""
    if os.environ.get("REQUESTS_CA_BUNDLE"):
        user.client.verify = os.environ["REQUESTS_CA_BUNDLE"]


class SignedIn(HttpUser):
    abstract = True
    wait_time = between(0.5, 2)
    username = ""

    def csrf(self) -> str:
        return str(self.client.cookies.get("__Host-qinghe-csrf", ""))

    def post_form(
        self, path: str, data: dict[str, str], name: str, lands_on: tuple[str, ...]
    ) -> str:
        """Posts a form; a failure unless the redirects end on one of ``lands_on``."""
        with self.client.post(
            path,
            data={**data, "csrfmiddlewaretoken": self.csrf()},
            headers={"Referer": f"{self.host}{path}"},
            name=name,
            catch_response=True,
        ) as response:
            if response.ok and any(part in response.url for part in lands_on):
                response.success()
            else:
                response.failure(f"{self.username}: {response.status_code} at {response.url}")
            return str(response.url)

    def shared_sign_in(self, extra: Any = None) -> None:
        """One sign-in per account, its cookies shared by every simulated user of it: Argon2
        makes a sign-in cost about a second of CPU here, which is not what the pages cost."""
        trust(self)
        with _signing_in.setdefault(self.username, Semaphore()):
            if self.username not in _sessions:
                self.sign_in()
                if extra is not None:
                    extra()
                _sessions[self.username] = self.client.cookies.get_dict()
        for name, value in _sessions[self.username].items():
            self.client.cookies.set(name, value)

    def sign_in(self) -> None:
        trust(self)
        self.client.get("/accounts/login/", name="sign-in")
        self.post_form(
            "/accounts/login/",
            {"username": self.username, "password": PASSWORD},
            "sign-in",
            ("/workbench/", "/2fa/"),
        )

    def page(self, path: str, name: str, must_contain: str, also: str = "") -> Any:
        with self.client.get(path, name=name, catch_response=True) as response:
            if response.status_code != 200:
                response.failure(f"{response.status_code}")
            elif must_contain not in response.text or also not in response.text:
                response.failure(
                    f"{self.username}: missing {must_contain!r} or {also!r} (at {response.url})"
                )
            else:
                response.success()
            return response


_student_numbers = itertools.count()


def student_sessions() -> tuple[str, dict[str, str]]:
    """loadtest.py signs its 200 students in before the mix and names the file of their
    session cookies in LOAD_STUDENT_SESSIONS; without it, every student is the demo 学子."""
    path = os.environ.get("LOAD_STUDENT_SESSIONS", "")
    if not path:
        return "", {}
    with open(path, encoding="utf-8") as handle:
        data = json.load(handle)
    return str(data["cookie"]), dict(data["sessions"])


STUDENT_COOKIE, STUDENT_SESSIONS = student_sessions()


class Student(SignedIn):
    """Each simulated student on its own account (its own 为你推荐), while there are accounts."""

    weight = 70
    username = "xuezi"

    def on_start(self) -> None:
        self.postings: list[str] = []
        if STUDENT_SESSIONS:
            trust(self)
            names = sorted(STUDENT_SESSIONS)
            self.username = names[next(_student_numbers) % len(names)]
            self.client.cookies.set(STUDENT_COOKIE, STUDENT_SESSIONS[self.username])
        else:
            self.shared_sign_in()

    @task(3)
    def for_me(self) -> None:
        # A student of the load test has recommendations: the page lists postings.
        self.page("/matching/for-me/", "student 为你推荐", "为你推荐", also='href="/jobs/')

    @task(3)
    def search(self) -> None:
        response = self.page(f"/jobs/?q={random.choice(SEARCH_WORDS)}", "student 搜索岗位", "岗位")
        found = POSTING_LINK.findall(response.text or "")
        if found:
            self.postings = found[:20]

    @task(1)
    def posting(self) -> None:
        if self.postings:
            self.page(f"/jobs/{random.choice(self.postings)}/", "student 岗位详情", "岗位")


class Enterprise(SignedIn):
    weight = 15
    username = "qiye"

    def on_start(self) -> None:
        self.shared_sign_in()

    @task(3)
    def applicants(self) -> None:
        self.page("/jobs/mine/applicants/", "enterprise 应聘者", "应聘")

    @task(1)
    def my_postings(self) -> None:
        self.page("/jobs/mine/", "enterprise 我的岗位", "岗位")


class Staff(SignedIn):
    weight = 15

    def on_start(self) -> None:
        self.username = f"load_staff_{next(_staff_numbers) % 3}"
        self.shared_sign_in(self.totp)

    def totp(self) -> None:
        self.client.get("/accounts/2fa/verify/", name="sign-in TOTP")
        landed = self.post_form(
            "/accounts/2fa/verify/", {"token": totp(STAFF_KEY)}, "sign-in TOTP", ("/workbench/",)
        )
        if "/workbench/" not in landed:
            # this account's code of this 30 s step was used already (a rerun): the next one
            time.sleep(31 - int(time.time()) % 30)
            self.post_form(
                "/accounts/2fa/verify/",
                {"token": totp(STAFF_KEY)},
                "sign-in TOTP retry",
                ("/workbench/",),
            )

    @task(3)
    def talent_list(self) -> None:
        query = random.choice(
            [
                "",
                "?status=returned",
                f"?graduation_year={random.randint(2022, 2028)}",
                "?native_evidence=id_number",
                "?q=李",
            ]
        )
        self.page(f"/talents/{query}", "staff 人才库筛选", "人才")

    @task(1)
    def plan_board(self) -> None:
        self.page("/jobs/targets/", "staff 计划看板", "目标")


class BareView(HttpUser):
    wait_time = between(0.5, 2)

    def on_start(self) -> None:
        trust(self)

    @task
    def healthz(self) -> None:
        self.client.get("/healthz", name="bare /healthz")
