"""What every page pays, kept small (docs/SCALING.md, the load test): the menu is worked out
once per role and rendered once per role and page, and a capped paginator counts a bounded
number of rows."""

from __future__ import annotations

import re
from typing import Any

import pytest

from qinghe.core.navigation import menu_for, menu_groups_for, menus_for
from qinghe.core.pagination import CappedPaginator
from qinghe.core.roles import Role
from qinghe.reference.models import Town

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("role", [Role.STUDENT, Role.HR_STAFF, Role.SYSADMIN, Role.ENTERPRISE_HR])
def test_the_menu_worked_out_once_per_role_is_the_menu_of_that_role(
    personas: Any, role: str
) -> None:
    user = personas[role]
    menu, groups = menus_for(user)
    assert [i.url_name for i in menu] == [i.url_name for i in menu_for(user)]
    assert [(g.key, [i.url_name for i in g.items]) for g in groups] == [
        (g.key, [i.url_name for i in g.items]) for g in menu_groups_for(user)
    ]
    assert menus_for(user)[0] is menu  # kept, not worked out again


def test_the_page_menu_differs_by_role_and_marks_the_current_page(client_as: Any) -> None:
    staff = client_as(Role.HR_STAFF).get("/workbench/").content.decode()
    student = client_as(Role.STUDENT).get("/workbench/").content.decode()
    assert 'href="/talents/"' in staff and 'href="/talents/"' not in student
    search = client_as(Role.STUDENT).get("/jobs/").content.decode()
    assert re.search(r'class="(nav-link|dropdown-item) active" href="/jobs/"', search)
    assert not re.search(r'class="(nav-link|dropdown-item) active" href="/jobs/"', student)


def test_the_capped_paginator_counts_exactly_up_to_its_cap(ref: Any) -> None:
    towns = Town.objects.order_by("code")
    total = towns.count()
    assert total == 3
    exact = CappedPaginator(towns, 1, cap=total)
    assert (exact.count, exact.capped, exact.num_pages) == (3, False, 3)
    capped = CappedPaginator(towns, 1, cap=2)
    assert (capped.count, capped.capped, capped.num_pages) == (2, True, 2)
    assert [t.pk for t in capped.page(2).object_list] == [towns[1].pk]


@pytest.mark.parametrize(
    "value",
    [0, 0.0, 0.25, 0.05, 2.05, 12.35, 12.25, 99.95, 100, 3.14159, 7, -1.25, -0.04, 1e-7,
     1234567.25, "3.45", "8", None, "abc", float("nan")],
)  # fmt: skip
def test_one_decimal_reads_as_floatformat_1(value: Any) -> None:
    from django.template.defaultfilters import floatformat
    from django.utils import translation

    from qinghe.core.templatetags.qinghe import one_decimal

    with translation.override("zh-hans"):
        assert one_decimal(value) == str(floatformat(value, 1))
