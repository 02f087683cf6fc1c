"""``{% load posting_cards %}``: the students' list cards written out in Python
(qinghe/jobs/cards.py says why)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from django import template
from django.middleware.csrf import get_token
from django.utils.safestring import SafeString

from qinghe.jobs import cards
from qinghe.jobs.models import Posting

register = template.Library()


@register.simple_tag(takes_context=True)
def posting_cards(context: template.Context, kept: Iterable[cards.Card]) -> SafeString:
    """The search's cards (drawn by ``cards.card_parts``, kept per query and page); the 收藏
    forms carry this request's CSRF token and path."""
    request = context["request"]
    can_favourite = bool(context.get("can_favourite"))
    return cards.cards_with_forms(
        kept,
        can_favourite=can_favourite,
        favourites=context.get("favourites") or (),
        csrf_token=str(context.get("csrf_token") or get_token(request)) if can_favourite else "",
        next_path=request.get_full_path(),
    )


@register.simple_tag
def recommendation_cards(recs: Iterable[Any], empty: str) -> SafeString:
    return cards.recommendation_cards(recs, empty=empty)


@register.simple_tag
def reasons(items: Iterable[Mapping[str, Any]]) -> SafeString:
    return cards.reasons(items)


@register.simple_tag
def posting_badges(posting: Posting) -> SafeString:
    return cards.badges(posting)


@register.simple_tag
def state_badge(posting: Posting, today: Any = None) -> SafeString:
    return cards.state_badge(posting, today)


@register.simple_tag
def stage_badge(stage: Any) -> SafeString:
    return cards.stage_badge(stage)
