"""On a 390-px phone: a student who is in no survey signs up with an SMS code, claims (a record
they create, 学生自建，待核实), enters their education with the catalog's suggestions, is told
to consent to matching, sets job intentions and sees 为你推荐 filled at once."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import override_settings
from playwright.sync_api import expect

from qinghe.accounts.demo import personas_ensure as make_persona_users
from qinghe.accounts.sms import CODE_RE, MemorySmsSender
from qinghe.core.roles import Role
from qinghe.enterprises.tests.factories import make_enterprise, make_posting, make_reference
from qinghe.matching.services.majors import major_occupations_build
from qinghe.matching.services.tags import postings_classify
from qinghe.reference.models import Major, University
from qinghe.reference.services import DATA_DIR, load_occupations
from qinghe.reference.text import build_search_text, name_key
from qinghe.talents.models import Education, Source, Talent
from qinghe.talents.tests.factories import make_id

pytestmark = pytest.mark.django_db(transaction=True)

PHONE = {"width": 390, "height": 844}
ID_NUMBER = make_id("440784", "20040101", "456")
PASSWORD = "Heshan-home-2026"


def seed() -> None:
    users = make_persona_users()
    ref = make_reference()
    load_occupations(data_dir=DATA_DIR)
    hr = users[Role.ENTERPRISE_HR]
    a = make_enterprise(ref, name=hr.organisation.name, n=1, organisation=hr.organisation)
    make_posting(a, title="软件开发工程师", town=ref.shaping)
    make_posting(
        a, title="油墨化工工艺员", description="负责油墨配方与生产工艺。", majors=[ref.chem_eng]
    )
    Major.objects.filter(pk=ref.software_eng.pk).update(
        search_text=build_search_text("软件工程", code="080902")
    )
    for source_id, name in (("10561", "华南理工大学"), ("10559", "暨南大学")):
        University.objects.create(
            source_id=source_id,
            name=name,
            name_key=name_key(name),
            search_text=build_search_text(name),
            province="广东",
            city="广州",
        )
    major_occupations_build(category_ids=[ref.computing.pk, ref.chemistry.pk])
    postings_classify()


def no_sideways_scroll(page: Any) -> bool:
    return bool(page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"))


def test_a_student_in_no_survey_signs_up_enters_education_and_gets_recommendations(
    page: Any,
) -> None:
    seed()
    MemorySmsSender.clear()
    page.set_viewport_size(PHONE)
    with override_settings(SMS_SENDER="qinghe.accounts.sms.MemorySmsSender"):
        # Sign up with a code sent by SMS.
        page.goto("/accounts/register/")
        page.get_by_label("手机号").fill("13800138456")
        page.get_by_role("button", name="获取验证码").click()
        page.wait_for_url("**/accounts/register/verify/")
        match = CODE_RE.search(MemorySmsSender.outbox[-1].text)
        assert match is not None
        form = page.get_by_test_id("register-verify")
        form.get_by_label("短信验证码").fill(match.group(1))
        form.get_by_label("姓名").fill("区浩然")
        form.get_by_label("用户名").fill("ouhaoran")
        form.locator("#id_password").fill(PASSWORD)
        form.locator("#id_password2").fill(PASSWORD)
        form.get_by_role("button", name="注册").click()
        page.wait_for_url("**/me/claim/")
    MemorySmsSender.clear()

    # Claim: no survey holds this ID number, so the student's own record is created.
    page.get_by_label("身份证号").fill(ID_NUMBER)
    page.get_by_label("姓名").fill("区浩然")
    page.get_by_role("button", name="认领").click()
    page.wait_for_url("**/me/")
    talent = Talent.objects.get(user__username="ouhaoran")
    assert talent.verification == Talent.Verification.PENDING
    assert no_sideways_scroll(page)

    # Enter the education, picking the university and the major from the suggestions.
    page.get_by_test_id("education-link").click()
    page.wait_for_url("**/me/education/")
    page.get_by_label("就读院校").press_sequentially("华南")
    expect(page.locator("#university-options option")).to_have_count(1)
    assert page.locator("#university-options option").first.get_attribute("value") == (
        "华南理工大学"
    )
    page.get_by_label("就读院校").fill("华南理工大学")
    page.get_by_label("学历层次").select_option(label="本科")
    page.get_by_label("所学专业").press_sequentially("rjgc")
    expect(page.locator("#major-options option")).to_have_count(1)
    assert page.locator("#major-options option").first.get_attribute("value") == "软件工程"
    page.get_by_label("所学专业").fill("软件工程")
    page.get_by_label("入学时间").fill("2021-09")
    page.get_by_label("毕业时间（预计）").fill("2025-06")
    assert no_sideways_scroll(page)
    page.get_by_role("button", name="保存", exact=True).click()

    # No consent to matching yet: the student is shown where to give it.
    page.wait_for_url("**/me/#consents")
    assert "你还没有同意“岗位匹配与推荐”" in page.locator("main").inner_text()
    row = Education.objects.get(talent=talent)
    assert (row.university_name, row.major_name, row.level, row.source) == (
        "华南理工大学",
        "软件工程",
        "bachelor",
        Source.STUDENT,
    )
    page.get_by_test_id("consent-matching").get_by_role("button", name="同意").click()
    page.wait_for_url("**/me/")

    # Job intentions on the matching preferences page, linked from the record.
    page.get_by_role("link", name="求职意向").click()
    page.wait_for_url("**/matching/for-me/preferences/")
    page.get_by_label("技能与关键词").fill("Python 软件开发")
    page.get_by_role("button", name="保存并更新推荐").click()
    page.wait_for_url("**/matching/for-me/")

    titles = page.locator("#tab-jobs").get_by_test_id("recommendation").all_inner_texts()
    assert len(titles) == 1 and "软件开发工程师" in titles[0]
    assert no_sideways_scroll(page)

    # The same page on a desktop.
    page.set_viewport_size({"width": 1280, "height": 900})
    page.reload()
    assert page.locator("#tab-jobs").get_by_test_id("recommendation").count() == 1
    assert page.console_errors == []
