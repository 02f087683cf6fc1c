"""On a 390-px phone: a student checks 一次性创业资助, sees which rule fails and the date it
will pass, then (with a business registered long enough ago) applies with uploaded files; one
HR officer reviews (初审) and cannot also approve; a second person approves (复审) and records
the payment, which the student then sees. Nothing overflows sideways."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from dateutil.relativedelta import relativedelta
from django.utils import timezone

from qinghe.accounts.demo import DEMO_PASSWORD
from qinghe.accounts.demo import personas_ensure as make_persona_users
from qinghe.core.roles import Role
from qinghe.policies.models import Application, Payment
from qinghe.policies.services import builtin_ensure
from qinghe.talents.models import Talent
from qinghe.talents.tests.factories import make_talent
from tests.e2e.conftest import go_to_menu, sign_in

pytestmark = pytest.mark.django_db(transaction=True)

PHONE = {"width": 390, "height": 844}
PDF = b"%PDF-1.4\n% e2e\n"


def no_sideways_scroll(page: Any) -> bool:
    return bool(page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"))


def fill_check(page: Any, registered: dt.date) -> None:
    page.get_by_label("人员类别").select_option("毕业生")
    page.get_by_label("营业执照注册日期").fill(registered.isoformat())
    page.get_by_label("员工连续参保月数").fill("3")
    assert page.get_by_label("招用人数").count() == 0  # this programme does not ask it
    page.get_by_test_id("run-check").click()


def test_check_apply_review_approve_pay(page: Any) -> None:
    users = make_persona_users()
    builtin_ensure()
    student = users[Role.STUDENT]
    talent = make_talent(
        name="李晓彤", phone=None, graduation_year=2024, user=student, gender=Talent.Gender.FEMALE
    )
    Talent.objects.filter(pk=talent.pk).update(birth_date=dt.date(2001, 4, 2))
    today = timezone.localdate()
    page.set_viewport_size(PHONE)

    sign_in(page, "xuezi", DEMO_PASSWORD)
    go_to_menu(page, "政策与补贴")
    page.wait_for_url("**/policies/for-me/")
    page.get_by_role("link", name="补贴资格自查").click()
    page.wait_for_url("**/policies/programmes/")
    page.locator(".card", has_text="一次性创业资助").get_by_role("link", name="资格自查").click()
    page.wait_for_url("**/policies/programmes/one_off_startup/check/")

    recent = today - relativedelta(months=2)
    fill_check(page, recent)
    assert page.get_by_test_id("verdict").inner_text() == "暂不符合条件"
    failing = page.locator('[data-passed="0"]')
    assert failing.count() == 1
    assert "企业或个体工商户注册满6个月" in failing.inner_text()
    when = recent + relativedelta(months=6)
    assert page.get_by_test_id("passes-on").inner_text() == (
        f"预计 {when.year}年{when.month}月{when.day}日 起满足"
    )
    assert no_sideways_scroll(page)

    fill_check(page, today - relativedelta(months=7))
    assert page.get_by_test_id("verdict").inner_text() == "符合条件，可申请 10000 元"
    page.get_by_label("营业执照（PDF/JPG/PNG，10 MB 以内）").set_input_files(
        {"name": "执照.pdf", "mimeType": "application/pdf", "buffer": PDF}
    )
    page.get_by_label("员工社保缴费证明（PDF/JPG/PNG，10 MB 以内）").set_input_files(
        {"name": "社保.pdf", "mimeType": "application/pdf", "buffer": PDF}
    )
    page.get_by_test_id("apply").click()
    page.wait_for_url("**/policies/applications/*/")
    assert page.get_by_test_id("state").inner_text() == "已提交，待初审"
    application = Application.objects.get(applicant=student)
    assert no_sideways_scroll(page)
    page.context.clear_cookies()

    sign_in(page, "renshe", DEMO_PASSWORD)
    page.goto(f"/policies/applications/{application.pk}/")
    page.locator('button[data-action="review"]').click()
    assert page.get_by_test_id("state").inner_text() == "初审通过，待复审"
    page.locator('button[data-action="approve"]').click()  # the same person: refused
    assert "复审须由初审以外的工作人员进行" in page.locator("main").inner_text()
    assert page.get_by_test_id("state").inner_text() == "初审通过，待复审"
    page.context.clear_cookies()

    sign_in(page, "admin", DEMO_PASSWORD)
    page.goto(f"/policies/applications/{application.pk}/")
    page.locator('button[data-action="approve"]').click()
    assert page.get_by_test_id("state").inner_text() == "已批准"
    page.get_by_test_id("record-payment").click()
    assert "第 1 期 · 10000 元" in page.get_by_test_id("payments").inner_text()
    assert Payment.objects.filter(application=application).count() == 1
    page.context.clear_cookies()

    sign_in(page, "xuezi", DEMO_PASSWORD)
    page.goto(f"/policies/applications/{application.pk}/")
    assert "第 1 期 · 10000 元" in page.get_by_test_id("payments").inner_text()
    assert no_sideways_scroll(page)
    assert page.console_errors == []
