from __future__ import annotations

import io
import re
from typing import Any

import pytest
from django.core.management import call_command
from django.template.defaultfilters import floatformat
from django.test import Client

from qinghe.accounts.demo import DEMO_PASSWORD, PERSONAS
from qinghe.accounts.models import User
from qinghe.enterprises.models import Enterprise
from qinghe.jobs.models import Posting
from qinghe.matching.models import Candidate, PostingFairness, Recommendation
from qinghe.reference.models import MajorCategory, University
from qinghe.talents.demo import DEMO_SOURCE, INCOMER_SOURCE
from qinghe.talents.models import Consent, Destination, Education, ImportBatch, Talent
from qinghe.talents.surveygen import (
    School,
    levels_offered,
    majors_for,
    vocational_major_category,
)

pytestmark = pytest.mark.django_db


def _seed(scale: int) -> str:
    out = io.StringIO()
    call_command("seed_demo", "--scale", str(scale), "--seed", "7", stdout=out)
    return out.getvalue()


def _counts() -> dict[str, int]:
    return {
        model.__name__: model.objects.count()
        for model in (
            User,
            Talent,
            Education,
            Destination,
            Consent,
            ImportBatch,
            Enterprise,
            Posting,
            Recommendation,
            Candidate,
            PostingFairness,
        )
    }


def test_seed_demo_prints_every_account_and_running_it_twice_creates_no_duplicates(
    settings, tmp_path
) -> None:
    settings.MEDIA_ROOT = str(tmp_path)
    call_command("load_reference", stdout=io.StringIO())
    first = _seed(200)
    counts = _counts()
    second = _seed(200)
    assert _counts() == counts
    for output in (first, second):
        lines = [line for line in output.splitlines() if line.startswith("demo account:")]
        assert lines == [
            f"demo account: role={p.role} username={p.username} password={DEMO_PASSWORD}"
            for p in PERSONAS
        ]
    summaries = re.findall(
        r"rows=(\d+) created=(\d+) updated=(\d+) unchanged=(\d+) rejected=(\d+)", first
    )
    # The survey of 200 natives and the roster of 25 incomers, every row accounted for.
    assert [(int(s[0]), sum(int(n) for n in s[1:])) for s in summaries] == [(200, 200), (25, 25)]
    assert second.count("demo talents: already imported") == 2
    assert Talent.objects.filter(status__in=["studying", "graduating"]).exists()


def _school(university: University) -> School:
    return School(
        name=university.name,
        province=university.province,
        city=university.city,
        school_type=university.school_type,
        education_type=university.education_type,
        is_985_211=university.is_985 or university.is_211,
        is_double_first_class=university.is_double_first_class,
    )


def test_the_demo_looks_like_heshan_and_the_fairness_page_compares_two_real_groups(
    settings, tmp_path, client_as: Any
) -> None:
    settings.MEDIA_ROOT = str(tmp_path)
    call_command("load_reference", stdout=io.StringIO())
    _seed(200)

    # No programme at a level its school does not offer (广东以色列理工学院 · 专科 was one),
    # and every major exists and fits the school.
    vocational_codes = set(
        MajorCategory.objects.filter(kind="vocational").values_list("code", flat=True)
    )
    wrong_level, wrong_major = [], []
    educations = list(Education.objects.select_related("university", "major"))
    assert len(educations) > 200
    for e in educations:
        assert e.university is not None, e.university_name
        school = _school(e.university)
        if e.level not in levels_offered(school):
            wrong_level.append((school.name, e.level))
        allowed = majors_for(school)
        if e.level == "junior":
            # Vocational majors are free text under a 专业大类 of the reference catalog.
            fits = (
                e.major_name in allowed
                and vocational_major_category(e.major_name) in vocational_codes
            )
        else:
            fits = e.major is not None and e.major.name == e.major_name and e.major_name in allowed
        if not fits:
            wrong_major.append((school.name, e.major_name, e.level))
    assert wrong_level == []
    assert wrong_major == []

    # Every surveyed native is a native, every incomer on the roster is not (the student
    # persona's own record, created by hand, carries no evidence either way; the alliance demo
    # gives surveyed members a sign-in-less account, which leaves them surveyed).
    surveyed = Talent.objects.exclude(user__username__in=[p.username for p in PERSONAS])
    natives = surveyed.exclude(native_evidence=Talent.Evidence.NONE)
    incomers = surveyed.filter(native_evidence=Talent.Evidence.NONE)
    batches = dict(ImportBatch.objects.values_list("source_name", "created"))
    assert natives.count() == batches[DEMO_SOURCE] > 150
    assert incomers.count() == batches[INCOMER_SOURCE] > 20
    # Both groups get recommendations.
    assert Recommendation.objects.filter(talent__in=natives).exists()
    assert Recommendation.objects.filter(talent__in=incomers).exists()
    # Incomers work or intern in Heshan.
    assert set(
        Destination.objects.filter(talent__in=incomers, kind="employed").values_list(
            "area", flat=True
        )
    ) == {"heshan"}

    # The fairness page shows both groups with the figures stored for every posting.
    rows = list(PostingFairness.objects.all())
    pool = sum(r.pool for r in rows)
    top = sum(r.top for r in rows)
    pool_natives = sum(r.pool_natives for r in rows)
    top_natives = sum(r.top_natives for r in rows)
    without = sum(r.top_natives_without_boost for r in rows)
    assert 0 < pool_natives < pool and 0 < top_natives < top
    assert without <= top_natives  # the boost only ever adds natives
    response = client_as("hr_staff").get("/matching/fairness/")
    summary = response.context["summary"]
    assert summary["postings"] == len(rows)
    assert summary["pool_native"] == pytest.approx(100 * pool_natives / pool)
    assert summary["top_native"] == pytest.approx(100 * top_natives / top)
    assert summary["top_native_without_boost"] == pytest.approx(100 * without / top)
    page = response.content.decode()
    shown = f"{floatformat(summary['pool_native'], 0)}% → {floatformat(summary['top_native'], 0)}%"
    assert shown in page and "100% → 100%" not in page
    assert f"不加分时 {floatformat(summary['top_native_without_boost'], 0)}%" in page
    # Every posting's figures cover the four groups, and the overall table shows them.
    assert all(set(r.groups) == {"native", "dfc", "woman", "junior"} for r in rows)
    assert [g.verdict.label for g in summary["groups"]] == ["鹤山籍", "双一流", "女性", "专科"]
    assert sum(r.groups["native"]["pool"] for r in rows) == pool_natives
    assert 0 < sum(r.groups["woman"]["pool"] for r in rows) < pool
    assert 'data-testid="fairness-groups"' in page


def test_every_printed_account_can_sign_in(client: Client, settings, tmp_path) -> None:
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


def test_demo_accounts_share_one_hash_of_the_demo_password() -> None:
    from qinghe.accounts.demo import demo_password_hash, personas_ensure

    users = personas_ensure()
    assert {u.password for u in users.values()} == {demo_password_hash()}
    assert all(u.check_password(DEMO_PASSWORD) for u in users.values())
    assert not any(u.check_password("Qinghe-demo-2025") for u in users.values())
