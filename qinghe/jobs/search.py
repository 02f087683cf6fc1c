"""Chinese keyword search over postings: pure functions, no ORM.

A posting stores ``search_tokens``: the jieba tokens (search mode, so 软件开发 also gives 软件
and 开发) of its title, description and enterprise name, normalised, de-duplicated, joined by
single spaces with a space at both ends. A query is cut in precise mode; each query word must
appear as a whole token. A word the document side happened to cut differently (a longer word
in the query) also matches when all of its own search-mode parts appear.

Matching whole tokens gives the same answers on both databases: SQLite looks for
``' token '`` inside the text; PostgreSQL asks whether ``string_to_array(search_tokens, ' ')``
contains the tokens, which a GIN expression index answers (migration 0003)."""

from __future__ import annotations

import logging
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

import jieba

jieba.setLogLevel(logging.WARNING)

_SPACES = re.compile(r"\s+")
_WORD = re.compile(r"^\w+$")
STOP_WORDS = frozenset({"的", "了", "和", "与", "及", "或", "在", "是", "等", "我", "你", "有"})
MAX_QUERY_WORDS = 8


def normalise(text: str) -> str:
    """NFKC (full-width to half-width), lower case, single spaces."""
    return _SPACES.sub(" ", unicodedata.normalize("NFKC", text or "")).strip().lower()


def _keep(token: str) -> bool:
    token = token.strip()
    return bool(token) and bool(_WORD.match(token)) and token not in STOP_WORDS


def document_tokens(*texts: str) -> str:
    """The ``search_tokens`` value for a posting's texts."""
    seen: dict[str, None] = {}
    for text in texts:
        for token in jieba.cut_for_search(normalise(text)):
            token = token.strip()
            if _keep(token):
                seen.setdefault(token, None)
    if not seen:
        return ""
    return " " + " ".join(seen) + " "


@dataclass(frozen=True)
class QueryWord:
    """One word of a query: it matches if ``word`` is a token, or if every one of ``parts`` is
    (``parts`` is empty when the word cannot be split further)."""

    word: str
    parts: tuple[str, ...] = ()

    def alternatives(self) -> list[list[str]]:
        return [[self.word], list(self.parts)] if self.parts else [[self.word]]


def query_words(query: str) -> list[QueryWord]:
    words: dict[str, QueryWord] = {}
    for token in jieba.cut(normalise(query)[:100]):
        token = token.strip()
        if not _keep(token) or token in words:
            continue
        parts = tuple(
            dict.fromkeys(
                p for p in jieba.cut_for_search(token) if p != token and len(p) >= 2 and _keep(p)
            )
        )
        # The parts stand in for the word only if together they cover all of its characters
        # (工程师 -> 工程 alone would widen the search to every 工程).
        covered = set("".join(parts)) >= set(token)
        words[token] = QueryWord(token, parts if len(token) >= 3 and covered else ())
        if len(words) >= MAX_QUERY_WORDS:
            break
    return list(words.values())


def matches(tokens: str, words: Iterable[QueryWord]) -> bool:
    """The same rule as the database filter, in Python (for tests and small lists)."""
    present = set(tokens.split())
    return all(any(set(alt) <= present for alt in w.alternatives()) for w in words)
