"""The incremental path (postings opening, changing and closing, one at a time or several in
one go) leaves every talent's list and every posting's candidates exactly as a full recompute
computes them from the same database. The lists are cut short (3 postings a talent, 4 talents
a posting) so that postings enter lists by beating the last one, push it out, and leave holes
that must be refilled."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.utils import timezone

from qinghe.enterprises.tests.factories import make_posting
from qinghe.jobs.models import Posting
from qinghe.matching.models import Candidate, MatchingProfile, PostingFairness, Recommendation
from qinghe.matching.services import recompute
from qinghe.matching.services.tags import postings_classify

from .conftest import Matching
from .test_recompute import crowd  # noqa: F401 - the fixture

pytestmark = pytest.mark.django_db


def _key(talent_or_posting: int, score: float, reasons: Any) -> tuple[Any, ...]:
    return (talent_or_posting, score, json.dumps(reasons, ensure_ascii=False, sort_keys=True))


Lists = dict[int, set[tuple[Any, ...]]]


def full_lists() -> tuple[Lists, Lists, Any]:
    """What a full recompute computes now (talent -> its postings, posting -> its talents,
    each with score and reasons), nothing written; and the row of any pair."""
    computed = recompute.recompute_engine()
    rows = recompute.RecomputeRows(computed)
    now = timezone.now()
    talents: Lists = {}
    for talent_id, posting_id, score, text, _ in rows.recommendations(
        range(len(computed.talents)), now
    ):
        talents.setdefault(talent_id, set()).add(_key(posting_id, score, json.loads(text)))
    slots = [s for s, f in enumerate(computed.index.facts) if f is not None]
    postings: Lists = {}
    for posting_id, talent_id, score, text, _ in rows.candidates(slots, now)[0]:
        postings.setdefault(posting_id, set()).add(_key(talent_id, score, json.loads(text)))
    talent_of = {t.talent_id: t for t in computed.talents}

    def row(talent_id: int, posting_id: int) -> tuple[float, Any] | None:
        found = rows.scorer.row(talent_of[talent_id], computed.index.posting(posting_id))  # type: ignore[arg-type]
        return None if found is None else (found[0], json.loads(found[1]))

    return talents, postings, row


def stored_lists() -> tuple[Lists, Lists]:
    talents: Lists = {}
    for talent_id, posting_id, score, reasons in Recommendation.objects.values_list(
        "talent_id", "posting_id", "score", "reasons"
    ):
        talents.setdefault(talent_id, set()).add(_key(posting_id, score, reasons))
    postings: Lists = {}
    for posting_id, talent_id, score, reasons in Candidate.objects.values_list(
        "posting_id", "talent_id", "score", "reasons"
    ):
        postings.setdefault(posting_id, set()).add(_key(talent_id, score, reasons))
    return talents, postings


def assert_same_lists(stored: Lists, expected: Lists, row: Any) -> None:
    """Each list holds exactly the full recompute's rows above its last score, as many at
    that score, and those are the true rows of their pairs (which of several equally scored
    ones fills the last places is not defined)."""
    assert stored.keys() == expected.keys()
    for owner, want in expected.items():
        have = stored[owner]
        assert sorted(r[1] for r in have) == sorted(r[1] for r in want)
        cut = min(r[1] for r in want)
        assert {r for r in have if r[1] > cut} == {r for r in want if r[1] > cut}
        for other, score, text in have - want:
            assert score == cut
            assert _key(other, *row(owner, other)) == (other, score, text)


def assert_as_full() -> None:
    talents, postings = stored_lists()
    expected_talents, expected_postings, row = full_lists()
    assert_same_lists(talents, expected_talents, row)
    assert_same_lists(postings, expected_postings, lambda p, t: row(t, p))
    open_ids = set(recompute.fetch.open_postings().values_list("id", flat=True))
    assert set(PostingFairness.objects.values_list("posting_id", flat=True)) == open_ids
    assert recompute.stale_postings() == set()


@pytest.fixture
def short_lists(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(recompute, "TALENT_TOP", 3)
    monkeypatch.setattr(recompute, "POSTING_TOP", 4)


def test_postings_opening_changing_and_closing_leave_the_lists_of_a_full_recompute(
    crowd: Matching,  # noqa: F811
    short_lists: None,
) -> None:
    w = crowd.world
    recompute.recommendations_recompute_all()
    assert_as_full()
    assert max(len(s) for s in stored_lists()[0].values()) == 3  # lists are full
    before = Recommendation.objects.count()

    # A new posting native computing talents want more (鹤山籍优先): it pushes their 3rd out.
    hot = make_posting(
        w.a,
        title="Python软件开发工程师",
        description="Python 后端开发。",
        salary_max=30000,
        natives_first=True,
    )
    postings_classify(posting_ids=[hot.pk])
    done = recompute.posting_events(hot.pk)
    assert done.opened == [hot.pk] and done.closed == []
    assert done.changed[hot.pk] >= 1
    assert Recommendation.objects.filter(posting=hot).count() == done.changed[hot.pk]
    assert Recommendation.objects.count() == before  # each entry pushed one out
    assert_as_full()

    # It closes: it leaves every list and the holes are refilled.
    had = set(Recommendation.objects.filter(posting=hot).values_list("talent_id", flat=True))
    Posting.objects.filter(pk=hot.pk).update(state=Posting.State.CLOSED)
    done = recompute.posting_events(hot.pk)
    assert done.closed == [hot.pk] and done.changed[hot.pk] == len(had)
    assert not Recommendation.objects.filter(posting=hot).exists()
    assert not Candidate.objects.filter(posting=hot).exists()
    assert Recommendation.objects.count() == before
    assert_as_full()

    # A posting changes while published (its salary drops): the talents who had it get their
    # whole list again.
    changed = Recommendation.objects.order_by("-score", "id").first()
    assert changed is not None
    Posting.objects.filter(pk=changed.posting_id).update(
        salary_min=1000, salary_max=1500, updated_at=timezone.now()
    )
    assert recompute.stale_postings() == {changed.posting_id}
    recompute.posting_events(changed.posting_id)
    assert_as_full()

    # Several events close together: the first run takes all of them along (reopened, a new
    # one, two closed); the runs of the others find nothing else left to do.
    Posting.objects.filter(pk=hot.pk).update(
        state=Posting.State.PUBLISHED, updated_at=timezone.now()
    )
    second = make_posting(w.b, title="化工工艺工程师", description="反应釜工艺。", salary_max=20000)
    postings_classify(posting_ids=[second.pk])
    gone = list(
        Posting.objects.filter(state=Posting.State.PUBLISHED)
        .exclude(pk__in=[hot.pk, second.pk])
        .order_by("id")
        .values_list("id", flat=True)[:2]
    )
    Posting.objects.filter(pk__in=gone).update(state=Posting.State.CLOSED)
    done = recompute.posting_events(hot.pk)
    assert sorted(done.opened) == sorted([hot.pk, second.pk])
    assert done.closed == sorted(gone)
    assert_as_full()
    for posting_id in [second.pk, *gone]:
        again = recompute.posting_events(posting_id)
        assert [*again.opened, *again.closed] == [posting_id]
        assert again.changed[posting_id] == (
            Recommendation.objects.filter(posting_id=posting_id).count()
        )
    assert_as_full()


def test_a_talent_who_withdrew_is_not_put_back_by_a_posting_event(
    crowd: Matching,  # noqa: F811
    short_lists: None,
) -> None:
    """The talents kept in the process between events are read again after a consent
    changes."""
    from qinghe.talents.models import Consent
    from qinghe.talents.services import consent_record

    w = crowd.world
    recompute.recommendations_recompute_all()
    first = make_posting(w.a, title="Python软件开发工程师", salary_max=30000, natives_first=True)
    postings_classify(posting_ids=[first.pk])
    recompute.posting_events(first.pk)
    assert crowd.x.pk in recompute.talent_set().row_of
    assert Candidate.objects.filter(posting=first, talent=crowd.x).exists()
    consent_record(talent=crowd.x, purpose=Consent.Purpose.MATCHING, granted=False, actor=w.x)
    recompute.recommendations_refresh_talent(talent_id=crowd.x.pk)
    recompute.recommendations_recompute_all()  # the night after: the holes filled
    assert_as_full()
    second = make_posting(w.b, title="Java软件开发工程师", salary_max=30000, natives_first=True)
    postings_classify(posting_ids=[second.pk])
    done = recompute.posting_events(second.pk)
    assert done.opened == [second.pk] and done.changed[second.pk] >= 1
    assert crowd.x.pk not in recompute.talent_set().row_of
    assert not Recommendation.objects.filter(talent=crowd.x).exists()
    assert not Candidate.objects.filter(talent=crowd.x).exists()
    assert MatchingProfile.objects.filter(talent=crowd.x).exists()
    assert_as_full()
