"""Demo policies and subsidies: the built-in policies and programmes, a Heshan living allowance
added the way staff would (a higher amount for 双一流 graduates; marked 演示), and the demo
student's 创业带动就业补贴 application waiting for 初审. Idempotent: found by code and by the
student's open application."""

from __future__ import annotations

from typing import Any

from dateutil.relativedelta import relativedelta
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.utils import timezone

from qinghe.accounts.models import User
from qinghe.core.roles import Role

from .models import Application, PolicyAttachment, Programme
from .services import (
    ProgrammeInput,
    RuleInput,
    application_submit,
    builtin_ensure,
    policy_attachment_add,
    programme_create,
    rule_create,
)

DEMO_PDF = b"%PDF-1.4\n% qinghe demo material\n%%EOF\n"


@transaction.atomic
def seed_policies(*, stdout: Any = None, scale: int = 0, seed: int = 0) -> None:
    builtin_ensure()
    staff = User.objects.filter(username="renshe", role=Role.HR_STAFF).first()
    student = User.objects.filter(username="xuezi", role=Role.STUDENT).first()
    if staff is None or student is None:
        if stdout is not None:
            stdout.write("policies demo skipped: personas missing")
        return
    if not Programme.objects.filter(code="heshan_living_allowance").exists():
        programme = programme_create(
            actor=staff,
            data=ProgrammeInput(
                code="heshan_living_allowance",
                name="鹤山市青年人才生活补贴（演示）",
                amount_expression="double_first_class ? 3000 : 1500",
                amount_text="演示数据：双一流院校毕业每月 3,000 元，其他每月 1,500 元，共 12 个月",
                description="演示数据，金额与条件仅供体验，以正式文件为准。",
                schedule=Programme.Schedule.MONTHLY,
                periods=12,
                materials=("毕业证书", "劳动合同"),
            ),
        )
        rule_create(
            actor=staff,
            programme=programme,
            data=RuleInput(
                "graduated_within_3_years",
                "毕业3年内",
                "graduation_date != null && as_of <= add_years(graduation_date, 3)",
            ),
        )
        rule_create(
            actor=staff,
            programme=programme,
            data=RuleInput("insured_in_heshan", "在鹤山参保满1个月", "insured_months >= 1"),
        )
    hiring = Programme.objects.get(code="startup_hiring")
    if not Application.objects.filter(applicant=student, programme=hiring).exists():
        today = timezone.localdate()
        application_submit(
            actor=student,
            programme=hiring,
            declared_raw={
                "category": "返乡创业",
                "registered_on": (today - relativedelta(months=14)).isoformat(),
                "insured_months": "4",
                "hires": "4",
            },
            files=[
                (kind, SimpleUploadedFile(f"{kind}.pdf", DEMO_PDF, content_type="application/pdf"))
                for kind in hiring.materials
            ],
            today=today,
        )
    # An annex on the policy behind 一次性创业资助, as staff would attach it (marked 演示).
    basis = Programme.objects.get(code="one_off_startup").policy
    if basis is not None and not PolicyAttachment.objects.filter(policy=basis).exists():
        policy_attachment_add(
            actor=staff,
            policy=basis,
            title="申请材料清单（演示）",
            upload=SimpleUploadedFile("申请材料清单（演示）.pdf", DEMO_PDF),
        )
    if stdout is not None:
        stdout.write(
            "policies demo: built-in policies and programmes, 鹤山市青年人才生活补贴（演示）,"
            " 李晓彤's 创业带动就业补贴 application waiting for 初审, a demo annex"
        )
