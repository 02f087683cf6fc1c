"""The plan's card figures: cards by tier and state, and the year's issues, renewals,
reissues, losses and benefit uses, shown on the plan page."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from django.test import Client

from qinghe.cards import services
from qinghe.cards.selectors import card_counts, ecard_for_holder

from .factories import CardWorld, issue_card

SH = ZoneInfo("Asia/Shanghai")


def test_card_counts_for_the_plan(cw: CardWorld) -> None:
    now = dt.datetime(2026, 3, 2, 10, 0, tzinfo=SH)
    card = issue_card(cw, now)
    shown = ecard_for_holder(viewer=cw.student, now=now)
    assert shown is not None
    services.benefit_use_log(actor=cw.partner, token=shown.token, benefit="hospital", now=now)
    services.benefit_use_log(actor=cw.partner, token=shown.token, benefit="transport", now=now)
    services.card_transition(card=card, action="report_lost", actor=cw.student, now=now)  # type: ignore[arg-type]
    services.card_transition(card=card, action="reissue", actor=cw.station_staff, now=now)  # type: ignore[arg-type]
    assert card_counts(year=2026) == {
        "by_tier": {"A 类（高层次青年人才）": {"有效": 1}},
        "issued": 1,
        "renewed": 0,
        "reissued": 1,
        "lost": 1,
        "suspended": 0,
        "benefits_used": 2,
        "benefits_by_kind": {"医院就诊绿色通道": 1, "市内公交免费乘车": 1},
    }
    assert card_counts(year=2025)["issued"] == 0
    client = Client()
    client.force_login(cw.hr)
    text = client.get("/jobs/targets/?year=2026").content.decode()
    assert "发卡 <strong>1</strong> · 续期 <strong>0</strong> · 补卡 1 · 挂失 1" in text
    assert "医院就诊绿色通道：1 次" in text
