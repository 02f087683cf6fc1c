"""The full recompute builds and writes its rows in chunks inside one transaction: chunks
change nothing that is stored, and a failure part-way leaves the previous lists untouched."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.db import connection
from django.utils import timezone

from qinghe.core import bulk
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


def table_shape(table: str) -> dict[str, Any]:
    """The table's oid, its indexes' and constraints' names and definitions (PostgreSQL),
    and whether the replacement's schema is left."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT to_regclass(%s)::oid", [table])
        oid = cursor.fetchone()[0]
        cursor.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = %s ORDER BY 1", [table]
        )
        indexes = cursor.fetchall()
        cursor.execute(
            "SELECT conname, pg_get_constraintdef(oid), convalidated, condeferrable,"
            " condeferred FROM pg_constraint WHERE conrelid = %s ORDER BY 1",
            [oid],
        )
        constraints = cursor.fetchall()
        cursor.execute("SELECT count(*) FROM pg_namespace WHERE nspname = %s", [bulk.SHADOW_SCHEMA])
        schemas = cursor.fetchone()[0]
    return {"oid": oid, "indexes": indexes, "constraints": constraints, "schemas": schemas}


@pytest.mark.skipif(connection.vendor != "postgresql", reason="tables swapped on PostgreSQL")
def test_the_new_tables_replace_the_old_with_the_same_indexes_and_constraints(
    crowd: Matching, monkeypatch: pytest.MonkeyPatch
) -> None:
    recompute.recommendations_recompute_all()
    before = {t: table_shape(t) for t in ("matching_recommendation", "matching_candidate")}
    assert len(before["matching_recommendation"]["indexes"]) == 5
    assert [c[0] for c in before["matching_candidate"]["constraints"]] == [
        "matching_candidate_pkey",
        "matching_candidate_posting_id_5fbb58e1_fk_jobs_posting_id",
        "matching_candidate_talent_id_fae6bd49_fk_talents_talent_id",
        "matching_candidate_unique",
    ]
    from qinghe.matching.models import Recommendation

    ids_before = list(Recommendation.objects.values_list("id", flat=True))
    assert ids_before
    recompute.recommendations_recompute_all()
    # Ids go on from the old table's sequence: no id read before the swap names a new row.
    ids_after = list(Recommendation.objects.values_list("id", flat=True))
    assert len(ids_after) == len(ids_before)
    assert min(ids_after) > max(ids_before)
    with connection.cursor() as cursor:  # statistics gathered before the swap
        cursor.execute(
            "SELECT count(*) FROM pg_stats WHERE tablename = 'matching_recommendation'"
            " AND attname = 'talent_id'"
        )
        assert cursor.fetchone()[0] == 1
    for table, shape in before.items():
        after = table_shape(table)
        assert after["oid"] != shape["oid"]  # a new table
        assert after["indexes"] == shape["indexes"]
        assert after["constraints"] == shape["constraints"]  # validated, deferred as before
        assert after["schemas"] == 0

    # A failure part-way: the same table, nothing left of the new one.
    monkeypatch.setattr(recompute, "RECOMPUTE_CHUNK_TALENTS", 2)

    def failing(model: Any, columns: Any, rows: Any) -> None:
        raise RuntimeError("disk full")

    kept = table_shape("matching_recommendation")
    monkeypatch.setattr(recompute, "insert_rows", failing)
    with pytest.raises(RuntimeError, match="disk full"):
        recompute.recommendations_recompute_all()
    assert table_shape("matching_recommendation") == kept


def test_rows_built_ahead_come_in_order_and_a_builders_error_reaches_the_caller() -> None:
    import threading

    built: list[int] = []

    def items() -> Any:
        for i in range(5):
            built.append(i)
            yield i
        raise ValueError("broken chunk")

    got: list[int] = []
    with pytest.raises(ValueError, match="broken chunk"):
        for item in recompute._built_ahead(items()):
            got.append(item)
    assert got == [0, 1, 2, 3, 4] == built

    # A caller that stops early (a failed write) stops the builder: at most the item being
    # handed over and one queued are built beyond what was taken.
    endless_built: list[int] = []

    def endless() -> Any:
        i = 0
        while True:
            endless_built.append(i)
            yield i
            i += 1

    ahead = recompute._built_ahead(endless())
    assert [next(ahead), next(ahead)] == [0, 1]
    ahead.close()
    assert not any(t.name == "recompute-rows" for t in threading.enumerate())
    assert len(endless_built) <= 4
