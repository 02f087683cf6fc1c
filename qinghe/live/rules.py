"""Who is who around a stream, and the question box's limits (pure functions, no queries
beyond the ones named)."""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings

from qinghe.core.roles import Role

# Staff who run streams (schedule, start, end) and moderate the question box.
ORGANISER_ROLES = frozenset({Role.HR_STAFF, Role.LEAGUE_STAFF, Role.SYSADMIN})
VIEWER_ROLES = frozenset({Role.STUDENT, Role.AMBASSADOR})

QUESTION_MAX = 200
ANSWER_MAX = 500
# Rate limit per user and stream: one question per RATE_GAP seconds, RATE_MAX per minute.
RATE_GAP_SECONDS = 5
RATE_MAX_PER_MINUTE = 5

WORDS_FILE = Path(__file__).resolve().parent / "data" / "held_words.txt"


@lru_cache(maxsize=1)
def held_words() -> tuple[str, ...]:
    lines = WORDS_FILE.read_text(encoding="utf-8").splitlines()
    return tuple(w.strip().lower() for w in lines if w.strip() and not w.startswith("#"))


_SPACES = re.compile(r"[\s\u3000·.,，。_\-*]+")


def needs_review(text: str) -> bool:
    """True when the question contains a listed word (spaces and punctuation between the
    characters do not hide it)."""
    folded = _SPACES.sub("", text.lower())
    return any(word in folded for word in held_words())


def ingest_prefix() -> str:
    return str(getattr(settings, "QINGHE_LIVE_INGEST_PATH", "/hls/"))


def hls_url_problem(url: str) -> str | None:
    """Why ``url`` is not an acceptable stream source (Chinese), or None."""
    url = (url or "").strip()
    if not url:
        return "请填写直播地址"
    if len(url) > 500:
        return "直播地址不能超过 500 个字符"
    parts = urlsplit(url)
    if not parts.path.endswith(".m3u8"):
        return "直播地址须是以 .m3u8 结尾的 HLS 播放地址"
    if parts.scheme in ("http", "https") and parts.netloc:
        return None
    if not parts.scheme and not parts.netloc and url.startswith(ingest_prefix()):
        if ".." in parts.path.split("/"):
            return "直播地址不合法"
        return None
    return f"直播地址须是 http(s) 地址，或本机推流服务的路径（以 {ingest_prefix()} 开头）"


def is_organiser(user: Any) -> bool:
    return getattr(user, "role", None) in ORGANISER_ROLES


def is_team(user: Any, enterprise_org_ids: set[int]) -> bool:
    """The host's team: organising staff, and the HR of a participating enterprise."""
    if is_organiser(user):
        return True
    return (
        getattr(user, "role", None) == Role.ENTERPRISE_HR
        and getattr(user, "organisation_id", None) in enterprise_org_ids
    )
