"""Persisting recommendations both ways, the hooks for published and closed postings, staff
corrections, majors' occupations, invitations, consent, fairness, the gap analysis."""

from __future__ import annotations

import io
from typing import Any

import openpyxl
import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.utils import timezone

from qinghe.accounts.models import User
from qinghe.core.errors import NotFound
from qinghe.core.models import AuditLog
from qinghe.enterprises.tests.factories import make_posting
from qinghe.jobs.models import Posting
from qinghe.matching import selectors
from qinghe.matching.models import (
    Candidate,
    Invitation,
    MajorOccupation,
    MatchingProfile,
    PostingFairness,
    PostingOccupation,
    Recommendation,
    TagSource,
)
from qinghe.matching.services.gaps import gap_export
from qinghe.matching.services.invitations import invitation_respond, invitation_send
from qinghe.matching.services.majors import (
    major_occupation_add,
    major_occupation_move,
    major_occupation_remove,
    major_occupations_build,
)
from qinghe.matching.services.preferences import matching_profile_update
from qinghe.matching.services.recompute import (
    recommendations_on_posting_closed,
    recommendations_on_posting_published,
    recommendations_recompute_all,
    recommendations_refresh_talent,
)
from qinghe.matching.services.tags import posting_occupation_correct, postings_classify
from qinghe.talents.models import Consent, Talent
from qinghe.talents.services import consent_record

from .conftest import Matching, add_talent

pytestmark = pytest.mark.django_db


def rec_ids(talent: Talent) -> list[int]:
    return list(
        Recommendation.objects.filter(talent=talent)
        .order_by("-score")
        .values_list("posting_id", flat=True)
    )


def test_postings_are_tagged_with_occupations_in_the_catalogs_dashed_form(
    matching: Matching,
) -> None:
    tags = list(
        PostingOccupation.objects.filter(posting=matching.world.posting_a, source=TagSource.AUTO)
        .select_related("occupation")
        .order_by("rank")
    )
    assert [t.rank for t in tags] == [1, 2, 3, 4, 5]
    assert sum(t.score for t in tags) == pytest.approx(1.0, abs=1e-3)
    from qinghe.matching.fetch import posting_occupations

    weights = [
        x
        for _, _, x in posting_occupations([matching.world.posting_a.pk])[
            matching.world.posting_a.pk
        ]
    ]
    assert weights[0] == 1.0 and weights == sorted(weights, reverse=True)
    assert any(t.occupation.code.startswith("2-02-10-") for t in tags[:3])


def test_full_recompute_recommends_with_reasons_both_ways(matching: Matching) -> None:
    w = matching.world
    result = recommendations_recompute_all()
    # Three published, open postings (A's software job, B's mechanical design job and
    # nothing else); two consenting talents.
    assert (result.talents, result.postings) == (2, 2)
    assert rec_ids(matching.x)[0] == w.posting_a.pk
    best = Recommendation.objects.get(talent=matching.x, posting=w.posting_a)
    texts = [r["text"] for r in best.reasons]
    assert any(t.startswith("专业对口：软件工程 → ") for t in texts), texts
    assert "鹤山籍优先：+3 分（上限 5 分，公开规则）" in texts
    assert best.score == pytest.approx(sum(r["points"] for r in best.reasons), abs=0.01)
    # The other way: the software job's candidates, best first.
    candidates = list(Candidate.objects.filter(posting=w.posting_a).order_by("-score"))
    assert candidates[0].talent_id == matching.x.pk
    assert PostingFairness.objects.filter(posting=w.posting_a).get().pool == 2


def test_a_student_without_matching_consent_never_appears_in_recommended_talents(
    matching: Matching,
) -> None:
    w = matching.world
    recommendations_recompute_all()
    assert not Candidate.objects.filter(talent=matching.z).exists()
    assert not Recommendation.objects.filter(talent=matching.z).exists()
    shown = {c.talent_id for c in selectors.posting_candidates(posting=w.posting_a)}
    assert matching.x.pk in shown and matching.z.pk not in shown
    # X withdraws: gone from the list at once, before anything is recomputed.
    consent_record(talent=matching.x, purpose=Consent.Purpose.MATCHING, granted=False, actor=w.x)
    assert Candidate.objects.filter(talent=matching.x).exists()  # still stored...
    shown = {c.talent_id for c in selectors.posting_candidates(posting=w.posting_a)}
    assert matching.x.pk not in shown  # ...never shown
    with pytest.raises(NotFound):
        invitation_send(actor=w.hr_a, posting=w.posting_a, talent_id=matching.x.pk)
    assert Invitation.objects.count() == 0
    # And recomputing drops them for good.
    recommendations_refresh_talent(talent_id=matching.x.pk)
    assert not Candidate.objects.filter(talent=matching.x).exists()
    assert not Recommendation.objects.filter(talent=matching.x).exists()


def test_a_published_posting_joins_the_lists_without_a_full_rebuild(matching: Matching) -> None:
    w = matching.world
    recommendations_recompute_all()
    before = dict(Recommendation.objects.values_list("id", "computed_at"))
    new = make_posting(w.a, title="Python后端开发工程师", description="开发企业管理系统后端接口。")
    changed = recommendations_on_posting_published(new.pk)
    assert changed >= 1
    assert new.pk in rec_ids(matching.x)
    assert PostingOccupation.objects.filter(posting=new, source=TagSource.AUTO).exists()
    assert Candidate.objects.filter(posting=new, talent=matching.x).exists()
    assert PostingFairness.objects.filter(posting=new).exists()
    # Rows of other postings were not rewritten.
    after = dict(Recommendation.objects.exclude(posting=new).values_list("id", "computed_at"))
    assert after == {k: v for k, v in before.items() if k in after}
    assert set(after) == set(before)


def test_a_closed_posting_leaves_every_list_and_lists_are_refilled(matching: Matching) -> None:
    w = matching.world
    extra = make_posting(w.a, title="软件测试工程师", description="软件功能测试与自动化测试。")
    recommendations_recompute_all()
    assert w.posting_a.pk in rec_ids(matching.x)
    had_it = set(
        Recommendation.objects.filter(posting=w.posting_a).values_list("talent_id", flat=True)
    )
    Posting.objects.filter(pk=w.posting_a.pk).update(state=Posting.State.CLOSED)
    refilled = recommendations_on_posting_closed(w.posting_a.pk)
    assert refilled == len(had_it)
    assert w.posting_a.pk not in rec_ids(matching.x)
    assert extra.pk in rec_ids(matching.x)
    assert not Candidate.objects.filter(posting=w.posting_a).exists()
    assert not PostingFairness.objects.filter(posting=w.posting_a).exists()
    # Published again: back.
    Posting.objects.filter(pk=w.posting_a.pk).update(state=Posting.State.PUBLISHED)
    recommendations_on_posting_published(w.posting_a.pk)
    assert w.posting_a.pk in rec_ids(matching.x)


def test_a_talents_list_keeps_only_the_top_twenty(matching: Matching) -> None:
    w = matching.world
    for i in range(22):
        make_posting(w.a, title=f"软件开发工程师{i}", salary_max=9000 + i * 100)
    recommendations_recompute_all()
    assert Recommendation.objects.filter(talent=matching.x).count() == 20
    new = make_posting(w.a, title="软件开发工程师（高薪）", salary_max=30000)
    MatchingProfile.objects.filter(talent=matching.x).update(expected_salary=None)
    recommendations_on_posting_published(new.pk)
    assert Recommendation.objects.filter(talent=matching.x).count() == 20


def test_a_staff_correction_is_kept_when_the_posting_is_classified_again(
    matching: Matching,
) -> None:
    w = matching.world
    hr = User.objects.get(username="renshe")
    tag = posting_occupation_correct(actor=hr, posting=w.posting_b, code="2020701")
    assert tag.source == TagSource.STAFF and tag.corrected_by == hr and tag.corrected_at
    assert tag.occupation.code == "2-02-07-01"
    postings_classify(posting_ids=[w.posting_b.pk])
    postings_classify()
    staff = PostingOccupation.objects.filter(posting=w.posting_b, source=TagSource.STAFF)
    assert [t.occupation.code for t in staff] == ["2-02-07-01"]
    # Matching uses the staff tag alone while there is one.
    from qinghe.matching.fetch import posting_occupations

    assert posting_occupations([w.posting_b.pk])[w.posting_b.pk] == (
        ("2-02-07-01", "机械设计工程技术人员", 1.0),
    )
    posting_occupation_correct(actor=hr, posting=w.posting_b, code="2-02-07-02")
    weights = [round(x, 3) for _, _, x in posting_occupations([w.posting_b.pk])[w.posting_b.pk]]
    assert weights == [1.0, 0.7]
    with pytest.raises(ValidationError):
        posting_occupation_correct(actor=hr, posting=w.posting_b, code="9-99-99-99")
    assert AuditLog.objects.filter(summary__startswith="校正岗位职业").count() == 2


def test_majors_occupations_keep_staff_edits_through_a_rebuild(matching: Matching) -> None:
    ref = matching.world.ref
    hr = User.objects.get(username="renshe")
    links = list(
        MajorOccupation.objects.filter(category=ref.computing, removed=False).order_by("rank")
    )
    assert len(links) == 20
    assert {link.rank for link in links} == set(range(1, 21))
    assert any(link.occupation.code.startswith("2-02-10-") for link in links[:3])
    dropped = links[0]
    major_occupation_remove(actor=hr, category=ref.computing, link_id=dropped.pk)
    assert "2-06-03-00" not in {link.occupation.code for link in links}
    added = major_occupation_add(actor=hr, category=ref.computing, code="2-06-03-00")
    major_occupation_move(actor=hr, category=ref.computing, link_id=added.pk, up=True)
    major_occupations_build(category_ids=[ref.computing.pk])
    active = list(
        MajorOccupation.objects.filter(category=ref.computing, removed=False).order_by("rank")
    )
    codes = [link.occupation.code for link in active]
    assert dropped.occupation.code not in codes
    assert "2-06-03-00" in codes
    assert MajorOccupation.objects.get(pk=dropped.pk).removed
    assert MajorOccupation.objects.get(pk=added.pk).source == TagSource.STAFF
    assert len({link.rank for link in active}) == len(active)


def test_invitation_unmasks_for_that_enterprise_only_after_acceptance(matching: Matching) -> None:
    w = matching.world
    recommendations_recompute_all()
    row = next(
        c for c in selectors.posting_candidates(posting=w.posting_a) if c.talent_id == matching.x.pk
    )
    assert row.display_name == "李**" and not row.shared and row.university == ""
    assert all("期望" not in r["text"] for r in row.reasons)
    invitation = invitation_send(actor=w.hr_a, posting=w.posting_a, talent_id=matching.x.pk)
    with pytest.raises(Exception, match="已向该人才发出过邀请"):
        invitation_send(actor=w.hr_a, posting=w.posting_a, talent_id=matching.x.pk)
    invitation_respond(user=w.x, talent=matching.x, invitation_id=invitation.pk, accept=True)
    row = next(
        c for c in selectors.posting_candidates(posting=w.posting_a) if c.talent_id == matching.x.pk
    )
    assert row.display_name == "李晓彤" and row.shared and row.invitation == "已接受"
    # Enterprise B still sees a masked name.
    recommendations_on_posting_published(w.posting_b.pk)
    others = [
        c for c in selectors.posting_candidates(posting=w.posting_b) if c.talent_id == matching.x.pk
    ]
    assert all(not c.shared and c.display_name == "李**" for c in others)
    # Another student cannot answer X's invitation.
    with pytest.raises(NotFound):
        invitation_respond(user=w.y, talent=matching.y, invitation_id=invitation.pk, accept=True)


def test_preferences_change_the_recommendations(
    matching: Matching, django_capture_on_commit_callbacks: Any
) -> None:
    w = matching.world
    recommendations_recompute_all()
    with django_capture_on_commit_callbacks(execute=True):
        matching_profile_update(
            talent=matching.x,
            user=w.x,
            towns=[w.ref.gonghe],
            industries=[],
            expected_salary=7000,
            skills="Python、数据库",
        )
    rec = Recommendation.objects.get(talent=matching.x, posting=w.posting_a)
    texts = [r["text"] for r in rec.reasons]
    assert "技能关键词：python" in texts
    assert "薪酬符合期望：6000–9000 元/月（期望 7000 元）" in texts
    with pytest.raises(ValidationError):
        matching_profile_update(
            talent=matching.x, user=w.x, towns=[], industries=[], expected_salary=0, skills=""
        )


def test_fairness_counts_natives_and_the_effect_of_the_boost(matching: Matching) -> None:
    w = matching.world
    add_talent(name="赵一鸣", major=w.ref.cs, native=False, seq="104", dfc=True)
    recommendations_recompute_all()
    stats = PostingFairness.objects.get(posting=w.posting_a)
    # X (native), Y (chemistry, not native) and 赵 (computer science, 双一流, not native)
    # all qualify for the software job; top list has all three.
    assert (stats.pool, stats.pool_natives, stats.pool_double_first_class) == (3, 1, 1)
    assert stats.top_natives == stats.top_natives_without_boost == 1
    assert stats.exact


def test_classify_job_titles_prints_title_tab_codes(matching: Matching, tmp_path: object) -> None:
    path = tmp_path / "titles.txt"  # type: ignore[operator]
    path.write_text("Java开发工程师\n会计\n\n", encoding="utf-8")
    out = io.StringIO()
    call_command("classify_job_titles", "--input", str(path), "--top", "3", stdout=out)
    lines = out.getvalue().split("\n")
    assert lines[-1] == ""
    lines = lines[:-1]
    assert len(lines) == 3
    for line, title in zip(lines, ["Java开发工程师", "会计", ""], strict=True):
        given, codes = line.split("\t")
        assert given == title
        if title:
            parts = codes.split(",")
            assert len(parts) == 3
            assert all(__import__("re").fullmatch(r"\d-\d{2}-\d{2}-\d{2}", p) for p in parts)
        else:
            assert codes == ""
    assert any(c.startswith("2-02-10-") for c in lines[0].split("\t")[1].split(","))


def test_gap_analysis_ranks_categories_and_exports_escaped_and_audited(matching: Matching) -> None:
    w = matching.world
    hr = User.objects.get(username="renshe")
    make_posting(w.a, title="=HYPERLINK(1)", categories=[w.ref.computing], headcount=5)
    year = timezone.localdate().year
    add_talent(name="孙可", major=w.ref.chem_eng, seq="105", graduation_year=year + 1)
    report = selectors.gap_analysis(viewer=hr)
    rows = {r.code: r for r in report.categories}
    assert rows["0809"].headcount >= 5
    assert rows["0813"].supply == 1  # 孙可; Y is not native; X counts for 0809
    assert rows["0809"].supply == 2  # X and Z (consent does not matter for planning)
    assert report.categories[0].shortage >= report.categories[-1].shortage
    content = gap_export(viewer=hr, report=report)
    book = openpyxl.load_workbook(io.BytesIO(content))
    assert book.sheetnames == ["按专业类", "按职业小类", "说明"]
    values = [c.value for row in book["按专业类"].iter_rows() for c in row]
    assert "0809" in values
    assert all(not (isinstance(v, str) and v.startswith("=")) for v in values)
    log = AuditLog.objects.get(action="export", target_type="matching.gap")
    assert log.count == len(report.categories) + len(report.groups)
    # Not for a student.
    assert selectors.gap_analysis(viewer=w.x).categories == []
