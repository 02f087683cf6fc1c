"""The full recompute builds and writes its rows in chunks inside one transaction: chunks
change nothing that is stored, and a failure part-way leaves the previous lists untouched."""

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

from .conftest import Matching, add_talent

pytestmark = pytest.mark.django_db

FAIRNESS_VALUES = [
    f.attname
    for f in PostingFairness._meta.concrete_fields
    if f.attname not in ("id", "computed_at")
]


@pytest.fixture
def crowd(matching: Matching) -> Matching:
    """The matching world with 9 consenting talents and 8 open postings."""
    w = matching.world
    stub = w.ref
    year = timezone.localdate().year
    majors = [stub.software_eng, stub.cs, stub.chem_eng]
    for i in range(7):
        add_talent(
            name=f"测试学生{i}",
            major=majors[i % 3],
            native=i % 2 == 0,
            graduation_year=year - (i % 3 == 2),
            seq=f"2{i:02d}",
            dfc=i == 3,
        )
    for i, (title, description, kind) in enumerate(
        [
            ("Python后端开发工程师", "开发企业管理系统后端接口。", Posting.Kind.JOB),
            ("软件测试工程师", "软件功能测试与自动化测试。", Posting.Kind.JOB),
            ("化工工艺工程师", "负责反应釜工艺控制与工艺文件编写。", Posting.Kind.JOB),
            ("涂料研发工程师", "水性涂料配方研发与性能测试。", Posting.Kind.INTERNSHIP),
            ("前端开发工程师", "开发管理后台与微信小程序前端页面。", Posting.Kind.TRAINEESHIP),
            ("分析检测员", "原料与成品理化检测。", Posting.Kind.JOB),
        ]
    ):
        make_posting(
            w.a if i % 2 else w.b,
            title=title,
            description=description,
            kind=kind,
            natives_first=i == 0,
            salary_max=8000 + 500 * i,
        )
    postings_classify()
    return matching


def stored(*, with_ids: bool = False) -> dict[str, list[tuple[Any, ...]]]:
    """Every stored row by value, in insertion order; with ids and times when asked."""
    extra = ("id", "computed_at") if with_ids else ()
    return {
        "recommendations": list(
            Recommendation.objects.order_by("id").values_list(
                "talent_id", "posting_id", "score", "reasons", *extra
            )
        ),
        "candidates": list(
            Candidate.objects.order_by("id").values_list(
                "posting_id", "talent_id", "score", "reasons", *extra
            )
        ),
        "fairness": list(
            PostingFairness.objects.order_by("id").values_list(*FAIRNESS_VALUES, *extra)
        ),
        "profiles": list(
            MatchingProfile.objects.order_by("talent_id").values_list(
                "talent_id", *(("recommended_at",) if with_ids else ())
            )
        ),
    }


def orm_insert_rows(model: Any, columns: Any, rows: Any) -> None:
    """Model instances through bulk_create (the reasons come as JSON text)."""
    model.objects.bulk_create(
        [
            model(**{**dict(zip(columns, row, strict=True)), "reasons": json.loads(row[3])})
            for row in rows
        ]
    )


def test_a_chunked_recompute_stores_exactly_the_rows_of_one_written_at_once(
    crowd: Matching, monkeypatch: pytest.MonkeyPatch
) -> None:
    # As before streaming: the whole result in one chunk, model instances through bulk_create.
    with monkeypatch.context() as patch:
        patch.setattr(recompute, "insert_rows", orm_insert_rows)
        whole = recompute.recommendations_recompute_all()
    expected = stored()
    assert (whole.talents, whole.postings) == (9, 8)
    assert (len(expected["recommendations"]), len(expected["candidates"])) == (
        whole.recommendations,
        whole.candidates,
    )
    assert whole.recommendations > 2 and whole.candidates > 3  # more than one chunk of each
    assert len(expected["fairness"]) == 8 and len(expected["profiles"]) == 9

    # Chunks of 2 talents and 3 postings, with the backend's own writer (COPY on PostgreSQL,
    # executemany elsewhere).
    monkeypatch.setattr(recompute, "RECOMPUTE_CHUNK_TALENTS", 2)
    monkeypatch.setattr(recompute, "RECOMPUTE_CHUNK_POSTINGS", 3)
    calls: list[tuple[type, int]] = []
    writer = recompute.insert_rows

    def counting(model: Any, columns: Any, rows: Any) -> None:
        calls.append((model, len(rows)))
        writer(model, columns, rows)

    monkeypatch.setattr(recompute, "insert_rows", counting)
    chunked = recompute.recommendations_recompute_all()

    assert [model for model, _ in calls] == [Recommendation] * 5 + [Candidate] * 3
    assert sum(n for model, n in calls if model is Recommendation) == whole.recommendations
    assert sum(n for model, n in calls if model is Candidate) == whole.candidates
    assert stored() == expected
    assert (chunked.talents, chunked.postings, chunked.recommendations, chunked.candidates) == (
        whole.talents,
        whole.postings,
        whole.recommendations,
        whole.candidates,
    )
    assert set(chunked.phases) == {"classify", "fetch", "engine", "rows", "write"}
    # One time stamp for the whole run, on every row and every profile.
    stamps = {
        *Recommendation.objects.values_list("computed_at", flat=True),
        *Candidate.objects.values_list("computed_at", flat=True),
        *PostingFairness.objects.values_list("computed_at", flat=True),
        *MatchingProfile.objects.values_list("recommended_at", flat=True),
    }
    assert len(stamps) == 1


@pytest.mark.parametrize(
    "fail_at",
    [2, 6],
    ids=["second chunk of recommendations", "first chunk of candidates"],
)
def test_a_failure_part_way_leaves_the_previous_lists_untouched(
    crowd: Matching, monkeypatch: pytest.MonkeyPatch, fail_at: int
) -> None:
    recompute.recommendations_recompute_all()
    before = stored(with_ids=True)
    # Something changed since, so a complete second run would store different lists.
    Posting.objects.filter(pk=crowd.world.posting_a.pk).update(state=Posting.State.CLOSED)

    monkeypatch.setattr(recompute, "RECOMPUTE_CHUNK_TALENTS", 2)
    monkeypatch.setattr(recompute, "RECOMPUTE_CHUNK_POSTINGS", 3)
    calls: list[type] = []
    writer = recompute.insert_rows

    def failing(model: Any, columns: Any, rows: Any) -> None:
        calls.append(model)
        if len(calls) == fail_at:
            raise RuntimeError("disk full")
        writer(model, columns, rows)

    monkeypatch.setattr(recompute, "insert_rows", failing)
    with pytest.raises(RuntimeError, match="disk full"):
        recompute.recommendations_recompute_all()

    assert calls[-1] is (Recommendation if fail_at == 2 else Candidate)
    assert stored(with_ids=True) == before
    assert Recommendation.objects.filter(posting=crowd.world.posting_a).exists()

    # Once the failure is gone, the next run replaces everything.
    monkeypatch.setattr(recompute, "insert_rows", writer)
    recompute.recommendations_recompute_all()
    assert not Recommendation.objects.filter(posting=crowd.world.posting_a).exists()
    assert not Candidate.objects.filter(posting=crowd.world.posting_a).exists()
