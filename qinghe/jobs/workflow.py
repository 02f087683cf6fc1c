"""The posting workflow as data, and the written criteria of a 优质岗位. No ORM here."""

from __future__ import annotations

from dataclasses import dataclass

from qinghe.core.workflow import Move, table

from .models import Posting

S = Posting.State

# Who makes a move: the enterprise's HR, HR bureau staff, or the platform itself (expiry).
ENTERPRISE = "enterprise"
STAFF = "staff"
SYSTEM = "system"


# The table is read by qinghe.core.workflow.transition through POSTING_WORKFLOW
# (qinghe.jobs.services), which adds the hooks that touch the database. ``checks`` names the
# posting's own rules: "publishable" (the enterprise is verified and the posting complete) for
# moves that put a posting in front of students, "due" (past its closing date) for expiry.
Transition = Move

POSTING_TRANSITIONS: dict[str, Move] = table(
    Move(
        "submit",
        "提交审核",
        frozenset({S.DRAFT}),
        S.REVIEW,
        frozenset({ENTERPRISE}),
        checks=frozenset({"publishable"}),
    ),
    Move("withdraw", "撤回审核", frozenset({S.REVIEW}), S.DRAFT, frozenset({ENTERPRISE})),
    Move(
        "approve",
        "审核通过并发布",
        frozenset({S.REVIEW}),
        S.PUBLISHED,
        frozenset({STAFF}),
        checks=frozenset({"publishable"}),
    ),
    Move(
        "reject", "退回修改", frozenset({S.REVIEW}), S.DRAFT, frozenset({STAFF}), needs_reason=True
    ),
    # A published posting is edited by taking it down to a draft: students stop seeing it,
    # applications already made are kept, and the edited posting is reviewed again.
    Move("revise", "撤下修改", frozenset({S.PUBLISHED}), S.DRAFT, frozenset({ENTERPRISE})),
    Move("close", "关闭岗位", frozenset({S.PUBLISHED}), S.CLOSED, frozenset({ENTERPRISE, STAFF})),
    Move(
        "expire",
        "到期自动下线",
        frozenset({S.PUBLISHED}),
        S.EXPIRED,
        frozenset({SYSTEM}),
        checks=frozenset({"due"}),
    ),
)


def moves_from(state: str, *, by: str) -> list[Move]:
    """The moves a party may make from a state (for buttons on pages)."""
    return [t for t in POSTING_TRANSITIONS.values() if state in t.sources and by in t.by]


# 优质岗位 criteria, shown on the certification page. ``auto`` criteria are checked by the
# service from the posting itself; the others are attested by the certifying staff member.
QUALITY_MIN_SALARY = 5000


@dataclass(frozen=True)
class Criterion:
    code: str
    text: str
    auto: bool = False


QUALITY_CRITERIA: tuple[Criterion, ...] = (
    Criterion("full_time", "面向高校毕业生的全职岗位（实习、见习岗位不参与认定）", auto=True),
    Criterion("salary", f"月薪下限不低于 {QUALITY_MIN_SALARY} 元，且岗位写明薪酬范围", auto=True),
    Criterion("facts", "工作时间、住宿、餐食、社会保险、休假、劳动安全六项信息完整", auto=True),
    Criterion("contract", "签订一年及以上劳动合同，试用期符合《劳动合同法》"),
    Criterion("insurance", "依法足额缴纳五险一金"),
    Criterion("growth", "有明确的培养计划与晋升通道（导师带教、岗位序列或职称晋升）"),
    Criterion("industry", "属于鹤山重点产业或紧缺岗位，或企业为重点企业"),
)
CRITERIA_BY_CODE: dict[str, Criterion] = {c.code: c for c in QUALITY_CRITERIA}
ATTESTED_CRITERIA: tuple[str, ...] = tuple(c.code for c in QUALITY_CRITERIA if not c.auto)
