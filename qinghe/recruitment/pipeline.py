"""The rules of the applicant pipeline, as data and pure functions (no ORM).

The stages themselves are rows (``PipelineStage``: the platform's defaults of migration 0002
plus an enterprise's own); what may move where is decided here from a stage's kind, position
and flags, so that ``qinghe.recruitment.services.applications.application_transition`` (the one function that
moves an application) and the pages' buttons agree."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

# Who moves an application.
STUDENT = "student"
ENTERPRISE = "enterprise"

APPLIED = "applied"
INTERVIEW = "interview"
OFFER = "offer"
ONBOARDED = "onboarded"
REJECTED = "rejected"
WITHDRAWN = "withdrawn"
CUSTOM = "custom"

# Ends that undo a hire (the offer was declined or withdrawn).
FAILURE_KINDS = frozenset({REJECTED, WITHDRAWN})


class StageLike(Protocol):
    @property
    def pk(self) -> int | None: ...
    @property
    def name(self) -> str: ...
    @property
    def kind(self) -> str: ...
    @property
    def position(self) -> int: ...
    @property
    def is_terminal(self) -> bool: ...
    @property
    def counts_as_hire(self) -> bool: ...
    @property
    def is_active(self) -> bool: ...


@dataclass(frozen=True)
class MoveRule:
    """One line of the table: who may enter a stage of this kind."""

    kind: str
    by: frozenset[str]
    note: str


# Who may enter a stage, by the stage's kind. Every stage is entered by the enterprise except
# 撤回 (the student's own decision) and 已投递 (entered only by applying).
ENTRY_RULES: dict[str, MoveRule] = {
    rule.kind: rule
    for rule in (
        MoveRule(APPLIED, frozenset(), "只能通过投递进入"),
        MoveRule("screening", frozenset({ENTERPRISE}), ""),
        MoveRule(INTERVIEW, frozenset({ENTERPRISE}), ""),
        MoveRule(OFFER, frozenset({ENTERPRISE}), "计为录用：写入学生的毕业去向"),
        MoveRule(ONBOARDED, frozenset({ENTERPRISE}), "计为录用（若此前未录用）"),
        MoveRule(REJECTED, frozenset({ENTERPRISE}), "结束；撤销已有的录用"),
        MoveRule(WITHDRAWN, frozenset({STUDENT}), "结束；只有学生本人可以撤回；撤销已有的录用"),
        MoveRule(CUSTOM, frozenset({ENTERPRISE}), ""),
    )
}


def is_hire_stage(stage: StageLike) -> bool:
    """Entering it makes the application a hire: 录用 (counts_as_hire), or 入职 reached
    without passing 录用."""
    return bool(stage.counts_as_hire) or stage.kind == ONBOARDED


def move_refusal(*, current: StageLike, target: StageLike, by: str, hired: bool) -> str | None:
    """Why this move is refused (in Chinese, for the user), or None when it is allowed."""
    if target.pk == current.pk:
        return f"申请已处于“{current.name}”阶段"
    if current.is_terminal:
        return f"申请已结束（{current.name}），不能再变更阶段"
    if not target.is_active:
        return f"“{target.name}”阶段已停用"
    rule = ENTRY_RULES.get(target.kind)
    if rule is None or by not in rule.by:
        if target.kind == WITHDRAWN:
            return "只有学生本人可以撤回投递"
        if by == STUDENT:
            return "学生只能撤回投递"
        return f"不能把申请移回“{target.name}”"
    if hired and target.kind not in FAILURE_KINDS and target.position < current.position:
        return "已录用的申请只能继续推进、标记未通过或由学生撤回"
    return None


def undoes_hire(*, target: StageLike, hired: bool) -> bool:
    return hired and target.kind in FAILURE_KINDS


def makes_hire(*, target: StageLike, hired: bool) -> bool:
    return not hired and is_hire_stage(target)


# The placeholders of a stage's message, in the words an enterprise's HR reads and types; the
# English ones of earlier versions (and of API clients) are read as the same thing and stored
# in Chinese (``message_template_normalise``, migration recruitment 0002).
POSTING_PLACEHOLDER = "【岗位名称】"
ENTERPRISE_PLACEHOLDER = "【企业名称】"
LEGACY_PLACEHOLDERS = {"{posting}": POSTING_PLACEHOLDER, "{enterprise}": ENTERPRISE_PLACEHOLDER}


def message_template_normalise(template: str) -> str:
    """The template with any English placeholder written as its Chinese one."""
    for legacy, placeholder in LEGACY_PLACEHOLDERS.items():
        template = template.replace(legacy, placeholder)
    return template


def render_message(template: str, *, posting: str, enterprise: str) -> str:
    """A stage's message with its two placeholders filled. Plain replacement, not
    ``str.format``: an enterprise's own template may hold any braces."""
    return (
        message_template_normalise(template)
        .replace(POSTING_PLACEHOLDER, posting)
        .replace(ENTERPRISE_PLACEHOLDER, enterprise)
        .strip()
    )
