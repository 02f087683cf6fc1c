"""The expression library: calendar arithmetic, validation before saving, versioned and audited
edits, and the date a time-only failure will pass."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.core.exceptions import ValidationError

from qinghe.accounts.models import User
from qinghe.core.errors import PermissionDenied
from qinghe.core.models import AuditLog
from qinghe.core.roles import Role
from qinghe.policies import rules
from qinghe.policies.models import Programme, Rule, RuleVersion
from qinghe.policies.services import RuleInput, builtin_ensure, rule_create, rule_update


def test_calendar_months_clamp_to_the_last_day_of_the_month() -> None:
    assert rules.add_months(dt.date(2024, 1, 31), 1) == dt.date(2024, 2, 29)
    assert rules.add_months(dt.date(2023, 1, 31), 1) == dt.date(2023, 2, 28)
    assert rules.add_months(dt.date(2025, 8, 31), 6) == dt.date(2026, 2, 28)
    assert rules.add_months(dt.date(2026, 1, 15), 6) == dt.date(2026, 7, 15)


def test_full_years_and_months() -> None:
    assert rules.full_years(dt.date(1970, 7, 15), dt.date(2026, 7, 14)) == 55
    assert rules.full_years(dt.date(1970, 7, 15), dt.date(2026, 7, 15)) == 56
    # born on 29 February: a year older on 28 February of a common year (the clamp above)
    assert rules.full_years(dt.date(2000, 2, 29), dt.date(2001, 2, 27)) == 0
    assert rules.full_years(dt.date(2000, 2, 29), dt.date(2001, 2, 28)) == 1
    assert rules.full_months(dt.date(2026, 1, 31), dt.date(2026, 2, 27)) == 0
    assert rules.full_months(dt.date(2026, 1, 31), dt.date(2026, 2, 28)) == 1
    assert rules.full_months(dt.date(2026, 3, 1), dt.date(2026, 2, 1)) == 0


@pytest.mark.parametrize(
    ("expression", "message"),
    [
        ("age <= ", "表达式语法错误（第 5 个字符附近），请检查括号、引号和运算符"),
        ("salary > 3000", "未知的字段：salary（可用字段见页面下方说明）"),
        ("__import__('os') == 1", "未知的函数：__import__"),
        ("age + 1", "表达式的结果应为是/否（true/false）"),
        ("", "请填写表达式"),
    ],
)
def test_bad_expressions_are_refused_in_chinese(expression: str, message: str) -> None:
    with pytest.raises(ValidationError) as info:
        rules.check_expression(expression, kind=rules.BOOL)
    assert info.value.message_dict == {"expression": [message]}


def test_a_failing_time_rule_says_when_it_will_pass() -> None:
    rule = rules.RuleSpec(
        "registered_6_months",
        "注册满6个月",
        "add_months(registered_on, 6) <= as_of",
        "add_months(registered_on, 6)",
    )
    facts = rules.derive({**rules.sample_facts(), "registered_on": dt.date(2026, 3, 31)})
    result = rules.check_rule(rule, facts)
    assert (result.passed, result.passes_on) == (False, dt.date(2026, 9, 30))


def test_a_date_that_would_not_make_the_rule_pass_is_not_shown() -> None:
    # The "passes from" says the same date, but insured months do not grow with time here.
    rule = rules.RuleSpec("x", "参保满3个月", "insured_months >= 3", "add_months(as_of, 1)")
    facts = rules.derive({**rules.sample_facts(), "insured_months": 1})
    assert rules.check_rule(rule, facts).passes_on is None


def test_missing_data_fails_the_rule_with_a_reason() -> None:
    rule = rules.RuleSpec("x", "参保满3个月", "insured_months >= 3")
    result = rules.check_rule(rule, rules.derive({"as_of": dt.date(2026, 1, 1)}))
    assert (result.passed, result.problem) == (False, "数据不完整或类型不符")


# ------------------------------------------------------------------ staff edits


@pytest.fixture
def programme(db: Any) -> Programme:
    builtin_ensure()
    return Programme.objects.get(code="one_off_startup")


def _state(programme: Programme) -> list[tuple[str, str, int]]:
    return list(programme.rules.values_list("code", "expression", "version"))


def test_staff_edit_is_versioned_and_audited(
    programme: Programme, personas: dict[str, User]
) -> None:
    hr = personas[Role.HR_STAFF]
    rule = programme.rules.get(code="insured_3_months")
    rule_update(
        actor=hr,
        rule=rule,
        data=RuleInput(rule.code, rule.explanation, "insured_months >= 6"),
        note="按新文件改为6个月",
    )
    rule.refresh_from_db()
    assert (rule.expression, rule.version) == ("insured_months >= 6", 2)
    assert list(rule.versions.values_list("version", "expression", "changed_by")) == [
        (2, "insured_months >= 6", hr.pk),
        (1, "insured_months >= 3", None),
    ]
    entry = AuditLog.objects.get(action="policies.rule_update")
    assert entry.actor == hr
    assert entry.reason == "按新文件改为6个月"
    assert entry.data["before"]["expression"] == "insured_months >= 3"
    assert entry.data["after"]["expression"] == "insured_months >= 6"


@pytest.mark.parametrize(
    ("expression", "passes_from", "field", "message"),
    [
        ("insured_months >=", "", "expression", "表达式语法错误"),
        ("employees >= 3", "", "expression", "未知的字段：employees"),
        ("insured_months >= 3", "add_months(registered, 6)", "passes_from", "未知的字段"),
        ("insured_months >= 3", "insured_months", "passes_from", "表达式的结果应为日期"),
    ],
)
def test_bad_edit_is_refused_and_nothing_changes(
    programme: Programme,
    personas: dict[str, User],
    expression: str,
    passes_from: str,
    field: str,
    message: str,
) -> None:
    before = _state(programme)
    versions = RuleVersion.objects.count()
    audits = AuditLog.objects.count()
    rule = programme.rules.get(code="insured_3_months")
    with pytest.raises(ValidationError) as info:
        rule_update(
            actor=personas[Role.HR_STAFF],
            rule=rule,
            data=RuleInput(rule.code, rule.explanation, expression, passes_from),
        )
    assert list(info.value.message_dict) == [field]
    assert info.value.message_dict[field][0].startswith(message)
    assert _state(programme) == before
    assert RuleVersion.objects.count() == versions
    assert AuditLog.objects.count() == audits


def test_a_student_cannot_edit_rules(programme: Programme, personas: dict[str, User]) -> None:
    before = _state(programme)
    with pytest.raises(PermissionDenied):
        rule_create(
            actor=personas[Role.STUDENT],
            programme=programme,
            data=RuleInput("new_rule", "新规则", "true"),
        )
    assert _state(programme) == before


def test_new_rule_starts_at_version_one(programme: Programme, personas: dict[str, User]) -> None:
    rule = rule_create(
        actor=personas[Role.HR_STAFF],
        programme=programme,
        data=RuleInput("double_first_class", "双一流院校毕业", "double_first_class"),
    )
    assert Rule.objects.get(pk=rule.pk).position == 8
    assert list(rule.versions.values_list("version", "note")) == [(1, "新建")]
    assert (
        AuditLog.objects.filter(action="policies.rule_create", target_id=str(rule.pk)).count() == 1
    )
