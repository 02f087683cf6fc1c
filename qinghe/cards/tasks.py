"""Thin task wrappers: take nothing, call one service. Both run daily (cron or the schedule)."""

from __future__ import annotations

from django_tasks import task

from .services import cards_expire, cards_suspend_unreported


@task()
def expire_cards() -> int:
    """Active or suspended cards past their last valid day become 'expired'. Until it runs,
    the online check already refuses a card past its validity (selectors.card_check)."""
    return cards_expire()


@task()
def suspend_unreported_cards() -> int:
    """Cards whose holder's record shows a new employer for more than 10 days that was not
    reported are suspended."""
    return cards_suspend_unreported()
