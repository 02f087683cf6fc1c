"""The four-fifths rule on exact figures, the small-pool rule, the explanation of a flag from
the scores' own reasons (离家近 apart from the native boost), and the fairness page's pinned
query budget."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from qinghe.core.roles import Role
from qinghe.enterprises.tests.factories import make_posting
from qinghe.matching import fairness as fair
from qinghe.matching import scoring
from qinghe.matching.models import PostingFairness
from qinghe.matching.scoring import PostingFacts, Score, TalentFacts, Weights
from qinghe.matching.services.recompute import recommendations_recompute_all

from .conftest import Matching

# --- the rule on exact figures ---------------------------------------------------------------


def figures(pool: int, top: int, **more: Any) -> dict[str, Any]:
    return {"pool": pool, "top": top, "no_boost": top, "no_home": top, **more}


@pytest.mark.parametrize(
    ("group_pool", "status", "ratio"),
    [
        # 8 of the top 20 (40%) against 499 / 500 / 501 of a pool of 1000.
        (499, "ok", 0.4 / 0.499),  # 0.8016: just above four fifths
        (500, "ok", 0.8),  # exactly four fifths is not below it
        (501, "flag", 0.4 / 0.501),  # 0.7984: just below
    ],
)
def test_four_fifths_just_above_at_and_just_below(
    group_pool: int, status: str, ratio: float
) -> None:
    v = fair.verdict("woman", figures(group_pool, 8), 1000, 20)
    assert (v.status, v.pool_share, v.top_share) == (status, group_pool / 10, 40.0)
    assert v.ratio == pytest.approx(ratio)
    assert (len(v.reasons) > 0) == (status == "flag")


@pytest.mark.parametrize(
    ("group_pool", "pool_total", "top_total", "status"),
    [
        (4, 10, 10, "small"),  # fewer than 5 of the group in the pool: no verdict
        (5, 10, 10, "flag"),  # 5 of 10 in the pool, none of the top 10: flagged
        (9, 200, 20, "small"),  # 20 x 9/200 = 0.9 expected in the top: no verdict
        (10, 200, 20, "flag"),  # 20 x 10/200 = 1.0 expected, none there: flagged
        (10, 200, 0, "small"),  # no top list at all
    ],
)
def test_small_pools_get_no_verdict(
    group_pool: int, pool_total: int, top_total: int, status: str
) -> None:
    assert fair.MIN_GROUP_IN_POOL == 5 and fair.MIN_EXPECTED_IN_TOP == 1
    v = fair.verdict("junior", figures(group_pool, 0), pool_total, top_total)
    assert v.status == status and v.flagged == (status == "flag")


# --- the explanation, from the scores' reasons --------------------------------------------------

TOWN, ELSEWHERE, MAJOR = 7, 8, 11
POSTING = PostingFacts(
    posting_id=1,
    title="机修工",
    start_year=2026,
    min_level_rank=2,
    required_major_ids=frozenset({MAJOR}),
    town_id=TOWN,
    town_name="沙坪街道",
)


def talent(tid: int, *, woman: bool, native: bool, home: int) -> TalentFacts:
    return TalentFacts(
        talent_id=tid,
        level_rank=3,
        graduation_year=2026,
        major_id=MAJOR,
        major_label="机械工程",
        is_native=native,
        is_woman=woman,
        home_town_id=home,
    )


def ranked(talents: list[TalentFacts]) -> list[tuple[TalentFacts, Score]]:
    out = []
    for t in talents:
        scored = scoring.score(t, POSTING, Weights())
        assert scored is not None
        out.append((t, scored))
    return sorted(out, key=lambda pair: (-pair[1].total, pair[0].talent_id))


def test_women_kept_out_by_the_home_town_points_are_explained_by_them() -> None:
    # 10 women (ids 1-10) and 30 men (11-40), all natives (boost 3); the men live in the
    # posting's town (离家近, 6 points), the women elsewhere. Everything else is equal, and
    # on equal totals the lower id goes first.
    women = [talent(i, woman=True, native=True, home=ELSEWHERE) for i in range(1, 11)]
    men = [talent(i, woman=False, native=True, home=TOWN) for i in range(11, 41)]
    groups = fair.group_figures(ranked(women + men), {"woman": 10, "native": 40})
    assert groups["woman"] == {
        "pool": 10,
        "top": 0,
        "no_boost": 0,
        "no_home": 10,
        "candidates": 10,
        "gap": {"home_town": 6.0},
    }
    v = fair.verdict("woman", groups["woman"], 40, 20)
    assert (v.status, v.ratio) == ("flag", 0.0)
    assert v.reasons == (
        "离家近（户籍镇街）：前 20 名其他人平均多 6.0 分",
        "不计鹤山籍加分时前 20 名中 0 人（仍低于五分之四）",
        "不计离家近时前 20 名中 10 人（不再低于五分之四）",
    )
    # Natives are everyone: 40 of 40 in the pool, 20 of 20 in the top.
    assert fair.verdict("native", groups["native"], 40, 20).status == "ok"


def test_women_kept_out_by_the_native_boost_are_explained_by_it() -> None:
    # Same, but nobody lives in the posting's town: the men are natives (boost 3), the women
    # are not.
    women = [talent(i, woman=True, native=False, home=ELSEWHERE) for i in range(1, 11)]
    men = [talent(i, woman=False, native=True, home=ELSEWHERE) for i in range(11, 41)]
    groups = fair.group_figures(ranked(women + men), {"woman": 10, "native": 30})
    assert groups["woman"] == {
        "pool": 10,
        "top": 0,
        "no_boost": 10,
        "no_home": 0,
        "candidates": 10,
        "gap": {"native": 3.0},
    }
    assert fair.verdict("woman", groups["woman"], 40, 20).reasons == (
        "鹤山籍加分：前 20 名其他人平均多 3.0 分",
        "不计鹤山籍加分时前 20 名中 10 人（不再低于五分之四）",
        "不计离家近时前 20 名中 0 人（仍低于五分之四）",
    )


def test_a_group_with_no_candidate_says_its_reasons_cannot_be_read() -> None:
    v = fair.verdict("junior", figures(8, 0, candidates=0), 20, 20)
    assert v.flagged
    assert v.reasons[0] == "该群体无人在存储的候选中（前 50 名且达到推荐线），无法按推荐理由分解"


# --- stored by the recompute, shown on the page within its budget ----------------------------

# after the session's first page (no session write, the badge kept); the same for 1 posting
# as for 11
FAIRNESS_PAGE_QUERIES = 5


def page_queries(client: Any) -> tuple[int, str]:
    with CaptureQueriesContext(connection) as captured:
        response = client.get("/matching/fairness/")
    assert response.status_code == 200
    return len(captured), response.content.decode()


@pytest.mark.django_db
def test_the_recompute_stores_every_group_and_the_page_flags_within_its_budget(
    matching: Matching, client_as: Any
) -> None:
    recommendations_recompute_all()
    stats = PostingFairness.objects.get(posting=matching.world.posting_a)
    assert set(stats.groups) == {"native", "dfc", "woman", "junior"}
    assert stats.groups["native"]["pool"] == stats.pool_natives
    assert stats.groups["native"]["top"] == stats.top_natives
    assert stats.groups["dfc"]["pool"] == stats.pool_double_first_class
    client = client_as(Role.HR_STAFF)
    client.get("/messages/preferences/")  # first page: session expiry pushed, badge drawn
    few, page = page_queries(client)
    assert "人数太少，不判断" in page  # the test world's pools are small

    # Ten more postings, each flagging women with its explanation: the same number of queries.
    w = matching.world
    now = timezone.now()
    for n in range(10):
        posting = make_posting(w.a, title=f"机修工（{n}）")
        PostingFairness.objects.create(
            posting=posting,
            pool=40,
            top=20,
            groups={
                "woman": {
                    "pool": 10,
                    "top": 0,
                    "no_boost": 0,
                    "no_home": 10,
                    "candidates": 10,
                    "gap": {"home_town": 6.0},
                }
            },
            computed_at=now - dt.timedelta(minutes=n),
        )
    many, page = page_queries(client)
    assert many == few == FAIRNESS_PAGE_QUERIES
    assert page.count("低于五分之四</span>") == 10
    assert "离家近（户籍镇街）：前 20 名其他人平均多 6.0 分" in page
