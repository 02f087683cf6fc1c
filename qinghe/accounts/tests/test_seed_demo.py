from __future__ import annotations

import io
import re

import pytest
from django.core.management import call_command

from qinghe.accounts.demo import DEMO_PASSWORD, PERSONAS
from qinghe.accounts.models import User
from qinghe.talents.models import Talent

pytestmark = pytest.mark.django_db


def _seed(scale: int) -> str:
    out = io.StringIO()
    call_command("seed_demo", "--scale", str(scale), "--seed", "7", stdout=out)
    return out.getvalue()


def test_seed_demo_prints_every_account_and_running_it_twice_creates_no_duplicates(
    settings, tmp_path
) -> None:
    settings.MEDIA_ROOT = str(tmp_path)
    call_command("load_reference", stdout=io.StringIO())
    first = _seed(200)
    counts = (User.objects.count(), Talent.objects.count())
    second = _seed(200)
    assert (User.objects.count(), Talent.objects.count()) == counts
    for output in (first, second):
        lines = [line for line in output.splitlines() if line.startswith("demo account:")]
        assert lines == [
            f"demo account: role={p.role} username={p.username} password={DEMO_PASSWORD}"
            for p in PERSONAS
        ]
    summary = re.search(
        r"rows=200 created=(\d+) updated=(\d+) unchanged=(\d+) rejected=(\d+)", first
    )
    assert summary is not None
    assert sum(int(n) for n in summary.groups()) == 200
    assert "demo talents: already imported" in second
    assert Talent.objects.filter(status__in=["studying", "graduating"]).exists()


def test_every_printed_account_can_sign_in(client, settings, tmp_path) -> None:
    settings.MEDIA_ROOT = str(tmp_path)
    call_command("load_reference", stdout=io.StringIO())
    output = _seed(50)
    for role, username, password in re.findall(
        r"demo account: role=(\S+) username=(\S+) password=(\S+)", output
    ):
        client.logout()
        response = client.post("/accounts/login/", {"username": username, "password": password})
        assert response.status_code == 302, username
        assert client.get("/workbench/").context["user"].role == role
