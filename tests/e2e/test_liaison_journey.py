"""A liaison logs a contact and schedules a follow-up; a student orders a consultation, the
liaison answers it and the student rates the answer."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone

from qinghe.accounts.demo import DEMO_PASSWORD
from qinghe.accounts.demo import personas_ensure as make_persona_users
from qinghe.outreach.demo import seed_outreach
from qinghe.outreach.models import Consultation, ContactLog
from tests.e2e.conftest import go_to_menu, sign_in, sign_out

pytestmark = pytest.mark.django_db(transaction=True)


def test_liaison_logs_a_contact_and_a_student_orders_and_rates_a_consultation(page: Any) -> None:
    make_persona_users()
    seed_outreach()
    follow_up = timezone.localdate() + dt.timedelta(days=3)

    sign_in(page, "zhuanyuan", DEMO_PASSWORD)
    go_to_menu(page, "我的学子")
    page.get_by_test_id("students").get_by_role("link", name="记录联络").click()
    page.get_by_label("联络方式").select_option("wechat")
    page.get_by_label("联络结果").select_option("reached")
    page.get_by_label("下次跟进日期").fill(follow_up.isoformat())
    page.get_by_label("记录").fill("已在鹤山求职，关注电子信息类岗位")
    page.get_by_role("button", name="保存联络记录").click()
    page.wait_for_url("**/outreach/")
    assert "联络记录已保存" in page.content()
    assert (
        follow_up.strftime("%Y年%-m月%-d日") in page.get_by_test_id("students").inner_text()
        or str(follow_up) in page.get_by_test_id("students").inner_text()
    )
    log = ContactLog.objects.get()
    assert (log.channel, log.outcome, log.next_follow_up) == ("wechat", "reached", follow_up)
    sign_out(page)

    sign_in(page, "xuezi", DEMO_PASSWORD)
    go_to_menu(page, "点单咨询")
    page.get_by_label("咨询主题").select_option("schooling")
    page.get_by_label("问题").fill("孩子明年上小学，人才子女入学怎么办理？")
    page.get_by_role("button", name="提交咨询").click()
    assert "咨询已提交" in page.content()
    sign_out(page)

    sign_in(page, "zhuanyuan", DEMO_PASSWORD)
    page.goto("/outreach/consultations/")
    page.get_by_label("答复").fill("请带户口簿和人才证明到教育局窗口办理")
    page.get_by_role("button", name="答复").click()
    assert "答复已发送" in page.content()
    sign_out(page)

    sign_in(page, "xuezi", DEMO_PASSWORD)
    page.goto("/outreach/consult/")
    assert "请带户口簿" in page.get_by_test_id("consultation").inner_text()
    page.get_by_label("评分").select_option("5")
    page.get_by_role("button", name="评价并办结").click()
    assert "感谢你的评价" in page.content()
    c = Consultation.objects.get()
    assert (c.state, c.rating) == ("closed", 5)
    page.goto("/messages/")
    assert "你的咨询已答复" in page.get_by_test_id("inbox").inner_text()
    assert page.console_errors == []
