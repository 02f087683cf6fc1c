"""The matching pages and API: who reaches what, enterprise A against enterprise B, consent
and masking as the people concerned see them."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.test import Client

from qinghe.accounts.models import User
from qinghe.core.models import AuditLog
from qinghe.core.roles import Role
from qinghe.matching.models import (
    Invitation,
    MajorOccupation,
    MatchingProfile,
    PostingOccupation,
    Recommendation,
    TagSource,
)
from qinghe.matching.services.recompute import recommendations_recompute_all
from qinghe.talents.models import Consent

from .conftest import Matching, add_talent

pytestmark = pytest.mark.django_db


def login(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_a_student_without_a_record_is_told_to_claim_it(client_as: Any) -> None:
    response = client_as(Role.STUDENT).get("/matching/for-me/")
    assert response.status_code == 200
    assert b'data-testid="need-claim"' in response.content


def test_a_student_without_consent_is_told_how_to_enable_matching(
    world: Any, occupations: None
) -> None:
    add_talent(name="李晓彤", major=world.ref.software_eng, user=world.x, consent=False)
    response = login(world.x).get("/matching/for-me/")
    assert b'data-testid="need-consent"' in response.content
    assert "前往授权管理开启" in response.content.decode()
    assert not Recommendation.objects.exists()


def test_a_consenting_student_sees_recommendations_with_reasons(matching: Matching) -> None:
    w = matching.world
    # The first visit computes them (immediately here: the test task backend runs at once).
    response = login(w.x).get("/matching/for-me/")
    page = response.content.decode()
    assert response.status_code == 200
    assert "软件开发工程师" in page
    assert "专业对口：软件工程 → " in page
    assert "鹤山籍优先：+3 分（上限 5 分，公开规则）" in page
    assert MatchingProfile.objects.get(talent=matching.x).recommended_at is not None
    api = login(w.x).get("/api/v1/matching/for-me").json()
    assert api["state"] == "ok"
    assert api["items"][0]["title"] == "软件开发工程师"
    assert any(r["criterion"] == "native" for r in api["items"][0]["reasons"])


def test_preferences_are_saved_by_the_student(matching: Matching) -> None:
    w = matching.world
    client = login(w.x)
    assert client.get("/matching/for-me/preferences/").status_code == 200
    response = client.post(
        "/matching/for-me/preferences/",
        {"towns": [w.ref.gonghe.pk], "expected_salary": "7000", "skills": "Python"},
    )
    assert response.status_code == 302
    profile = MatchingProfile.objects.get(talent=matching.x)
    assert profile.expected_salary == 7000 and profile.skills == "Python"
    assert list(profile.preferred_towns.all()) == [w.ref.gonghe]


def test_enterprise_a_sees_masked_candidates_of_its_own_posting_only(matching: Matching) -> None:
    w = matching.world
    recommendations_recompute_all()
    hr_a, hr_b = login(w.hr_a), login(w.hr_b)
    page = hr_a.get(f"/matching/postings/{w.posting_a.pk}/talents/")
    assert page.status_code == 200
    text = page.content.decode()
    assert "李**" in text and "李晓彤" not in text
    assert "陈思远" not in text and "陈**" not in text  # Z never consented
    assert hr_a.get(f"/matching/postings/{w.posting_b.pk}/talents/").status_code == 404
    assert hr_b.get(f"/matching/postings/{w.posting_a.pk}/talents/").status_code == 404
    assert (
        hr_a.get(f"/api/v1/matching/postings/{w.posting_a.pk}/talents").json()[0]["name"] == "李**"
    )
    assert hr_b.get(f"/api/v1/matching/postings/{w.posting_a.pk}/talents").status_code == 404
    # B cannot invite for A's posting; nothing is written.
    response = hr_b.post(f"/matching/postings/{w.posting_a.pk}/talents/{matching.x.pk}/invite/")
    assert response.status_code == 404
    assert Invitation.objects.count() == 0
    assert "推荐人才" in hr_a.get("/matching/postings/mine/").content.decode()


def test_an_accepted_invitation_unmasks_the_student_for_that_enterprise(matching: Matching) -> None:
    w = matching.world
    recommendations_recompute_all()
    hr_a = login(w.hr_a)
    response = hr_a.post(
        f"/matching/postings/{w.posting_a.pk}/talents/{matching.x.pk}/invite/",
        {"message": "欢迎投递"},
    )
    assert response.status_code == 302
    invitation = Invitation.objects.get()
    student = login(w.x)
    assert "欢迎投递" in student.get("/matching/for-me/").content.decode()
    # Y cannot answer X's invitation.
    assert (
        login(w.y)
        .post(f"/matching/invitations/{invitation.pk}/respond/", {"accept": "1"})
        .status_code
        == 404
    )
    student.post(f"/matching/invitations/{invitation.pk}/respond/", {"accept": "1"})
    invitation.refresh_from_db()
    assert invitation.state == Invitation.State.ACCEPTED
    assert invitation.consent is not None
    assert invitation.consent.purpose == Consent.Purpose.SHARE_ENTERPRISE
    assert invitation.consent.enterprise_id == w.a.organisation_id
    assert "李晓彤" in hr_a.get(f"/matching/postings/{w.posting_a.pk}/talents/").content.decode()


@pytest.mark.parametrize(
    ("path", "allowed"),
    [
        ("/matching/gap/", {Role.HR_STAFF, Role.SYSADMIN, Role.LEAGUE_STAFF}),
        ("/matching/gap/export/", {Role.HR_STAFF, Role.SYSADMIN, Role.LEAGUE_STAFF}),
        ("/matching/fairness/", {Role.HR_STAFF, Role.SYSADMIN}),
        ("/matching/majors/", {Role.HR_STAFF, Role.SYSADMIN}),
        ("/matching/tags/", {Role.HR_STAFF, Role.SYSADMIN}),
        ("/matching/for-me/", {Role.STUDENT, Role.AMBASSADOR}),
        ("/matching/postings/mine/", {Role.ENTERPRISE_HR}),
        ("/api/v1/matching/gap", {Role.HR_STAFF, Role.SYSADMIN, Role.LEAGUE_STAFF}),
    ],
)
def test_matching_pages_are_open_to_exactly_these_roles(
    path: str, allowed: set[str], client_as: Any
) -> None:
    from qinghe.core.roles import ALL_ROLES

    let_in = {role for role in ALL_ROLES if client_as(role).get(path).status_code == 200}
    assert let_in == allowed


def test_the_classify_api_gives_probabilities_best_first(
    matching: Matching, client_as: Any
) -> None:
    client = client_as(Role.HR_STAFF)
    ranked = client.get("/api/v1/matching/classify", {"title": "做账会计", "k": 3}).json()
    assert [r["code"] for r in ranked][:1] == ["2-06-03-00"]
    assert ranked[0]["name"] == "会计专业人员"
    assert len(ranked) == 3
    scores = [r["score"] for r in ranked]
    assert scores == sorted(scores, reverse=True)
    assert 0.0 < sum(scores) <= 1.0 + 1e-3
    assert client.get("/api/v1/matching/classify", {"title": "  "}).json() == []
    assert client.get("/api/v1/matching/classify", {"title": "😀"}).json() == []
    from qinghe.core.roles import ALL_ROLES

    codes = {
        role: client_as(role).get("/api/v1/matching/classify", {"title": "会计"}).status_code
        for role in ALL_ROLES
    }
    assert {role for role, code in codes.items() if code == 200} == {
        Role.HR_STAFF,
        Role.SYSADMIN,
    }
    assert {code for role, code in codes.items() if code != 200} == {403}


def test_the_gap_page_draws_its_chart_and_the_export_is_audited(
    matching: Matching, client_as: Any
) -> None:
    recommendations_recompute_all()
    client = client_as(Role.HR_STAFF)
    page = client.get("/matching/gap/").content.decode()
    assert 'data-chart="gap-chart-categories"' in page
    assert 'id="gap-chart-categories" type="application/json"' in page
    assert "vendor/echarts/echarts.min.js" in page
    assert "<script>" not in page and "style=" not in page
    response = client.get("/matching/gap/export/")
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    assert AuditLog.objects.filter(action="export", target_type="matching.gap").count() == 1


def test_staff_correct_a_postings_occupation_and_edit_a_majors_list(
    matching: Matching, client_as: Any
) -> None:
    w = matching.world
    client = client_as(Role.HR_STAFF)
    page = client.get(f"/matching/tags/{w.posting_b.pk}/?q=机械设计").content.decode()
    assert "2-02-07-01" in page
    # The automatic tags show their shares as percentages that add up to about 100.
    shares = [
        int(x) for x in re.findall(r'title="模型给出的概率在前五项中的占比">(\d{1,3})%<', page)
    ]
    assert len(shares) == 5
    assert 97 <= sum(shares) <= 103
    client.post(f"/matching/tags/{w.posting_b.pk}/edit/", {"action": "add", "code": "2-02-07-01"})
    assert (
        PostingOccupation.objects.filter(posting=w.posting_b, source=TagSource.STAFF).count() == 1
    )
    # League staff read the gap analysis but correct nothing.
    league = client_as(Role.LEAGUE_STAFF)
    assert (
        league.post(
            f"/matching/tags/{w.posting_b.pk}/edit/", {"action": "add", "code": "2-06-03-00"}
        ).status_code
        == 403
    )
    assert (
        PostingOccupation.objects.filter(posting=w.posting_b, source=TagSource.STAFF).count() == 1
    )
    category = w.ref.computing
    assert (
        "计算机软件工程技术人员" in client.get(f"/matching/majors/{category.pk}/").content.decode()
    )
    client.post(f"/matching/majors/{category.pk}/edit/", {"action": "add", "code": "2-06-03-00"})
    assert MajorOccupation.objects.filter(
        category=category, occupation__code="2-06-03-00", source=TagSource.STAFF
    ).exists()
    assert (
        client.post(
            f"/matching/majors/{category.pk}/edit/", {"action": "remove", "link": "999999"}
        ).status_code
        == 404
    )


def test_the_fairness_page_states_the_public_rule(matching: Matching, client_as: Any) -> None:
    recommendations_recompute_all()
    page = client_as(Role.HR_STAFF).get("/matching/fairness/").content.decode()
    assert "合计不超过 5 分" in page
    assert "软件开发工程师" in page


def test_the_menu_offers_matching_to_the_right_people(client_as: Any) -> None:
    assert "为你推荐" in client_as(Role.STUDENT).get("/workbench/").content.decode()
    assert "推荐人才" in client_as(Role.ENTERPRISE_HR).get("/workbench/").content.decode()
    league = client_as(Role.LEAGUE_STAFF).get("/workbench/").content.decode()
    assert "紧缺人才分析" in league and "匹配管理" not in league
    assert "匹配管理" in client_as(Role.HR_STAFF).get("/workbench/").content.decode()
    # The staff sub-menu is for those who may open its pages.
    assert (
        'data-testid="matching-nav"'
        in client_as(Role.HR_STAFF).get("/matching/gap/").content.decode()
    )
    assert (
        'data-testid="matching-nav"'
        not in client_as(Role.LEAGUE_STAFF).get("/matching/gap/").content.decode()
    )
