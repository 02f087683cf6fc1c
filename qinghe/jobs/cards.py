"""The posting cards of the students' lists (the job search, 为你推荐), their badges and a
recommendation's reasons, written out in Python rather than with template includes.

Why: a list page renders 20–40 cards, and Django's template engine spent about half of the
page's CPU on them (an ``{% include %}`` per card, a variable lookup per field: ~0.4 ms a card,
docs/SCALING.md, "What a page costs"); these functions give the same HTML for a twentieth of
that. Every value goes through ``esc`` (``html.escape`` with quotes), as autoescaping would.
The search's cards are drawn in two steps: ``card_parts`` (the same for every viewer, kept per
query and page by the search) and ``cards_with_forms``, which adds the per-request parts (the
CSRF token, the favourite state, the path to come back to).

The templates call them through ``{% load posting_cards %}`` (qinghe/jobs/templatetags).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from html import escape as _esc
from typing import Any, Protocol

from django.urls import reverse
from django.utils.safestring import SafeString, mark_safe

from qinghe.core.templatetags.qinghe import one_decimal

from .models import Posting

# A placeholder number for the detail and favourite URLs, worked out once per list rather than
# with a ``reverse`` per card.
_PK = 987654321


class _UrlFor(Protocol):
    def __call__(self, pk: int) -> str: ...


def _url_for(name: str) -> _UrlFor:
    before, after = reverse(name, args=[_PK]).split(str(_PK))
    return lambda pk: f"{before}{int(pk)}{after}"


def esc(value: Any) -> str:
    """Escaped as the templates' autoescape does (``django.utils.html.escape`` is
    ``html.escape`` with quotes), text already marked safe left as it is."""
    if value is None:
        return ""
    if isinstance(value, SafeString):
        return str(value)
    return _esc(str(value), quote=True)


def _town(posting: Posting) -> str:
    return esc(posting.town.name) if posting.town is not None else ""


def _closing(posting: Posting) -> str:
    if not posting.closing_date:
        return ""
    return f" · 截止 {posting.closing_date.strftime('%m-%d')}"


_QUALITY_BADGE = ' <span class="badge text-bg-warning" title="人社局认定的优质岗位">优质岗位</span>'
_NATIVES_BADGE = ' <span class="badge text-bg-success">鹤山籍优先</span>'


def _badges(posting: Posting) -> str:
    return (
        f'<span class="badge text-bg-light border">{esc(posting.get_kind_display())}</span>'
        f"{_QUALITY_BADGE if posting.is_quality else ''}"
        f"{_NATIVES_BADGE if posting.natives_first else ''}"
    )


def badges(posting: Posting) -> SafeString:
    """The kind, 优质岗位 and 鹤山籍优先 badges (the search's cards and the posting pages)."""
    return mark_safe(_badges(posting))  # noqa: S308 - the kind's label is escaped


@dataclass(frozen=True)
class Card:
    """A search card without its 收藏 form, the same for every viewer (the search keeps a
    page's cards: jobs/views.py): the form goes between ``head`` and ``tail``."""

    pk: int
    title: str
    head: str
    tail: str


_CARD_TAIL = "\n  </div>\n</div></div>\n"


def card_parts(postings: Iterable[Posting]) -> list[Card]:
    """The search's cards of these postings, drawn without the viewer's 收藏 forms."""
    detail = _url_for("jobs:detail")
    return [
        Card(
            pk=p.pk,
            title=p.title,
            head=(
                '<div class="card mb-2" data-testid="posting-card"><div class="card-body py-2">\n'
                '  <div class="d-flex flex-wrap align-items-center gap-2">\n'
                f'    <a class="h6 mb-0 me-auto" href="{detail(p.pk)}">{esc(p.title)}</a>\n'
                f'    <span class="fw-bold text-success">{esc(p.salary_text)}</span>\n'
                "  </div>\n"
                f'  <div class="small text-muted">{esc(p.enterprise.name)} · {_town(p)} · '
                f"招 {int(p.headcount)} 人{_closing(p)}</div>\n"
                f'  <div class="d-flex flex-wrap align-items-center gap-1 mt-1">{_badges(p)}'
            ),
            tail=_CARD_TAIL,
        )
        for p in postings
    ]


def cards_with_forms(
    cards: Iterable[Card],
    *,
    can_favourite: bool,
    favourites: Collection[int],
    csrf_token: str,
    next_path: str,
) -> SafeString:
    """The cards with, when ``can_favourite``, each one's 收藏 form (the token and the path
    are this request's)."""
    if not can_favourite:
        return mark_safe("".join(c.head + c.tail for c in cards))  # noqa: S308 - escaped
    toggle = _url_for("jobs:favourite_toggle")
    token, back = esc(csrf_token), esc(next_path)
    drawn = []
    for c in cards:
        saved = c.pk in favourites
        drawn.append(
            f'{c.head}\n    <form method="post" action="{toggle(c.pk)}" class="ms-auto">'
            f'<input type="hidden" name="csrfmiddlewaretoken" value="{token}">'
            f'<input type="hidden" name="next" value="{back}">'
            f'<button class="btn btn-sm {"btn-warning" if saved else "btn-outline-secondary"}" '
            f'type="submit">{"已收藏" if saved else "收藏"}</button></form>{c.tail}'
        )
    return mark_safe("".join(drawn))  # noqa: S308 - every value is escaped (card_parts)


def posting_cards(
    postings: Iterable[Posting],
    *,
    can_favourite: bool,
    favourites: Collection[int],
    csrf_token: str,
    next_path: str,
) -> SafeString:
    """The job search's cards; with ``can_favourite`` each carries its 收藏 form (the token and
    the path are this request's)."""
    return cards_with_forms(
        card_parts(postings),
        can_favourite=can_favourite,
        favourites=favourites,
        csrf_token=csrf_token,
        next_path=next_path,
    )


def _reasons(items: Iterable[Mapping[str, Any]]) -> str:
    lines = []
    for r in items:
        rule = (
            '<span class="badge text-bg-info me-1">公开规则</span>'
            if r.get("criterion") == "native"
            else ""
        )
        points = (
            f' <span class="text-muted">+{esc(one_decimal(r["points"]))}</span>'
            if r.get("points")
            else ""
        )
        lines.append(f"\n  <li>{rule}{esc(r.get('text', ''))}{points}</li>")
    return f'<ul class="list-unstyled small mb-0" data-testid="reasons">{"".join(lines)}\n</ul>'


def reasons(items: Iterable[Mapping[str, Any]]) -> SafeString:
    """A recommendation's reasons (为你推荐, an enterprise's 推荐人才): each criterion's text
    and points, the public rule for natives marked as such."""
    return mark_safe(_reasons(items))  # noqa: S308 - every value is escaped


def recommendation_cards(recs: Iterable[Any], *, empty: str) -> SafeString:
    """为你推荐's cards: the posting, its score and the reasons; ``empty`` when there are none."""
    detail = _url_for("jobs:detail")
    cards = []
    for rec in recs:
        p = rec.posting
        quality = ' · <span class="text-warning-emphasis">优质岗位</span>' if p.is_quality else ""
        cards.append(
            '\n<div class="card mb-2" data-testid="recommendation"><div class="card-body py-2">\n'
            '  <div class="d-flex flex-wrap align-items-center gap-2">\n'
            f'    <a class="h6 mb-0 me-auto" href="{detail(p.pk)}">{esc(p.title)}</a>\n'
            f'    <span class="badge text-bg-success" title="匹配分">{esc(one_decimal(rec.score))} 分</span>\n'
            f'    <span class="fw-bold text-success">{esc(p.salary_text)}</span>\n'
            "  </div>\n"
            f'  <div class="small text-muted mb-1">{esc(p.get_kind_display())} · '
            f"{esc(p.enterprise.name)} · {_town(p)}{_closing(p)}{quality}</div>\n"
            f"  {_reasons(rec.reasons or [])}\n"
            "</div></div>\n"
        )
    if not cards:
        return mark_safe(f'<p class="text-muted">{esc(empty)}</p>')  # noqa: S308 - escaped
    return mark_safe("".join(cards))  # noqa: S308 - every value is escaped above


_STATE_CLASSES: dict[str, str] = {
    Posting.State.PUBLISHED: "text-bg-success",
    Posting.State.REVIEW: "text-bg-warning",
    Posting.State.DRAFT: "text-bg-light border",
}


def state_badge(posting: Posting, today: Any = None) -> SafeString:
    """A posting's state (jobs/_state.html written out, for the rows of a list): a published
    posting past its closing date ``today`` shows as awaiting its expiry."""
    if (
        posting.state == Posting.State.PUBLISHED
        and today
        and posting.closing_date
        and posting.closing_date < today
    ):
        return mark_safe('<span class="badge text-bg-secondary">已截止（待下线）</span>')
    css = _STATE_CLASSES.get(posting.state, "text-bg-secondary")
    label = esc(posting.get_state_display())
    return mark_safe(f'<span class="badge {css}">{label}</span>')  # noqa: S308 - escaped


_STAGE_CLASSES = {
    "offer": "text-bg-success",
    "onboarded": "text-bg-success",
    "rejected": "text-bg-secondary",
    "withdrawn": "text-bg-secondary",
    "interview": "text-bg-info",
}


def stage_badge(stage: Any) -> SafeString:
    """An application's stage (recruitment/_stage.html written out, for the rows of a list)."""
    css = _STAGE_CLASSES.get(stage.kind, "text-bg-light border")
    return mark_safe(  # noqa: S308 - the name is escaped
        f'<span class="badge {css}" data-testid="stage">{esc(stage.name)}</span>'
    )
