"""Applications: apply with materials (checked, encrypted at rest), 初审 and 复审 by different
staff, more materials, rejection with a reason, eligibility re-checked at each step, payments
once per period, a message and an audit row at every step, and the figures."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from dateutil.relativedelta import relativedelta
from django.core.exceptions import ValidationError
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from qinghe.accounts.models import User
from qinghe.core.errors import ApplicationError, PermissionDenied
from qinghe.core.models import AuditLog
from qinghe.core.roles import Role
from qinghe.notifications.models import OutboxMessage
from qinghe.policies import selectors
from qinghe.policies.models import Application, ApplicationEvent, Material, Payment, Programme
from qinghe.policies.services import (
    application_add_materials,
    application_move,
    application_submit,
    builtin_ensure,
    payment_record,
)
from qinghe.talents.importing.storage import read_private
from qinghe.talents.models import Talent
from qinghe.talents.tests.factories import make_talent

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n% test\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 16


def pdf(name: str = "执照.pdf", data: bytes = PDF) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type="application/pdf")


@pytest.fixture
def programme(db: Any) -> Programme:
    builtin_ensure()
    return Programme.objects.get(code="one_off_startup")


@pytest.fixture
def student(personas: dict[str, User]) -> User:
    user = personas[Role.STUDENT]
    talent = make_talent(
        name="李晓彤", phone=None, graduation_year=2024, user=user, gender=Talent.Gender.FEMALE
    )
    talent.birth_date = dt.date(2001, 4, 2)
    talent.save(update_fields=["birth_date"])
    talent.educations.update(is_double_first_class=True)
    return user


def declared(**changes: Any) -> dict[str, str]:
    today = timezone.localdate()
    base = {
        "category": "毕业生",
        "registered_on": (today - relativedelta(months=8)).isoformat(),
        "insured_months": "3",
        "hires": "2",
        "abnormal": "",
        "funded_before": "",
    }
    return {**base, **changes}


def submit(student: User, programme: Programme, **changes: Any) -> Application:
    return application_submit(
        actor=student,
        programme=programme,
        declared_raw=declared(**changes),
        files=[("营业执照", pdf()), ("员工社保缴费证明", pdf("社保.pdf"))],
    )


def messages_to(user: User) -> list[str]:
    return list(
        OutboxMessage.objects.filter(user=user, channel="inbox")
        .order_by("id")
        .values_list("body", flat=True)
    )


def test_apply_stores_materials_encrypted_and_tells_the_student(
    student: User, programme: Programme
) -> None:
    application = submit(student, programme)
    assert application.state == Application.State.SUBMITTED
    assert application.amount == 10000
    assert application.double_first_class is True
    assert application.declared["registered_on"] == declared()["registered_on"]
    files = list(application.files.order_by("id"))
    assert [(f.kind, f.filename, f.size) for f in files] == [
        ("营业执照", "执照.pdf", len(PDF)),
        ("员工社保缴费证明", "社保.pdf", len(PDF)),
    ]
    with default_storage.open(files[0].storage_name, "rb") as handle:
        assert handle.read() != PDF  # encrypted at rest
    assert read_private(files[0].storage_name) == PDF
    assert messages_to(student) == ["您的“一次性创业资助”申请已提交，待初审。"]
    assert AuditLog.objects.filter(action="policies.application_submit").count() == 1


def test_an_ineligible_student_is_told_why_and_nothing_is_saved(
    student: User, programme: Programme
) -> None:
    recent = (timezone.localdate() - relativedelta(months=2)).isoformat()
    with pytest.raises(ApplicationError) as info:
        submit(student, programme, registered_on=recent)
    assert info.value.message == "暂不符合申请条件：企业或个体工商户注册满6个月"
    assert Application.objects.count() == 0
    assert Material.objects.count() == 0
    assert messages_to(student) == []


@pytest.mark.parametrize(
    ("upload", "message"),
    [
        (SimpleUploadedFile("a.exe", b"MZ"), "“a.exe”不是 PDF、JPG 或 PNG 文件"),
        (SimpleUploadedFile("a.pdf", PNG), "“a.pdf”的内容与扩展名不符"),
        (SimpleUploadedFile("a.png", b""), "“a.png”是空文件"),
        (SimpleUploadedFile("a.pdf", PDF + b"0" * (10 * 1024 * 1024)), "“a.pdf”超过 10 MB"),
    ],
)
def test_bad_materials_are_refused_and_nothing_is_saved(
    student: User, programme: Programme, upload: SimpleUploadedFile, message: str
) -> None:
    with pytest.raises(ValidationError) as info:
        application_submit(
            actor=student,
            programme=programme,
            declared_raw=declared(),
            files=[("营业执照", pdf()), ("员工社保缴费证明", upload)],
        )
    assert info.value.message_dict == {"files": [message]}
    assert Application.objects.count() == 0
    assert Material.objects.count() == 0


def test_missing_material_is_named(student: User, programme: Programme) -> None:
    with pytest.raises(ValidationError) as info:
        application_submit(
            actor=student, programme=programme, declared_raw=declared(), files=[("营业执照", pdf())]
        )
    assert info.value.message_dict == {"files": ["请上传：员工社保缴费证明"]}
    assert Application.objects.count() == 0


def test_one_open_application_per_programme(student: User, programme: Programme) -> None:
    submit(student, programme)
    with pytest.raises(ApplicationError, match="您已申请过该项目"):
        submit(student, programme)
    assert Application.objects.count() == 1


def test_review_and_approval_need_two_different_staff(
    student: User, programme: Programme, personas: dict[str, User]
) -> None:
    hr = personas[Role.HR_STAFF]
    admin = personas[Role.SYSADMIN]
    application = submit(student, programme)
    application_move(actor=hr, application=application, action="review")
    application.refresh_from_db()
    assert (application.state, application.reviewed_by) == (Application.State.REVIEWED, hr)

    with pytest.raises(PermissionDenied, match="复审须由初审以外的工作人员进行"):
        application_move(actor=hr, application=application, action="approve")
    application.refresh_from_db()
    assert application.state == Application.State.REVIEWED
    assert application.approved_by is None

    application_move(actor=admin, application=application, action="approve")
    application.refresh_from_db()
    assert (application.state, application.approved_by) == (Application.State.APPROVED, admin)
    assert list(application.events.values_list("action", "actor")) == [
        ("submit", student.pk),
        ("review", hr.pk),
        ("approve", admin.pk),
    ]
    assert messages_to(student)[1:] == [
        "您的“一次性创业资助”申请已通过初审，待复审。",
        "您的“一次性创业资助”申请已批准，金额 10000 元。",
    ]
    assert AuditLog.objects.filter(action="policies.application").count() == 2


def test_a_student_cannot_review_their_own_application(student: User, programme: Programme) -> None:
    application = submit(student, programme)
    with pytest.raises(PermissionDenied):
        application_move(actor=student, application=application, action="review")
    application.refresh_from_db()
    assert application.state == Application.State.SUBMITTED


def test_eligibility_is_rechecked_with_the_data_as_it_is_then(
    student: User, programme: Programme, personas: dict[str, User]
) -> None:
    application = submit(student, programme)
    # The platform learns a different birth date (an ID correction): 70 years old.
    Talent.objects.filter(user=student).update(birth_date=dt.date(1950, 1, 1))
    with pytest.raises(ApplicationError) as info:
        application_move(actor=personas[Role.HR_STAFF], application=application, action="review")
    assert "创办人年龄" in info.value.message
    application.refresh_from_db()
    assert application.state == Application.State.SUBMITTED
    assert application.reviewed_by is None
    assert application.events.count() == 1


def test_more_materials_then_resubmit(
    student: User, programme: Programme, personas: dict[str, User]
) -> None:
    hr = personas[Role.HR_STAFF]
    application = submit(student, programme)
    with pytest.raises(ValidationError):
        application_move(actor=hr, application=application, action="request_materials")
    application_move(
        actor=hr, application=application, action="request_materials", reason="社保证明不清晰"
    )
    application.refresh_from_db()
    assert (application.state, application.reason) == (
        Application.State.MORE_MATERIALS,
        "社保证明不清晰",
    )
    assert messages_to(student)[-1] == "您的“一次性创业资助”申请需要补充材料：社保证明不清晰。"
    application_add_materials(
        actor=student,
        application=application,
        files=[("员工社保缴费证明", pdf("社保-清晰.pdf"))],
    )
    application.refresh_from_db()
    assert application.state == Application.State.SUBMITTED
    assert application.files.count() == 3


def test_rejection_needs_a_reason_and_is_counted_by_reason(
    student: User, programme: Programme, personas: dict[str, User]
) -> None:
    hr = personas[Role.HR_STAFF]
    application = submit(student, programme)
    application_move(actor=hr, application=application, action="reject", reason="材料不实")
    application.refresh_from_db()
    assert (application.state, application.reason) == (Application.State.REJECTED, "材料不实")
    assert messages_to(student)[-1] == "您的“一次性创业资助”申请未通过，原因：材料不实。"
    figures = selectors.subsidy_figures()
    assert figures["applications"] == 1
    assert figures["rejected"] == 1
    assert figures["rejections_by_reason"] == [{"reason": "材料不实", "count": 1}]


def _approved(student: User, programme: Programme, personas: dict[str, User]) -> Application:
    application = submit(student, programme)
    application_move(actor=personas[Role.HR_STAFF], application=application, action="review")
    application_move(actor=personas[Role.SYSADMIN], application=application, action="approve")
    application.refresh_from_db()
    return application


def test_a_payment_is_recorded_once(
    student: User, programme: Programme, personas: dict[str, User]
) -> None:
    hr = personas[Role.HR_STAFF]
    application = _approved(student, programme, personas)
    paid_on = dt.date(2026, 7, 20)
    payment = payment_record(actor=hr, application=application, period="1", paid_on=paid_on)
    assert (payment.amount, payment.period, payment.recorded_by) == (10000, "1", hr)
    with pytest.raises(ApplicationError, match="第 1 期已记录发放，不能重复记录"):
        payment_record(actor=hr, application=application, period="1", paid_on=paid_on)
    with pytest.raises(ValidationError):
        payment_record(actor=hr, application=application, period="2", paid_on=paid_on)
    assert Payment.objects.count() == 1
    assert messages_to(student)[-1] == "您的“一次性创业资助”第 1 期 10000 元已发放。"
    figures = selectors.subsidy_figures()
    assert figures["approved"] == 1
    assert figures["double_first_class_share"] == 100.0
    assert figures["paid_by_programme_month"] == [
        {
            "programme": "one_off_startup",
            "name": "一次性创业资助",
            "month": "2026-07",
            "amount": 10000,
            "payments": 1,
        }
    ]
    assert figures["paid_total"] == 10000
    # the same figures as the plan page (年度目标, 措施十) shows them
    import re

    from django.test import Client

    reader = Client()
    reader.force_login(hr)
    html = reader.get("/jobs/targets/").content.decode()
    block = html[html.index('data-testid="measure-10"') :]
    text = re.sub(
        r"\s+",
        " ",
        re.sub(r"<[^>]+>", " ", block[: block.index("</h2>") if "</h2>" in block else len(block)]),
    )
    assert "申请 1 件 · 批准 1 件 · 未通过 0 件 · 批准中双一流 1 人（100.0%）" in text
    assert "已发放 10000 元" in text
    assert "2026-07 · 一次性创业资助：10000 元（1 笔）" in text


def test_no_payment_before_approval(
    student: User, programme: Programme, personas: dict[str, User]
) -> None:
    application = submit(student, programme)
    with pytest.raises(ApplicationError, match="只有已批准的申请可以记录发放"):
        payment_record(
            actor=personas[Role.HR_STAFF],
            application=application,
            period="1",
            paid_on=dt.date(2026, 7, 20),
        )
    assert Payment.objects.count() == 0


def test_the_database_refuses_a_second_payment_for_the_same_period(
    student: User, programme: Programme, personas: dict[str, User]
) -> None:
    from django.db import IntegrityError, transaction

    application = _approved(student, programme, personas)
    hr = personas[Role.HR_STAFF]
    Payment.objects.create(
        application=application, period="1", amount=1, paid_on=dt.date(2026, 1, 1), recorded_by=hr
    )
    with pytest.raises(IntegrityError), transaction.atomic():
        Payment.objects.create(
            application=application,
            period="1",
            amount=1,
            paid_on=dt.date(2026, 1, 1),
            recorded_by=hr,
        )
    assert ApplicationEvent.objects.filter(application=application).count() == 3


def test_a_monthly_programme_pays_each_month_once_up_to_its_periods(
    student: User, personas: dict[str, User]
) -> None:
    from qinghe.policies.services import ProgrammeInput, programme_create

    hr = personas[Role.HR_STAFF]
    monthly = programme_create(
        actor=hr,
        data=ProgrammeInput(
            code="heshan_living",
            name="生活补贴",
            amount_expression="double_first_class ? 3000 : 1500",
            schedule=Programme.Schedule.MONTHLY,
            periods=2,
        ),
    )
    application = application_submit(actor=student, programme=monthly, declared_raw={}, files=[])
    assert application.amount == 3000  # 双一流
    application_move(actor=hr, application=application, action="review")
    application_move(actor=personas[Role.SYSADMIN], application=application, action="approve")
    day = dt.date(2026, 7, 31)
    payment_record(actor=hr, application=application, period="2026-07", paid_on=day)
    with pytest.raises(ValidationError):
        payment_record(actor=hr, application=application, period="1", paid_on=day)
    with pytest.raises(ApplicationError, match="第 2026-07 期已记录发放"):
        payment_record(actor=hr, application=application, period="2026-07", paid_on=day)
    payment_record(actor=hr, application=application, period="2026-08", paid_on=day)
    with pytest.raises(ApplicationError, match="已发放全部期数"):
        payment_record(actor=hr, application=application, period="2026-09", paid_on=day)
    assert list(application.payments.values_list("period", "amount")) == [
        ("2026-07", 3000),
        ("2026-08", 3000),
    ]


def test_staff_add_a_yearly_rental_subsidy_through_the_pages_and_it_pays_each_year_once(
    student: User, personas: dict[str, User]
) -> None:
    """Heshan's rental subsidy, added as an administrator would (the programme page, then a
    rule on the programme's page), paid yearly up to three years."""
    from django.test import Client

    hr, sysadmin = personas[Role.HR_STAFF], personas[Role.SYSADMIN]
    pages = Client()
    pages.force_login(hr)
    made = pages.post(
        "/policies/staff/programmes/",
        {
            "code": "heshan_rent",
            "name": "鹤山市青年人才租房补贴",
            "schedule": "yearly",
            "periods": "3",
            "amount_expression": "6000",
            "materials": "租房合同",
        },
    )
    assert made.status_code == 302
    rent = Programme.objects.get(code="heshan_rent")
    assert (rent.schedule, rent.periods, rent.materials) == (
        Programme.Schedule.YEARLY,
        3,
        ["租房合同"],
    )
    added = pages.post(
        "/policies/staff/programmes/heshan_rent/",
        {
            "code": "graduated_within_5_years",
            "explanation": "毕业 5 年内",
            "expression": "graduation_date != null && full_years(graduation_date, as_of) < 5",
        },
    )
    assert added.status_code == 302
    assert list(rent.rules.values_list("code", flat=True)) == ["graduated_within_5_years"]

    application = application_submit(
        actor=student, programme=rent, declared_raw={}, files=[("租房合同", pdf("租房合同.pdf"))]
    )
    assert application.amount == 6000
    application_move(actor=hr, application=application, action="review")
    application_move(actor=sysadmin, application=application, action="approve")
    day = dt.date(2026, 12, 1)
    with pytest.raises(ValidationError):
        payment_record(actor=hr, application=application, period="2026-12", paid_on=day)
    payment_record(actor=hr, application=application, period="2026", paid_on=day)
    with pytest.raises(ApplicationError, match="第 2026 期已记录发放"):
        payment_record(actor=hr, application=application, period="2026", paid_on=day)
    payment_record(actor=hr, application=application, period="2027", paid_on=day)
    payment_record(actor=hr, application=application, period="2028", paid_on=day)
    with pytest.raises(ApplicationError, match="已发放全部期数"):
        payment_record(actor=hr, application=application, period="2029", paid_on=day)
    assert list(application.payments.order_by("period").values_list("period", "amount")) == [
        ("2026", 6000),
        ("2027", 6000),
        ("2028", 6000),
    ]
