"""Eligibility rules as data: Common Expression Language (CEL, through ``cel-python``).

CEL is made for exactly this: a small, side-effect-free, non-Turing-complete language that
cannot call Python, read files or loop forever; ``cel-python`` parses it with lark, so we write
no parser. A rule is a boolean CEL expression over the fixed set of fields in ``FIELDS``; an
optional "passes from" expression gives the date a rule that fails only because of time will
start to pass; a programme's amount is an integer CEL expression over the same fields.

Dates are CEL timestamps at midnight UTC (so ``<``, ``<=``, ``==`` compare days). Calendar
arithmetic is ours, in ``add_months``: "满 N 个月" means on or after the same day N months
later, and a day that month lacks is clamped to its last day (``dateutil.relativedelta``):
2024-01-31 + 1 month = 2024-02-29, 2023-01-31 + 1 month = 2023-02-28. Full years are counted
the same way (``add_months(birth, 12 * n) <= as_of``), so someone born on 29 February is a year
older on 28 February of a common year.

``check_expression`` is what staff edits go through before anything is saved: a syntax error,
a name that is not one of ``FIELDS`` or an unknown function, or a result of the wrong type
(tried on a sample applicant) is refused with a Chinese message. Comprehension macros
(``all``/``exists``) are not needed by any rule and are refused as unknown names.

Everything here is pure: no ORM."""

from __future__ import annotations

import datetime as dt
import functools
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import celpy
from celpy import celtypes
from celpy.celparser import CELParseError
from dateutil.relativedelta import relativedelta
from django.core.exceptions import ValidationError
from lark import Token

DATE = "date"
INT = "int"
STRING = "string"
BOOL = "bool"

PLATFORM = "platform"
DECLARED = "declared"
DERIVED = "derived"


@dataclass(frozen=True)
class FieldSpec:
    label: str
    type: str
    source: str  # platform: held by the platform; declared: the applicant says so; derived
    help: str = ""


# The one documented set of fields a rule may read.
FIELDS: dict[str, FieldSpec] = {
    "as_of": FieldSpec("核定日期", DATE, DERIVED, "申请日期（批量核查时为 --as-of）"),
    "gender": FieldSpec("性别", STRING, PLATFORM, "“男”或“女”"),
    "birth_date": FieldSpec("出生日期", DATE, PLATFORM),
    "age": FieldSpec("周岁", INT, DERIVED, "核定日期时的周岁（按日历年计）"),
    "category": FieldSpec(
        "人员类别",
        STRING,
        DECLARED,
        "在校生、毕业生、留学回国、退役军人、登记失业、返乡创业、民宿农家乐、其他",
    ),
    "graduation_date": FieldSpec("毕业日期", DATE, PLATFORM, "未知时为 null"),
    "double_first_class": FieldSpec("双一流院校毕业", BOOL, PLATFORM),
    "registered_on": FieldSpec("营业执照注册日期", DATE, DECLARED),
    "insured_months": FieldSpec("员工连续参保月数", INT, DECLARED, "创办人以外的员工"),
    "abnormal": FieldSpec("列入经营异常名录", BOOL, DECLARED),
    "funded_before": FieldSpec("已享受过该项补贴", BOOL, DECLARED),
    "hires": FieldSpec("招用人数", INT, DECLARED),
}

CATEGORIES = (
    "在校生",
    "毕业生",
    "留学回国",
    "退役军人",
    "登记失业",
    "返乡创业",
    "民宿农家乐",
    "其他",
)

# Functions of our own, documented for staff on the rule page.
FUNCTION_HELP: dict[str, str] = {
    "add_months(日期, n)": "日期加 n 个日历月（月末对齐：1月31日加1个月为2月28/29日）",
    "add_years(日期, n)": "日期加 n 个日历年（即 12n 个月）",
    "full_years(起, 止)": "从起到止的周岁/整年数",
    "full_months(起, 止)": "从起到止的整月数",
    'date("2024-01-31")': "日期常量",
    "min(a, b) / max(a, b)": "两个整数中较小/较大者",
}

# CEL's own functions and conversions that a rule may call.
_CEL_FUNCTIONS = frozenset(
    {"size", "int", "string", "double", "bool", "timestamp", "duration", "has", "type"}
)


def add_months(day: dt.date, months: int) -> dt.date:
    """The same day ``months`` calendar months later, clamped to the month's last day."""
    return day + relativedelta(months=months)


def full_months(start: dt.date, end: dt.date) -> int:
    """How many whole calendar months from ``start`` to ``end`` (0 when end < start)."""
    if end < start:
        return 0
    months = (end.year - start.year) * 12 + (end.month - start.month)
    while months > 0 and add_months(start, months) > end:
        months -= 1
    return months


def full_years(start: dt.date, end: dt.date) -> int:
    return full_months(start, end) // 12


def _to_date(value: Any) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    raise TypeError("不是日期")


def _ts(day: dt.date) -> celtypes.TimestampType:
    return celtypes.TimestampType(dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC))


def _cel_add_months(day: Any, months: Any) -> celtypes.TimestampType:
    return _ts(add_months(_to_date(day), int(months)))


def _cel_add_years(day: Any, years: Any) -> celtypes.TimestampType:
    return _ts(add_months(_to_date(day), 12 * int(years)))


def _cel_full_years(start: Any, end: Any) -> celtypes.IntType:
    return celtypes.IntType(full_years(_to_date(start), _to_date(end)))


def _cel_full_months(start: Any, end: Any) -> celtypes.IntType:
    return celtypes.IntType(full_months(_to_date(start), _to_date(end)))


def _cel_date(text: Any) -> celtypes.TimestampType:
    return _ts(dt.date.fromisoformat(str(text)))


def _cel_min(a: Any, b: Any) -> Any:
    return a if a <= b else b


def _cel_max(a: Any, b: Any) -> Any:
    return a if a >= b else b


FUNCTIONS: dict[str, Callable[..., Any]] = {
    "add_months": _cel_add_months,
    "add_years": _cel_add_years,
    "full_years": _cel_full_years,
    "full_months": _cel_full_months,
    "date": _cel_date,
    "min": _cel_min,
    "max": _cel_max,
}

_ENV = celpy.Environment()


class ExpressionError(ValueError):
    """An expression that cannot be compiled or evaluated; the message is Chinese."""


@functools.lru_cache(maxsize=512)
def _program(expression: str) -> celpy.Runner:
    try:
        tree = _ENV.compile(expression)
    except CELParseError as exc:
        raise ExpressionError(_syntax_message(exc)) from exc
    return _ENV.program(tree, functions=FUNCTIONS)


def _syntax_message(exc: CELParseError) -> str:
    column = getattr(exc, "column", None)
    where = f"（第 {column} 个字符附近）" if isinstance(column, int) and column > 0 else ""
    return f"表达式语法错误{where}，请检查括号、引号和运算符"


def names_in(expression: str) -> tuple[set[str], set[str]]:
    """(field names, function names) an expression uses. Raises ExpressionError on bad syntax."""
    try:
        tree = _ENV.compile(expression)
    except CELParseError as exc:
        raise ExpressionError(_syntax_message(exc)) from exc
    idents: set[str] = set()
    calls: set[str] = set()
    for node in tree.iter_subtrees():
        if node.data == "ident" and node.children:
            token = node.children[0]
            if isinstance(token, Token):
                idents.add(str(token))
        elif node.data == "ident_arg" and node.children:
            token = node.children[0]
            if isinstance(token, Token):
                calls.add(str(token))
    return idents, calls


def sample_facts() -> dict[str, Any]:
    """A plausible applicant on which every saved expression must evaluate."""
    as_of = dt.date(2026, 6, 30)
    return {
        "as_of": as_of,
        "gender": "女",
        "birth_date": dt.date(2000, 3, 15),
        "age": 26,
        "category": "毕业生",
        "graduation_date": dt.date(2023, 6, 30),
        "double_first_class": True,
        "registered_on": dt.date(2025, 1, 10),
        "insured_months": 6,
        "abnormal": False,
        "funded_before": False,
        "hires": 4,
    }


_KIND_LABEL = {BOOL: "是/否（true/false）", DATE: "日期", INT: "整数"}


def check_expression(expression: str, *, kind: str, field_name: str = "expression") -> None:
    """Refuses (ValidationError keyed by ``field_name``) an expression with a syntax error,
    an unknown field or function, or a result not of ``kind`` on the sample applicant."""
    text = (expression or "").strip()
    if not text:
        raise ValidationError({field_name: "请填写表达式"})
    if len(text) > 2000:
        raise ValidationError({field_name: "表达式过长（最多 2000 个字符）"})
    try:
        idents, calls = names_in(text)
    except ExpressionError as exc:
        raise ValidationError({field_name: str(exc)}) from exc
    unknown = sorted(idents - set(FIELDS))
    if unknown:
        raise ValidationError(
            {field_name: f"未知的字段：{'、'.join(unknown)}（可用字段见页面下方说明）"}
        )
    unknown_calls = sorted(calls - set(FUNCTIONS) - _CEL_FUNCTIONS)
    if unknown_calls:
        raise ValidationError({field_name: f"未知的函数：{'、'.join(unknown_calls)}"})
    try:
        value = evaluate(text, sample_facts())
    except ExpressionError as exc:
        raise ValidationError({field_name: f"表达式无法计算：{exc}"}) from exc
    if not _is_kind(value, kind):
        raise ValidationError({field_name: f"表达式的结果应为{_KIND_LABEL[kind]}"})


def _is_kind(value: Any, kind: str) -> bool:
    if kind == BOOL:
        return isinstance(value, bool)
    if kind == INT:
        return isinstance(value, int) and not isinstance(value, bool)
    if kind == DATE:
        return isinstance(value, dt.date)
    return False


def _to_cel(value: Any) -> Any:
    if value is None:
        return None
    if isinstance(value, bool):
        return celtypes.BoolType(value)
    if isinstance(value, int):
        return celtypes.IntType(value)
    if isinstance(value, dt.date):
        return _ts(_to_date(value))
    if isinstance(value, str):
        return celtypes.StringType(value)
    raise TypeError(f"unsupported fact type {type(value)!r}")


def _from_cel(value: Any) -> Any:
    if isinstance(value, celtypes.BoolType):
        return bool(value)
    if isinstance(value, celtypes.TimestampType):
        return value.date()
    if isinstance(value, celtypes.IntType | celtypes.UintType):
        return int(value)
    return value


_MISSING = re.compile(r"undeclared reference to '(\w+)'")


def evaluate(expression: str, facts: Mapping[str, Any]) -> Any:
    """The value of ``expression`` for ``facts`` (plain Python values; dates as dt.date).
    Raises ExpressionError (Chinese) when it cannot be computed, e.g. a field is empty."""
    program = _program(expression)
    activation = {name: _to_cel(facts.get(name)) for name in FIELDS}
    try:
        result = program.evaluate(activation)
    except celpy.CELEvalError as exc:
        raise ExpressionError(_eval_message(exc)) from exc
    except (TypeError, ValueError, ArithmeticError) as exc:
        raise ExpressionError("数据不完整或类型不符") from exc
    if isinstance(result, celpy.CELEvalError):
        raise ExpressionError(_eval_message(result))
    return _from_cel(result)


def _eval_message(exc: Exception) -> str:
    found = _MISSING.search(str(exc.args[0]) if exc.args else "")
    if found:
        return f"未知的字段：{found.group(1)}"
    return "数据不完整或类型不符"


def derive(facts: Mapping[str, Any]) -> dict[str, Any]:
    """Facts with the derived fields filled in (age at as_of)."""
    result = {name: facts.get(name) for name in FIELDS}
    birth = result.get("birth_date")
    as_of = result.get("as_of")
    if isinstance(birth, dt.date) and isinstance(as_of, dt.date):
        result["age"] = full_years(birth, as_of)
    else:
        result["age"] = None
    return result


@dataclass(frozen=True)
class RuleSpec:
    code: str
    explanation: str
    expression: str
    passes_from: str = ""


@dataclass(frozen=True)
class RuleResult:
    code: str
    explanation: str
    passed: bool
    # For a rule that fails only because of time: the first day it passes.
    passes_on: dt.date | None = None
    problem: str = ""


@dataclass(frozen=True)
class Eligibility:
    eligible: bool
    amount: int
    results: tuple[RuleResult, ...] = field(default_factory=tuple)
    amount_problem: str = ""

    @property
    def failed_codes(self) -> list[str]:
        return [r.code for r in self.results if not r.passed]


def _passes(rule: RuleSpec, facts: Mapping[str, Any]) -> tuple[bool, str]:
    try:
        value = evaluate(rule.expression, facts)
    except ExpressionError as exc:
        return False, str(exc)
    return value is True, ""


def check_rule(rule: RuleSpec, facts: Mapping[str, Any]) -> RuleResult:
    """One rule on derived facts. A failing rule with a "passes from" expression gets the
    date only if the date is after as_of and the rule really passes on it with everything else
    unchanged (so a rule that also fails for another reason gets no date)."""
    passed, problem = _passes(rule, facts)
    passes_on: dt.date | None = None
    if not passed and not problem and rule.passes_from.strip():
        try:
            day = evaluate(rule.passes_from, facts)
        except ExpressionError:
            day = None
        as_of = facts.get("as_of")
        if isinstance(day, dt.date) and isinstance(as_of, dt.date) and day > as_of:
            later = derive({**facts, "as_of": day})
            if _passes(rule, later)[0]:
                passes_on = day
    return RuleResult(
        code=rule.code,
        explanation=rule.explanation,
        passed=passed,
        passes_on=passes_on,
        problem=problem,
    )


def check(rules: list[RuleSpec], amount_expression: str, facts: Mapping[str, Any]) -> Eligibility:
    """Every rule on ``facts`` (derived first) and the amount. Ineligible: amount 0."""
    derived = derive(facts)
    results = tuple(check_rule(rule, derived) for rule in rules)
    eligible = all(r.passed for r in results)
    amount = 0
    amount_problem = ""
    if eligible:
        try:
            value = evaluate(amount_expression, derived)
        except ExpressionError as exc:
            amount_problem = str(exc)
            value = 0
        amount = max(int(value), 0) if isinstance(value, int) else 0
    return Eligibility(
        eligible=eligible, amount=amount, results=results, amount_problem=amount_problem
    )
