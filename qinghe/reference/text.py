"""Text normalisation for reference look-ups. Pure functions, no ORM.

Every searchable reference row stores a ``search_text``: its code, name, aliases and the pinyin
of its name (initials and full), normalised the same way as a query, so that a search is one
``icontains`` per query word."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

from pypinyin import Style, lazy_pinyin

_SPACES = re.compile(r"\s+")
# After NFKC, full-width brackets are already ASCII; these are the other bracket shapes that
# people type around campus names, e.g. 中国地质大学【武汉】.
_BRACKETS = str.maketrans(
    {"[": "(", "]": ")", "【": "(", "】": ")", "〔": "(", "〕": ")", "〖": "(", "〗": ")"}
)


def normalise(text: str) -> str:
    """NFKC (full-width to half-width), lower case, single spaces, trimmed."""
    return _SPACES.sub(" ", unicodedata.normalize("NFKC", text or "")).strip().lower()


def name_key(name: str) -> str:
    """The key two spellings of one name share: NFKC, one bracket shape, no spaces, lower case.
    ``中国地质大学（武汉）``, ``中国地质大学(武汉)`` and ``中国地质大学 [武汉]`` give the same key."""
    text = unicodedata.normalize("NFKC", name or "").translate(_BRACKETS)
    return _SPACES.sub("", text).lower()


def pinyin_initials(text: str) -> str:
    """``计算机科学与技术`` -> ``jsjkxyjs``. Characters without pinyin are left out."""
    return "".join(lazy_pinyin(text, style=Style.FIRST_LETTER, errors="ignore")).lower()


def pinyin_full(text: str) -> str:
    """``计算机类`` -> ``jisuanjilei``."""
    return "".join(lazy_pinyin(text, errors="ignore")).lower()


def build_search_text(name: str, *, code: str = "", others: Iterable[str] = ()) -> str:
    """Code, name, other words (aliases, places), and the pinyin of the name, space-separated."""
    parts = [code, name, *others, pinyin_initials(name), pinyin_full(name)]
    seen: dict[str, None] = {}
    for part in parts:
        value = normalise(part)
        if value:
            seen.setdefault(value, None)
    return " ".join(seen)


def query_terms(query: str) -> list[str]:
    """The words of a search box, normalised like ``search_text``; every word must match."""
    return [term for term in normalise(query).split(" ") if term]
