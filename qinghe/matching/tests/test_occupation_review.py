"""The classifier's "not sure" answer: a posting whose first occupation has too small a share
waits for a person instead of being matched by a guess; HR staff are told, pick from the
candidates, and the pick is a staff correction (audited, used by matching)."""

from __future__ import annotations

from typing import Any

import pytest

from qinghe.accounts.models import User
from qinghe.core.models import AuditLog
from qinghe.core.roles import ALL_ROLES, Role
from qinghe.core.tests.test_visible_text import findings_in, visible_text
from qinghe.enterprises.tests.factories import make_posting
from qinghe.jobs.models import Posting
from qinghe.matching import classify, fetch, selectors
from qinghe.matching.models import PostingOccupation, TagSource
from qinghe.matching.services.tags import postings_classify
from qinghe.notifications.models import OutboxMessage

from .conftest import Matching

pytestmark = pytest.mark.django_db

REVIEW = "/matching/tags/review/"
SUBJECT = "1 个岗位的职业需要人工确认"


def _unsure_posting(matching: Matching) -> Posting:
    """业务员 (salesman? clerk? agent?) with no description: the classifier's first
    occupation has well under half of the top five."""
    posting = make_posting(matching.world.b, title="业务员", description="")
    postings_classify(posting_ids=[posting.pk])
    return posting


def _staff_tags(posting: Posting) -> list[str]:
    return list(
        PostingOccupation.objects.filter(posting=posting, source=TagSource.STAFF)
        .order_by("rank")
        .values_list("occupation__code", flat=True)
    )


def test_not_sure_is_a_share_below_the_threshold_chosen_on_the_dev_set() -> None:
    assert classify.NOT_SURE_BELOW == 0.47
    assert classify.not_sure(0.469)
    assert not classify.not_sure(0.47)
    assert not classify.not_sure(1.0)


def test_only_answers_that_needed_the_embeddings_can_be_unsure() -> None:
    model = classify.OccupationClassifier(classify.docs_from_csv())
    ranked, doubt = model.rank_with_doubt(
        [
            ("业务员", ""),
            ("测试工程师", ""),
            ("机械设计工程师（五金卫浴）", "龙头花洒结构设计。"),
            ("", ""),
        ],
        5,
    )
    _, fused = model.scores_fused([("业务员", "")])
    assert list(fused) == [True]
    assert doubt == [True, False, False, False]
    assert classify.shares(ranked[0])[0][1] < classify.NOT_SURE_BELOW
    assert ranked[1][0][0] == "4-04-05-02"  # 计算机软件测试员, not 产品质量检验工程技术人员
    assert ranked[2][0][0] == "2-02-07-01"
    assert ranked[3] == []


def test_an_unsure_posting_waits_for_a_person_and_is_not_matched_by_a_guess(
    matching: Matching, personas: dict[str, User]
) -> None:
    posting = _unsure_posting(matching)
    auto = list(
        PostingOccupation.objects.filter(posting=posting, source=TagSource.AUTO).order_by("rank")
    )
    assert len(auto) == 5
    assert auto[0].score < classify.NOT_SURE_BELOW
    # Matching does not use the automatic tags meanwhile; the confident posting keeps its own.
    occupations = fetch.posting_occupations([posting.pk, matching.world.posting_b.pk])
    assert posting.pk not in occupations
    assert occupations[matching.world.posting_b.pk][0][:2] == ("2-02-07-01", "机械设计工程技术人员")
    staff_user = personas[Role.HR_STAFF]
    queue = list(selectors.occupation_review_postings(viewer=staff_user))
    assert posting in queue
    assert matching.world.posting_b not in queue
    # Every active HR staff member got one inbox message about it, in the same transaction.
    messages = OutboxMessage.objects.filter(subject=SUBJECT)
    hr_staff = set(
        User.objects.filter(role=Role.HR_STAFF, is_active=True).values_list("pk", flat=True)
    )
    assert {m.user_id for m in messages} == hr_staff
    assert messages.count() == len(hr_staff)
    assert {m.channel for m in messages} == {"inbox"}
    assert all("业务员" in m.body for m in messages)
    assert all(m.data["url"] == REVIEW for m in messages)
    # Classifying it again while it waits tells nobody twice.
    before = OutboxMessage.objects.count()
    postings_classify(posting_ids=[posting.pk])
    assert OutboxMessage.objects.count() == before


def test_staff_pick_a_candidate_which_is_audited_and_used_by_matching(
    matching: Matching, client_as: Any
) -> None:
    posting = _unsure_posting(matching)
    client = client_as(Role.HR_STAFF)
    page = client.get(REVIEW).content.decode()
    first = (
        PostingOccupation.objects.filter(posting=posting, source=TagSource.AUTO, rank=1)
        .select_related("occupation")
        .get()
        .occupation
    )
    assert "业务员" in page
    assert first.name in page
    # Chinese only: no English or developer words on the filled page.
    usernames = frozenset(User.objects.values_list("username", flat=True))
    assert findings_in(visible_text(page), ids=usernames) == []
    assert page.count(f'action="/matching/tags/review/{posting.pk}/pick/"') == 5
    response = client.post(f"/matching/tags/review/{posting.pk}/pick/", {"code": first.code})
    assert response.status_code == 302
    assert response["Location"] == REVIEW
    assert _staff_tags(posting) == [first.code]
    assert (
        AuditLog.objects.filter(
            target_id=str(posting.pk), summary=f"人工确认岗位职业：{first.code} {first.name}"
        ).count()
        == 1
    )
    assert fetch.posting_occupations([posting.pk])[posting.pk] == ((first.code, first.name, 1.0),)
    assert posting not in selectors.occupation_review_postings(
        viewer=client.get(REVIEW).wsgi_request.user
    )
    assert "业务员" not in client.get(REVIEW).content.decode()
    # Picking again for a posting that no longer waits is refused, and nothing changes.
    again = client.post(f"/matching/tags/review/{posting.pk}/pick/", {"code": "2-06-03-00"})
    assert again.status_code == 404
    assert _staff_tags(posting) == [first.code]


def test_a_code_that_is_no_occupation_is_refused_and_nothing_changes(
    matching: Matching, client_as: Any
) -> None:
    posting = _unsure_posting(matching)
    response = client_as(Role.HR_STAFF).post(
        f"/matching/tags/review/{posting.pk}/pick/", {"code": "9-99-99-99"}
    )
    assert response.status_code == 302
    assert response["Location"] == REVIEW
    assert _staff_tags(posting) == []
    assert not AuditLog.objects.filter(summary__contains="岗位职业").exists()
    assert fetch.posting_occupations([posting.pk]) == {}


def test_the_queue_is_open_to_hr_staff_and_administrators_only(
    matching: Matching, client_as: Any
) -> None:
    posting = _unsure_posting(matching)
    allowed = {Role.HR_STAFF, Role.SYSADMIN}
    let_in = {role for role in ALL_ROLES if client_as(role).get(REVIEW).status_code == 200}
    assert let_in == allowed
    for role in ALL_ROLES:
        if role in allowed:
            continue
        response = client_as(role).post(
            f"/matching/tags/review/{posting.pk}/pick/", {"code": "4-05-01-03"}
        )
        assert response.status_code == 403, role
    assert _staff_tags(posting) == []
    assert not AuditLog.objects.filter(summary__contains="岗位职业").exists()
    assert posting in selectors.occupation_review_postings(
        viewer=User.objects.filter(role=Role.HR_STAFF).first()  # type: ignore[arg-type]
    )


def test_the_named_confusions_stay_fixed_through_the_product_path(matching: Matching) -> None:
    """Issue 19: 测试工程师 is software testing, never product quality inspection."""
    posting = make_posting(matching.world.a, title="测试工程师", description="")
    postings_classify(posting_ids=[posting.pk])
    codes = list(
        PostingOccupation.objects.filter(posting=posting, source=TagSource.AUTO)
        .order_by("rank")
        .values_list("occupation__code", flat=True)
    )
    assert codes[0] == "4-04-05-02"  # 计算机软件测试员
    assert "2-02-31-01" not in codes  # 产品质量检验工程技术人员
