"""The pages: the public library (search, versions, comparison), the student's check, the
staff rule editor, the batch page's .xlsx and the figures page."""

from __future__ import annotations

import datetime as dt
import io
from typing import Any

import pytest
from dateutil.relativedelta import relativedelta
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone
from python_calamine import CalamineWorkbook

from qinghe.accounts.models import User
from qinghe.core.models import AuditLog
from qinghe.core.roles import Role
from qinghe.policies.models import Application, Policy, Programme, Rule, RuleVersion
from qinghe.policies.services import PolicyInput, builtin_ensure, policy_create
from qinghe.talents.models import Talent
from qinghe.talents.tests.factories import make_talent

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _builtin(db: Any) -> None:
    builtin_ensure()


def test_library_is_public_and_searches_chinese_words(client: Client) -> None:
    page = client.get("/policies/", {"q": "创业补贴"})
    assert page.status_code == 200
    titles = [p.title for p in page.context["page"]]
    assert titles == [
        "国务院办公厅关于进一步做好高校毕业生等青年就业创业工作的通知",  # 一次性创业补贴
        "广东省就业创业补贴申请办理指导清单",
    ]
    assert [p.title for p in client.get("/policies/", {"q": "子女入学"}).context["page"]] == [
        "鹤山市人才发展政策（2021年）"
    ]
    assert [p.title for p in client.get("/policies/", {"q": "国办发"}).context["page"]] == [
        "国务院办公厅关于进一步做好高校毕业生等青年就业创业工作的通知"
    ]
    assert list(client.get("/policies/", {"q": "养老保险缴费"}).context["page"]) == []
    by_level = client.get("/policies/", {"level": "heshan"}).context["page"]
    assert [p.level for p in by_level] == ["heshan"]
    by_tag = client.get("/policies/", {"tag": "购房"}).context["page"]
    assert [p.title for p in by_tag] == ["鹤山市人才发展政策（2021年）"]


def test_a_replaced_policy_stays_readable_and_says_what_replaced_it(
    client: Client, personas: dict[str, User]
) -> None:
    old = Policy.objects.get(title="鹤山市人才发展政策（2021年）")
    new = policy_create(
        actor=personas[Role.HR_STAFF],
        data=PolicyInput(
            title="鹤山市人才发展政策（修订）",
            level="heshan",
            issuer="中共鹤山市委人才工作领导小组",
            summary="修订后的人才政策",
            tags=("人才引进",),
            replaces_id=old.pk,
        ),
    )
    page = client.get(f"/policies/{old.pk}/")
    assert page.status_code == 200
    assert "本政策已被《" in page.content.decode()
    assert f'href="/policies/{new.pk}/"' in page.content.decode()
    newer = client.get(f"/policies/{new.pk}/").content.decode()
    assert "替代了" in newer and old.title in newer
    assert AuditLog.objects.filter(action="policies.policy_create").count() == 1


def test_compare_two_or_three(client: Client) -> None:
    ids = list(Policy.objects.order_by("id").values_list("id", flat=True))
    page = client.get("/policies/compare/", {"ids": ids[:2]})
    assert [p.pk for p in page.context["policies"]] == ids[:2]
    assert page.context["error"] == ""
    one = client.get("/policies/compare/", {"ids": ids[:1]})
    assert one.context["error"] == "请选择 2 至 3 项政策进行对比"


@pytest.fixture
def student(personas: dict[str, User]) -> User:
    user = personas[Role.STUDENT]
    talent = make_talent(phone=None, graduation_year=2024, user=user, gender=Talent.Gender.MALE)
    talent.birth_date = dt.date(2001, 4, 2)
    talent.save(update_fields=["birth_date"])
    return user


def test_check_shows_each_rule_and_the_date_a_time_rule_will_pass(
    client_as: Any, student: User
) -> None:
    today = timezone.localdate()
    registered = today - relativedelta(months=2)
    page = client_as(Role.STUDENT).get(
        "/policies/programmes/one_off_startup/check/",
        {
            "run": "1",
            "category": "毕业生",
            "registered_on": registered.isoformat(),
            "insured_months": "3",
            "hires": "1",
        },
    )
    assert page.status_code == 200
    result = page.context["result"]
    assert result.eligible is False
    assert result.failed_codes == ["registered_6_months"]
    [failed] = [r for r in result.results if not r.passed]
    assert failed.passes_on == registered + relativedelta(months=6)
    html = page.content.decode()
    assert 'data-testid="passes-on"' in html
    assert "企业或个体工商户注册满6个月" in html
    assert 'data-testid="apply"' not in html


def test_check_then_apply_through_the_pages(client_as: Any, student: User) -> None:
    client = client_as(Role.STUDENT)
    registered = (timezone.localdate() - relativedelta(months=7)).isoformat()
    values = {
        "category": "毕业生",
        "registered_on": registered,
        "insured_months": "3",
        "hires": "1",
    }
    page = client.get("/policies/programmes/one_off_startup/check/", {"run": "1", **values})
    assert page.context["result"].eligible is True
    assert "符合条件，可申请 10000 元" in page.content.decode()
    response = client.post(
        "/policies/programmes/one_off_startup/apply/",
        {
            **values,
            "file_0": SimpleUploadedFile("执照.pdf", b"%PDF-1.4 x"),
            "file_1": SimpleUploadedFile("社保.pdf", b"%PDF-1.4 y"),
        },
    )
    application = Application.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/policies/applications/{application.pk}/"
    detail = client.get(response["Location"])
    assert "已提交，待初审" in detail.content.decode()
    licence = application.files.get(kind="营业执照")
    download = client.get(f"/policies/applications/{application.pk}/files/{licence.pk}/")
    assert download.content == b"%PDF-1.4 x"


def test_a_refused_application_goes_back_with_the_reason_and_saves_nothing(
    client_as: Any, student: User
) -> None:
    response = client_as(Role.STUDENT).post(
        "/policies/programmes/one_off_startup/apply/",
        {"category": "其他", "registered_on": "2020-01-01", "insured_months": "0"},
        follow=True,
    )
    assert "暂不符合申请条件" in response.content.decode()
    assert Application.objects.count() == 0


def test_another_student_cannot_see_an_application(
    client_as: Any, student: User, personas: dict[str, User]
) -> None:
    application = Application.objects.create(
        programme=Programme.objects.get(code="one_off_startup"), applicant=student
    )
    assert (
        client_as(Role.AMBASSADOR).get(f"/policies/applications/{application.pk}/").status_code
        == 404
    )
    assert (
        client_as(Role.HR_STAFF).get(f"/policies/applications/{application.pk}/").status_code == 200
    )


def test_staff_rule_edit_page_refuses_a_bad_expression_and_saves_nothing(client_as: Any) -> None:
    rule = Rule.objects.get(programme__code="startup_hiring", code="hires_at_least_1")
    client = client_as(Role.HR_STAFF)
    page = client.post(
        "/policies/staff/programmes/startup_hiring/",
        {
            "rule_id": rule.pk,
            "code": rule.code,
            "explanation": rule.explanation,
            "expression": "employees >= 1",
        },  # fmt: skip
    )
    assert page.status_code == 200
    assert "未知的字段：employees" in page.content.decode()
    rule.refresh_from_db()
    assert (rule.expression, rule.version) == ("hires >= 1", 1)
    assert RuleVersion.objects.filter(rule=rule).count() == 1

    ok = client.post(
        "/policies/staff/programmes/startup_hiring/",
        {
            "rule_id": rule.pk,
            "code": rule.code,
            "explanation": "招用2人以上",
            "expression": "hires >= 2",
            "note": "试行",
        },  # fmt: skip
    )
    assert ok.status_code == 302
    rule.refresh_from_db()
    assert (rule.expression, rule.version) == ("hires >= 2", 2)


def test_staff_add_a_heshan_programme_with_a_double_first_class_amount(
    client_as: Any, student: User
) -> None:
    client = client_as(Role.HR_STAFF)
    response = client.post(
        "/policies/staff/programmes/",
        {
            "code": "heshan_living",
            "name": "鹤山市青年人才生活补贴",
            "schedule": "monthly",
            "periods": "12",
            "amount_expression": "double_first_class ? 3000 : 1500",
            "materials": "毕业证书",
        },  # fmt: skip
    )
    assert response.status_code == 302
    programme = Programme.objects.get(code="heshan_living")
    assert (programme.periods, programme.materials) == (12, ["毕业证书"])
    bad = client.post(
        "/policies/staff/programmes/",
        {
            "code": "heshan_rent",
            "name": "租房补贴",
            "schedule": "once",
            "periods": "1",
            "amount_expression": "rent * 2",
        },  # fmt: skip
    )
    assert "未知的字段：rent" in bad.content.decode()
    assert not Programme.objects.filter(code="heshan_rent").exists()


def test_batch_page_returns_an_xlsx(client_as: Any) -> None:
    csv_text = (
        "编号,性别,出生日期,人员类别,毕业日期,注册日期,连续参保月数,经营异常名录,已享受,招用人数\n"
        "A1,女,1990-01-01,在校生,,2025-01-01,3,否,否,1\n"
        "A2,女,1990-01-01,其他,,2025-01-01,3,否,否,1\n"
    )
    response = client_as(Role.HR_STAFF).post(
        "/policies/staff/batch/",
        {
            "programme": "one_off_startup",
            "as_of": "2026-01-01",
            "file": SimpleUploadedFile("in.csv", csv_text.encode()),
        },
    )
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    rows = (
        CalamineWorkbook.from_filelike(io.BytesIO(response.content))
        .get_sheet_by_index(0)
        .to_python()
    )
    assert [r[:4] for r in rows[1:]] == [
        ["A1", "eligible", 10000, ""],
        ["A2", "ineligible", 0, "category"],
    ]


def test_batch_page_shows_bad_rows(client_as: Any) -> None:
    csv_text = "编号,性别\nA1,女\n"
    page = client_as(Role.HR_STAFF).post(
        "/policies/staff/batch/",
        {
            "programme": "one_off_startup",
            "as_of": "2026-01-01",
            "file": SimpleUploadedFile("in.csv", csv_text.encode()),
        },  # fmt: skip
    )
    assert page.status_code == 200
    assert "表头不正确" in page.context["error"]


def test_figures_page(client_as: Any) -> None:
    page = client_as(Role.HR_STAFF).get("/policies/staff/figures/")
    assert page.status_code == 200
    assert page.context["figures"]["applications"] == 0


def test_demo_seed_is_idempotent(personas: dict[str, User]) -> None:
    from qinghe.policies.demo import seed_policies

    seed_policies()
    seed_policies()
    assert Programme.objects.filter(code="heshan_living_allowance").count() == 1
    assert Rule.objects.filter(programme__code="heshan_living_allowance").count() == 2
    [application] = Application.objects.all()
    assert (application.programme.code, application.state, application.amount) == (
        "startup_hiring",
        Application.State.SUBMITTED,
        9000,
    )
    assert application.files.count() == 3
    from qinghe.policies.models import PolicyAttachment

    [annex] = PolicyAttachment.objects.all()
    assert (annex.title, annex.policy_id) == (
        "申请材料清单（演示）",
        Programme.objects.get(code="one_off_startup").policy_id,
    )


def test_the_form_asks_only_what_the_rules_read() -> None:
    from qinghe.policies.services import declared_fields_for

    assert declared_fields_for(Programme.objects.get(code="one_off_startup")) == [
        "category",
        "registered_on",
        "insured_months",
        "abnormal",
        "funded_before",
    ]
    assert declared_fields_for(Programme.objects.get(code="startup_hiring")) == [
        "registered_on",
        "insured_months",
        "abnormal",
        "hires",
    ]


def test_policies_for_me_follow_what_the_platform_holds(client_as: Any, student: User) -> None:
    page = client_as(Role.STUDENT).get("/policies/for-me/")
    titles = [p.title for p in page.context["policies"]]
    # a graduate: graduation and start-up policies; not the talent-introduction one (not 双一流)
    assert titles == [
        "国务院办公厅关于进一步做好高校毕业生等青年就业创业工作的通知",
        "广东省就业创业补贴申请办理指导清单",
    ]
    Talent.objects.get(user=student).educations.update(is_double_first_class=True)
    page = client_as(Role.STUDENT).get("/policies/for-me/")
    assert "鹤山市人才发展政策（2021年）" in [p.title for p in page.context["policies"]]


def test_staff_publish_a_policy_page_refuses_a_bad_date(client_as: Any) -> None:
    client = client_as(Role.HR_STAFF)
    before = Policy.objects.count()
    bad = client.post(
        "/policies/staff/new/",
        {
            "title": "鹤山市测试政策",
            "level": "heshan",
            "issuer": "鹤山市人社局",
            "effective_from": "2026-02-30",
        },  # fmt: skip
    )
    assert "日期不正确（应为 YYYY-MM-DD）" in bad.content.decode()
    assert Policy.objects.count() == before
    ok = client.post(
        "/policies/staff/new/",
        {
            "title": "鹤山市测试政策",
            "level": "heshan",
            "issuer": "鹤山市人社局",
            "tags": "创业，购房",
            "full_text": "返乡创业研学基地建设",
        },  # fmt: skip
    )
    policy = Policy.objects.get(title="鹤山市测试政策")
    assert ok["Location"] == f"/policies/{policy.pk}/"
    assert policy.tags == ["创业", "购房"]
    assert [p.pk for p in client.get("/policies/", {"q": "研学基地"}).context["page"]] == [
        policy.pk
    ]


def test_staff_retire_a_rule(client_as: Any) -> None:
    rule = Rule.objects.get(programme__code="startup_hiring", code="hires_at_least_1")
    response = client_as(Role.HR_STAFF).post(
        "/policies/staff/programmes/startup_hiring/",
        {"rule_id": rule.pk, "retire": "1", "note": "政策调整"},
    )
    assert response.status_code == 302
    rule.refresh_from_db()
    assert (rule.active, rule.version) == (False, 2)
    assert list(rule.versions.values_list("version", "active", "note")) == [
        (2, False, "政策调整"),
        (1, True, "内置规则"),
    ]
    assert AuditLog.objects.filter(action="policies.rule_retire").count() == 1
