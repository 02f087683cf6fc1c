"""The card's status table (data for qinghe.core.workflow). Parties: the holder, the card's
station staff, HR bureau staff, and the system (periodic jobs, no actor)."""

from __future__ import annotations

from qinghe.core.workflow import Move, table

from .models import Card

HOLDER = "holder"
STATION = "station"
HR = "hr"
SYSTEM = "system"

S = Card.State

# Checks named on moves, read by the workflow's guard.
MAKER_CHECKER = "maker_checker"
NOT_PRINTED = "not_printed"
PRINTED = "printed"
CHANGE_IN_TIME = "change_in_time"
RENEWAL_WINDOW = "renewal_window"

TRANSITIONS = table(
    Move("review", "初审通过", frozenset({S.SUBMITTED}), S.REVIEWED, frozenset({STATION, HR})),
    Move(
        "reject",
        "不予通过",
        frozenset({S.SUBMITTED, S.REVIEWED}),
        S.REJECTED,
        frozenset({STATION, HR}),
        needs_reason=True,
    ),
    Move(
        "approve",
        "审批发卡",
        frozenset({S.REVIEWED}),
        S.ACTIVE,
        frozenset({HR}),
        checks=frozenset({MAKER_CHECKER}),
    ),
    Move(
        "print",
        "登记实体卡制卡",
        frozenset({S.ACTIVE}),
        S.ACTIVE,
        frozenset({STATION, HR}),
        checks=frozenset({NOT_PRINTED}),
    ),
    Move(
        "hand_over",
        "登记实体卡领取",
        frozenset({S.ACTIVE}),
        S.ACTIVE,
        frozenset({STATION}),
        checks=frozenset({PRINTED}),
    ),
    Move(
        "report_change",
        "报告工作单位变更",
        frozenset({S.ACTIVE}),
        S.ACTIVE,
        frozenset({HOLDER}),
        checks=frozenset({CHANGE_IN_TIME}),
    ),
    Move(
        "renew",
        "续期",
        frozenset({S.ACTIVE}),
        S.ACTIVE,
        frozenset({HOLDER}),
        checks=frozenset({RENEWAL_WINDOW}),
    ),
    Move("report_lost", "挂失", frozenset({S.ACTIVE, S.SUSPENDED}), S.LOST, frozenset({HOLDER})),
    Move("reissue", "补办新卡", frozenset({S.LOST}), S.ACTIVE, frozenset({STATION, HR})),
    Move(
        "suspend",
        "暂停（工作单位变更逾期未报告）",
        frozenset({S.ACTIVE}),
        S.SUSPENDED,
        frozenset({SYSTEM}),
    ),
    Move(
        "reinstate",
        "恢复",
        frozenset({S.SUSPENDED}),
        S.ACTIVE,
        frozenset({STATION, HR}),
        needs_reason=True,
    ),
    Move("expire", "到期失效", frozenset({S.ACTIVE, S.SUSPENDED}), S.EXPIRED, frozenset({SYSTEM})),
)

# Moves that change what a card proves: tokens signed before them go stale.
SERIAL_MOVES = frozenset(
    {
        "approve",
        "report_change",
        "renew",
        "report_lost",
        "reissue",
        "suspend",
        "reinstate",
        "expire",
    }
)
