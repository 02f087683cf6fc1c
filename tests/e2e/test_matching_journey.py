"""The matching engine in a real Chromium, both directions and the staff's analysis pages.

1. 为你推荐: the student persona (李晓彤, a claimed record, consent to matching) opens her
   recommendations through the menu, reads the Chinese reasons, sets a preferred town and an
   expected salary, and sees the list recomputed: new reasons, new scores, a new order.
2. 推荐人才: the enterprise HR persona opens a posting's recommended talents, masked (李**, no
   school, private reasons in general words), and invites one; the student accepts; the
   enterprise then sees her name, school and exact reasons. A student who never consented,
   and one who withdrew after the last recompute, never appear.
3. HR bureau staff read 紧缺人才分析 (chart drawn, ranked table, .xlsx export) and the
   fairness page with its public rule and scoring rules.

The world: enterprise A (the persona's 雅图仕, 沙坪街道) with an open-major 软件开发工程师 and a
油墨化工工艺员 for chemical engineers, enterprise B (共和镇) with a 软件测试工程师 for the 计算机类,
a draft that is never recommended; five students (three consenting software/computing
students, one who never consented, one chemist). Recommendations are computed by the real
service, as the nightly task does."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from django.utils import timezone

from qinghe.accounts.demo import DEMO_PASSWORD
from qinghe.accounts.demo import personas_ensure as make_persona_users
from qinghe.core.roles import Role
from qinghe.enterprises.models import Enterprise
from qinghe.enterprises.tests.factories import Ref, make_enterprise, make_posting, make_reference
from qinghe.jobs.models import Posting
from qinghe.matching.models import Candidate, Invitation, MatchingProfile
from qinghe.matching.services.majors import major_occupations_build
from qinghe.matching.services.preferences import matching_profile_update
from qinghe.matching.services.recompute import recommendations_recompute_all
from qinghe.matching.services.tags import postings_classify
from qinghe.matching.tests.conftest import add_talent
from qinghe.reference.services import DATA_DIR, load_occupations
from qinghe.talents.models import Consent, Talent
from qinghe.talents.services import consent_record
from tests.e2e.conftest import go_to_menu, sign_in, sign_out

pytestmark = pytest.mark.django_db(transaction=True)

ENTERPRISE_B = "鹤山市华翔卫浴实业有限公司"
NATIVE = "鹤山籍优先：+3 分（上限 5 分，公开规则）"


@dataclass
class World:
    ref: Ref
    a: Enterprise
    software: Posting  # A, 沙坪街道, any major, 6000–9000
    testing: Posting  # B, 共和镇, 计算机类, 6000–8000
    chemical: Posting  # A, 化学工程与工艺 only
    draft: Posting  # A, never published
    student: Talent  # the persona 李晓彤: 软件工程, native, consents
    other: Talent  # 王子健: 计算机科学与技术, not native, consents
    never: Talent  # 陈思远: 软件工程, native, never consented
    withdrew: Talent  # 周子墨: 软件工程, native, consented, may withdraw
    chemist: Talent  # 赵雨桐: 化学工程与工艺, native, consents


def seed() -> World:
    users = make_persona_users()
    ref = make_reference()
    # The 2022 occupation catalog (a second or so); a transactional test flushes it afterwards.
    load_occupations(data_dir=DATA_DIR)
    hr = users[Role.ENTERPRISE_HR]
    a = make_enterprise(ref, name=hr.organisation.name, n=1, organisation=hr.organisation)
    b = make_enterprise(ref, name=ENTERPRISE_B, n=2, hr_username="qiye_b", town=ref.gonghe)
    software = make_posting(a, title="软件开发工程师", headcount=3)
    testing = make_posting(
        b,
        title="软件测试工程师",
        description="负责卫浴智能产品的软件测试，编写测试用例。",
        categories=[ref.computing],
        salary_max=8000,
        headcount=2,
    )
    chemical = make_posting(
        a,
        title="油墨化工工艺员",
        description="负责油墨配方与生产工艺。",
        majors=[ref.chem_eng],
        headcount=1,
    )
    draft = make_posting(a, title="印前设计工程师", state=Posting.State.DRAFT)
    world = World(
        ref=ref,
        a=a,
        software=software,
        testing=testing,
        chemical=chemical,
        draft=draft,
        student=add_talent(
            name="李晓彤", major=ref.software_eng, user=users[Role.STUDENT], seq="101"
        ),
        other=add_talent(name="王子健", major=ref.cs, native=False, seq="102"),
        never=add_talent(name="陈思远", major=ref.software_eng, consent=False, seq="103"),
        withdrew=add_talent(name="周子墨", major=ref.software_eng, seq="104"),
        chemist=add_talent(name="赵雨桐", major=ref.chem_eng, seq="105"),
    )
    major_occupations_build(category_ids=[ref.computing.pk, ref.chemistry.pk])
    postings_classify()
    recommendations_recompute_all()
    return world


def recommendations(page: Any) -> list[tuple[str, str, list[str]]]:
    """(title, score, reasons) of each full-time recommendation shown, in order."""
    out = []
    cards = page.locator("#tab-jobs").get_by_test_id("recommendation")
    for i in range(cards.count()):
        card = cards.nth(i)
        out.append(
            (
                card.get_by_role("link").first.inner_text().strip(),
                card.get_by_title("匹配分").inner_text().strip(),
                [
                    li.strip()
                    for li in card.get_by_test_id("reasons").locator("li").all_inner_texts()
                ],
            )
        )
    return out


def candidates(page: Any) -> list[tuple[str, list[str]]]:
    """(name cell, reasons) of each recommended talent shown, in order."""
    rows = page.get_by_test_id("candidate")
    return [
        (
            rows.nth(i).get_by_test_id("candidate-name").inner_text().strip(),
            [
                li.strip()
                for li in rows.nth(i).get_by_test_id("reasons").locator("li").all_inner_texts()
            ],
        )
        for i in range(rows.count())
    ]


def test_a_student_sees_reasoned_recommendations_and_tunes_them_with_preferences(
    page: Any,
) -> None:
    w = seed()

    sign_in(page, "xuezi", DEMO_PASSWORD)
    go_to_menu(page, "为你推荐")
    page.wait_for_url("**/matching/for-me/")
    assert page.get_by_role("tab", name="全职岗位（2）").is_visible()
    before = recommendations(page)
    # Equal scores keep the posting order; the draft and the chemists' posting are not offered.
    assert [(title, score) for title, score, _ in before] == [
        ("软件开发工程师", "63.0 分"),
        ("软件测试工程师", "63.0 分"),
    ]
    software_reasons, testing_reasons = before[0][2], before[1][2]
    assert software_reasons[0].startswith("专业对口：软件工程 → 计算机软件工程技术人员")
    assert testing_reasons[0].startswith("专业对口：软件工程（岗位要求专业类）")
    assert software_reasons[1].startswith("学历符合：本科（要求本科及以上）")
    assert any(NATIVE in r for r in software_reasons)
    # Nothing yet about a town or a salary: she has stated no preference.
    assert not any(r.startswith(("意向镇街", "离家近", "薪酬")) for _, _, rs in before for r in rs)
    text = page.locator("main").inner_text()
    assert "印前设计工程师" not in text and "油墨化工工艺员" not in text

    # She prefers 共和镇 and expects 8000 a month.
    page.get_by_role("link", name="设置匹配偏好").click()
    page.wait_for_url("**/matching/for-me/preferences/")
    page.get_by_label("共和镇").check()
    page.get_by_label("期望月薪（元）").fill("8000")
    page.get_by_role("button", name="保存并更新推荐").click()
    page.wait_for_url("**/matching/for-me/")
    assert "已保存匹配偏好，推荐已按新偏好更新。" in page.get_by_role("alert").inner_text()

    after = recommendations(page)
    assert [(title, score) for title, score, _ in after] == [
        ("软件测试工程师", "83.0 分"),
        ("软件开发工程师", "73.0 分"),
    ]
    testing_reasons, software_reasons = after[0][2], after[1][2]
    assert "意向镇街：共和镇 +10.0" in testing_reasons
    assert "薪酬符合期望：6000–8000 元/月（期望 8000 元） +10.0" in testing_reasons
    assert "薪酬符合期望：6000–9000 元/月（期望 8000 元） +10.0" in software_reasons
    assert not any(r.startswith("意向镇街") for r in software_reasons)

    # The form shows what she saved.
    page.get_by_role("link", name="设置匹配偏好").click()
    assert page.get_by_label("共和镇").is_checked()
    assert not page.get_by_label("沙坪街道").is_checked()
    assert page.get_by_label("期望月薪（元）").input_value() == "8000"
    profile = MatchingProfile.objects.get(talent=w.student)
    assert profile.expected_salary == 8000
    assert list(profile.preferred_towns.all()) == [w.ref.gonghe]
    assert page.console_errors == []


def test_an_enterprise_invites_a_masked_candidate_who_accepts_and_is_then_named(
    page: Any,
) -> None:
    w = seed()
    # The student prefers A's town and expects 8000: private facts the enterprise may only
    # read in general words until she shares (saving refreshes her lists through the task).
    matching_profile_update(
        talent=w.student,
        user=w.student.user,
        towns=[w.ref.shaping],
        industries=[],
        expected_salary=8000,
        skills="",
    )
    # 周子墨 withdraws after the last recompute: consent is checked when the page is read.
    consent_record(talent=w.withdrew, purpose=Consent.Purpose.MATCHING, granted=False, actor=None)

    # He is still among the stored candidates; 陈思远 never was.
    assert Candidate.objects.filter(posting=w.software, talent=w.withdrew).exists()
    assert not Candidate.objects.filter(talent=w.never).exists()

    sign_in(page, "qiye", DEMO_PASSWORD)
    go_to_menu(page, "推荐人才")
    page.wait_for_url("**/matching/postings/mine/")
    listing = page.get_by_test_id("ent-postings")
    assert "印前设计工程师" not in listing.inner_text()  # a draft has no recommendations
    listing.get_by_role("link", name="软件开发工程师").click()
    page.wait_for_url(f"**/matching/postings/{w.software.pk}/talents/")
    shown = candidates(page)
    assert [name for name, _ in shown] == ["李**", "王**"]
    table = page.get_by_test_id("candidates").inner_text()
    for hidden in ("李晓彤", "华南理工大学", "陈", "周", "沙坪街道", "8000"):
        assert hidden not in table
    li_reasons = shown[0][1]
    assert li_reasons[0].startswith("专业对口：软件工程 → 计算机软件工程技术人员")
    assert "工作地点符合其意向或离家较近 +10.0" in li_reasons
    assert "薪酬符合其期望 +10.0" in li_reasons
    assert any(NATIVE in r for r in li_reasons)

    # The HR invites 李**.
    row = page.get_by_test_id("candidate").filter(has_text="李**")
    row.get_by_label("邀请留言").fill("欢迎投递我司软件开发岗位")
    row.get_by_role("button", name="邀请投递").click()
    page.wait_for_url(f"**/matching/postings/{w.software.pk}/talents/")
    assert "已发出邀请" in page.get_by_role("alert").inner_text()
    row = page.get_by_test_id("candidate").filter(has_text="李**")
    assert row.get_by_test_id("invitation-state").inner_text() == "待回复"
    sign_out(page)

    # The student sees the invitation and accepts it, confirming the separate consent.
    sign_in(page, "xuezi", DEMO_PASSWORD)
    go_to_menu(page, "为你推荐")
    invitations = page.get_by_test_id("invitations")
    text = invitations.inner_text()
    assert "软件开发工程师" in text
    assert w.a.name in text
    assert "欢迎投递我司软件开发岗位" in text
    dialogs: list[str] = []

    def accept(dialog: Any) -> None:
        dialogs.append(dialog.message)
        dialog.accept()

    page.once("dialog", accept)
    invitations.get_by_role("button", name="接受并向该企业提供信息").click()
    page.wait_for_url("**/matching/for-me/")
    assert "已接受邀请，企业现在可以看到你的姓名与教育经历。" in (
        page.get_by_role("alert").inner_text()
    )
    assert len(dialogs) == 1 and "第二十三条" in dialogs[0]
    assert page.get_by_test_id("invitations").count() == 0
    invitation = Invitation.objects.get()
    assert invitation.state == Invitation.State.ACCEPTED
    assert invitation.consent is not None
    assert (invitation.consent.purpose, invitation.consent.enterprise_id) == (
        Consent.Purpose.SHARE_ENTERPRISE,
        w.a.organisation_id,
    )
    sign_out(page)

    # Back at the enterprise: she is named, with her school and the exact reasons.
    sign_in(page, "qiye", DEMO_PASSWORD)
    page.goto(f"/matching/postings/{w.software.pk}/talents/")
    shown = candidates(page)
    assert [name.splitlines() for name, _ in shown] == [["李晓彤", "华南理工大学"], ["王**"]]
    li_reasons = shown[0][1]
    assert "意向镇街：沙坪街道 +10.0" in li_reasons
    assert "薪酬符合期望：6000–9000 元/月（期望 8000 元） +10.0" in li_reasons
    row = page.get_by_test_id("candidate").filter(has_text="李晓彤")
    assert row.get_by_test_id("invitation-state").inner_text() == "已接受"
    table = page.get_by_test_id("candidates").inner_text()
    assert "陈" not in table and "周" not in table
    assert page.console_errors == []
    # Enterprise B's posting is not A's to look at.
    assert page.goto(f"/matching/postings/{w.testing.pk}/talents/").status == 404


def test_staff_read_the_gap_analysis_export_it_and_read_the_fairness_rules(
    page: Any, tmp_path: Path
) -> None:
    seed()
    year = timezone.localdate().year

    sign_in(page, "renshe", DEMO_PASSWORD)
    go_to_menu(page, "紧缺人才分析")
    page.wait_for_url("**/matching/gap/")
    assert (
        f"在招招聘人数共 6 人；{year}–{year + 2} 年毕业的鹤山籍学子共 4 人。"
        in page.locator("main").inner_text()
    )
    # ECharts draws into a canvas inside each chart element.
    for chart in ("gap-chart-categories", "gap-chart-groups"):
        canvas = page.locator(f'[data-chart="{chart}"] canvas')
        canvas.first.wait_for()
        box = canvas.first.bounding_box()
        assert box is not None and box["width"] > 0 and box["height"] > 0
    by_category = page.locator("section[aria-labelledby=by-category]").get_by_test_id("gap-table")
    rows = by_category.locator("tbody tr")
    assert [
        [cell.strip() for cell in rows.nth(i).locator("td").all_inner_texts()]
        for i in range(rows.count())
    ] == [
        ["1", "0809 计算机类", "2.0", "5.0", "3.0", "0.60", "1.09", "该专业类学子"],
        ["2", "0813 化工与制药类", "1.0", "1.0", "1.0", "1.00", "0.80", "该专业类学子"],
    ]
    by_group = page.locator("section[aria-labelledby=by-group]").get_by_test_id("gap-table")
    assert by_group.locator("tbody tr td").first.inner_text().strip() == "1"
    group_rows = by_group.locator("tbody tr").count()
    assert group_rows >= 1

    # The export downloads an .xlsx with the same ranking.
    with page.expect_download() as info:
        page.get_by_test_id("gap-export").click()
    download = info.value
    assert download.suggested_filename == f"skills-gap-{timezone.localdate():%Y%m%d}.xlsx"
    saved = tmp_path / download.suggested_filename
    download.save_as(saved)
    workbook = openpyxl.load_workbook(saved, read_only=True)
    assert workbook.sheetnames == ["按专业类", "按职业小类", "说明"]
    sheet = list(workbook["按专业类"].iter_rows(values_only=True))
    assert sheet[0] == (
        "排名",
        "代码",
        "名称",
        "在招岗位数",
        "招聘人数",
        "未来三年毕业的鹤山籍学子",
        "供需比（学子/招聘人数）",
        "紧缺指数",
    )
    assert sheet[1:] == [
        (1, "0809", "计算机类", 2, 5, 3, 0.6, 1.09),
        (2, "0813", "化工与制药类", 1, 1, 1, 1, 0.8),
    ]
    assert len(list(workbook["按职业小类"].iter_rows(values_only=True))) == group_rows + 1
    workbook.close()

    # The fairness page states the public rule and the points of each criterion.
    page.get_by_test_id("matching-nav").get_by_role("link", name="推荐公平性").click()
    page.wait_for_url("**/matching/fairness/")
    assert "合计不超过 5 分" in page.locator("main").inner_text()
    rules = page.get_by_test_id("scoring-rules")
    assert [b.strip() for b in rules.locator(".badge").all_inner_texts()] == [
        "专业 35",
        "学历 10",
        "毕业时间 15",
        "意向镇街 10",
        "意向行业 10",
        "技能关键词 10",
        "薪酬 10",
    ]
    assert "总分低于 40 分的岗位不推荐" in rules.inner_text()
    fairness = page.get_by_test_id("fairness")
    titles = fairness.locator("tbody tr td:first-child").all_inner_texts()
    assert sorted(t.splitlines()[0] for t in titles) == sorted(
        ["软件开发工程师", "软件测试工程师", "油墨化工工艺员"]
    )
    # 软件开发工程师: all 4 consenting students pass its hard filters (李, 周, 赵 natives; 王
    # not); the 3 who score 40 or more are its top (李, 周 natives), none 双一流.
    row = fairness.locator("tbody tr").filter(has_text="软件开发工程师")
    assert [c.strip() for c in row.locator("td").all_inner_texts()[1:7]] == [
        "4",
        "75%",
        "2/3",
        "2/3",
        "0%",
        "0/3",
    ]
    assert page.console_errors == []
