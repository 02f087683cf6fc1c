"""The recruitment journey in a real Chromium: an enterprise registers and (unverified) cannot
publish; HR bureau staff verify it; it publishes a posting that staff approve; a student finds
it by keyword, applies with the separate consent to share, is invited to an online interview,
confirms, and is hired. The student's talent record then holds the destination, the status is
"employed in Heshan", and the year's count of native hires went up by one."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from django.apps import apps
from django.core.cache import caches
from django.utils import timezone

from qinghe.accounts.demo import DEMO_PASSWORD
from qinghe.accounts.demo import personas_ensure as make_persona_users
from qinghe.enterprises.tests.factories import make_reference
from qinghe.enterprises.uscc import make_uscc
from qinghe.jobs.models import Posting
from qinghe.recruitment.models import Application, Interview, PipelineStage
from qinghe.recruitment.services.stages import default_stages_ensure
from qinghe.talents.models import Destination, Talent
from qinghe.talents.tests.factories import make_id, make_talent
from tests.e2e.conftest import sign_in

pytestmark = pytest.mark.django_db(transaction=True)

STUDENT_PHONE = "13512349876"
SIGNUP_PHONE = "13800138001"  # the demo student's account phone
ENTERPRISE = "鹤山市青鹤精密模具有限公司"
TITLE = "模具设计工程师"


def sign_out(page: Any) -> None:
    page.context.clear_cookies()


def native_hires_on_targets_page(page: Any) -> int:
    page.goto("/jobs/targets/")
    text = page.get_by_test_id("target-native_hires").locator(".display-6").inner_text()
    match = re.match(r"\s*(\d+)", text)
    assert match is not None, text
    return int(match.group(1))


def local(hours: float) -> str:
    moment = timezone.localtime(timezone.now() + dt.timedelta(hours=hours))
    return moment.strftime("%Y-%m-%dT%H:%M")


def test_an_enterprise_registers_publishes_and_hires_a_student_who_applied(page: Any) -> None:
    make_persona_users()
    ref = make_reference()
    # A transactional test database is flushed between tests: put the default stages back.
    default_stages_ensure()
    talent = make_talent(
        name="李晓彤",
        id_number=make_id("440784", "20030512", "102"),
        phone=STUDENT_PHONE,
        user=apps.get_model("accounts", "User").objects.get(username="xuezi"),
        graduation_year=timezone.localdate().year,
    )
    closing = (timezone.localdate() + dt.timedelta(days=30)).isoformat()

    # HR bureau staff note the year's native hires.
    sign_in(page, "renshe", DEMO_PASSWORD)
    before = native_hires_on_targets_page(page)
    sign_out(page)

    # 1. The enterprise registers.
    page.goto("/enterprises/register/")
    form = page.get_by_test_id("enterprise-register")
    form.locator("#id_uscc").fill(make_uscc("91440784MA4E2E01X"))
    form.locator("#id_name").fill(ENTERPRISE)
    form.locator("#id_industry").select_option("23")
    form.locator("#id_town").select_option(str(ref.shaping.pk))
    form.locator("#id_size").select_option("medium")
    form.locator("#id_contact_name").fill("何志明")
    form.locator("#id_contact_phone").fill("0750-8881234")
    form.locator("#id_username").fill("mould_hr")
    form.locator("#id_display_name").fill("何志明")
    form.locator("#id_password").fill("Mould-register-2026")
    form.locator("#id_password2").fill("Mould-register-2026")
    form.get_by_role("button", name="提交注册").click()
    page.wait_for_url("**/enterprises/mine/")

    # 2. It drafts a posting; unverified, it cannot submit it.
    page.goto("/jobs/mine/new/")
    form = page.get_by_test_id("posting-form")
    form.locator("#id_kind").select_option("job")
    form.locator("#id_title").fill(TITLE)
    form.locator("#id_description").fill("负责注塑模具的结构设计与试模，配合生产改进。")
    form.locator("#id_headcount").fill("2")
    form.locator("#id_salary_min").fill("6500")
    form.locator("#id_salary_max").fill("9000")
    form.locator("#id_town").select_option(str(ref.shaping.pk))
    form.locator("#id_closing_date").fill(closing)
    for name, text in (
        ("working_hours", "8:30–17:30，双休"),
        ("housing", "免费宿舍"),
        ("meals", "三餐补贴"),
        ("social_insurance", "五险一金"),
        ("leave", "年假 5 天"),
        ("safety", "岗前安全培训"),
    ):
        form.locator(f"#id_{name}").fill(text)
    form.get_by_role("button", name="保存草稿").click()
    page.wait_for_url(re.compile(r".*/jobs/mine/\d+/$"))
    posting_url = page.url
    page.get_by_role("button", name="提交审核").click()
    assert "企业尚未通过人社局认证" in page.locator("main").inner_text()
    posting = Posting.objects.get(title=TITLE)
    assert posting.state == Posting.State.DRAFT
    sign_out(page)

    # 3. Staff verify the enterprise.
    sign_in(page, "renshe", DEMO_PASSWORD)
    page.goto("/enterprises/review/")
    page.get_by_role("link", name=ENTERPRISE).click()
    page.get_by_test_id("verify").click()
    assert "已认证" in page.locator("main").inner_text()
    sign_out(page)

    # 4. The enterprise submits; staff approve and publish.
    sign_in(page, "mould_hr", "Mould-register-2026")
    page.goto(posting_url)
    page.get_by_role("button", name="提交审核").click()
    page.wait_for_load_state()
    sign_out(page)
    sign_in(page, "renshe", DEMO_PASSWORD)
    page.goto(f"/jobs/staff/{posting.pk}/")
    page.get_by_test_id("approve").click()
    page.wait_for_load_state()
    posting.refresh_from_db()
    assert posting.state == Posting.State.PUBLISHED
    sign_out(page)

    # 5. The student finds it by keyword and applies, ticking the consent.
    sign_in(page, "xuezi", DEMO_PASSWORD)
    page.goto("/jobs/?q=模具")
    page.get_by_test_id("posting-card").get_by_role("link", name=TITLE).click()
    page.get_by_test_id("open-apply").click()  # the form is a page of its own
    apply_form = page.get_by_test_id("apply-form")
    shared = page.get_by_test_id("shared").inner_text()
    # the sign-up phone is offered first and pre-selected; the student picks the record's number
    assert SIGNUP_PHONE in shared and "李晓彤" in shared
    assert apply_form.get_by_label(f"注册手机号 {SIGNUP_PHONE}").is_checked()
    apply_form.get_by_label(STUDENT_PHONE, exact=False).check()
    assert talent.id_number not in page.content()
    apply_form.get_by_label(f"同意向【{ENTERPRISE}】提供以上信息（用途：招聘）").check()
    apply_form.get_by_role("button", name="确认投递").click()
    page.wait_for_url(re.compile(r".*/jobs/applications/\d+/$"))
    my_application_url = page.url
    assert "已投递" in page.get_by_test_id("stage").inner_text()
    sign_out(page)

    # 6. The enterprise invites the student to an online interview.
    sign_in(page, "mould_hr", "Mould-register-2026")
    page.goto("/jobs/mine/applicants/")
    page.get_by_test_id("applicants").get_by_role("link", name="李晓彤").click()
    shared = page.get_by_test_id("shared").inner_text()
    assert STUDENT_PHONE in shared and SIGNUP_PHONE not in shared  # exactly what was chosen
    invite = page.get_by_test_id("invite-form")
    invite.locator("#id_starts_at").fill(local(48))
    invite.locator("#id_ends_at").fill(local(48.5))
    invite.locator("#id_mode").select_option("online")
    invite.locator("#id_meeting_url").fill("https://meeting.tencent.com/dm/qinghe-e2e")
    invite.get_by_role("button", name="发出邀请").click()
    page.get_by_test_id("interview").wait_for()
    applicant_url = page.url
    sign_out(page)

    # 7. The student confirms.
    sign_in(page, "xuezi", DEMO_PASSWORD)
    page.goto(my_application_url)
    assert "邀请你参加“模具设计工程师”面试" in page.get_by_test_id("timeline").inner_text()
    page.get_by_role("button", name="确认参加").click()
    page.get_by_test_id("interview").get_by_text("已确认").wait_for()
    assert Interview.objects.get().state == Interview.State.CONFIRMED
    sign_out(page)

    # 8. The enterprise hires.
    sign_in(page, "mould_hr", "Mould-register-2026")
    page.goto(applicant_url)
    offer = PipelineStage.objects.get(enterprise__isnull=True, code="offer")
    move = page.get_by_test_id("move-form")
    move.locator("select[name=stage]").select_option(str(offer.pk))
    move.get_by_role("button", name="变更").click()
    page.get_by_text("已写入该学生的毕业去向").wait_for()
    sign_out(page)

    # The talent record, its status and the year's count changed.
    destination = Destination.objects.get(talent=talent)
    assert (destination.kind, destination.employer, destination.area) == (
        "employed",
        ENTERPRISE,
        "heshan",
    )
    talent.refresh_from_db()
    assert (talent.status, talent.returned_home) == (Talent.Status.EMPLOYED_HESHAN, True)
    assert Application.objects.get().destination_id == destination.pk
    sign_in(page, "renshe", DEMO_PASSWORD)
    # The plan page's counts are kept for at most 60 s (plan/views.py); the live server runs in
    # this process: drop its kept parts as the minute passing would.
    caches["fragments"].clear()
    assert native_hires_on_targets_page(page) == before + 1
    assert page.console_errors == []
