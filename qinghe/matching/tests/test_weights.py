"""Scoring weights as configuration: read from settings, checked, shown to staff."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.core import checks
from django.core.exceptions import ImproperlyConfigured

from qinghe.core.roles import Role
from qinghe.matching import scoring
from qinghe.matching.apps import check_weights
from qinghe.matching.services.weights import weights_from_settings


def test_weights_come_from_settings(settings: Any) -> None:
    settings.MATCHING_WEIGHTS = {"major": 40, "salary": 5.5}
    weights = weights_from_settings()
    assert (weights.major, weights.salary, weights.level) == (40.0, 5.5, 10.0)
    settings.MATCHING_WEIGHTS = None
    assert weights_from_settings() == scoring.Weights()


def test_configuration_cannot_raise_the_native_boost_above_its_cap(settings: Any) -> None:
    settings.MATCHING_WEIGHTS = {"native_boost": 50, "native_boost_flagged": 50}
    weights = weights_from_settings()
    assert weights.boost_for(natives_first=True) == scoring.NATIVE_BOOST_CAP == 5.0


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ({"majr": 40}, "未知的评分项 'majr'"),
        ({"major": "40"}, "评分项 major 的值应为数字，而不是 '40'"),
        ({"major": True}, "评分项 major 的值应为数字，而不是 True"),
        ({"salary": -1}, "评分项 salary 的值应为不小于 0 的有限数，而不是 -1"),
        ({"salary": float("nan")}, "评分项 salary 的值应为不小于 0 的有限数，而不是 nan"),
        ([40, 10], "MATCHING_WEIGHTS 应为 JSON 对象"),
    ],
)
def test_bad_weights_fail_the_system_check_and_are_never_used(
    settings: Any, value: object, problem: str
) -> None:
    settings.MATCHING_WEIGHTS = value
    errors = check_weights()
    assert len(errors) == 1
    assert errors[0].id == "matching.E001" and errors[0].level == checks.ERROR
    assert errors[0].msg.startswith(problem)
    with pytest.raises(ImproperlyConfigured, match="^" + re.escape(problem)):
        weights_from_settings()


def test_good_weights_pass_the_system_check(settings: Any) -> None:
    settings.MATCHING_WEIGHTS = {"major": 40}
    assert check_weights() == []


@pytest.mark.django_db
def test_the_fairness_page_lists_the_weights_in_force(settings: Any, client_as: Any) -> None:
    settings.MATCHING_WEIGHTS = {"major": 40, "salary": 5}
    page = client_as(Role.HR_STAFF).get("/matching/fairness/").content.decode()
    rules = page[page.index('data-testid="scoring-rules"') :]
    rules = rules[: rules.index("</div>")]
    badges = re.findall(r'<span class="badge[^"]*">([^<]+)</span>', rules)
    assert badges == [
        "专业 40",
        "学历 10",
        "毕业时间 15",
        "意向镇街 10",
        "意向行业 10",
        "技能关键词 10",
        "薪酬 5",
    ]
    assert "总分低于 40 分的岗位不推荐" in rules
