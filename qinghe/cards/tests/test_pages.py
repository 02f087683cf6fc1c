"""The card's pages end to end through the test client: the student applies with uploads, the
station reviews, HR approves, the e-card page shows a QR, a partner verifies it and logs a
benefit, and the holder sees the use; partners reach nothing else."""

from __future__ import annotations

import datetime as dt
import re

from django.test import Client
from django.utils import timezone

from qinghe.cards.models import BenefitUse, Card
from qinghe.core.models import AuditLog
from qinghe.notifications.models import OutboxMessage

from .factories import PDF, CardWorld


def signed_in(user: object) -> Client:
    client = Client()
    client.force_login(user)  # type: ignore[arg-type]  # a User
    return client


def test_apply_review_approve_show_verify_and_log_a_benefit(cw: CardWorld) -> None:
    from django.core.files.uploadedfile import SimpleUploadedFile

    student = signed_in(cw.student)
    page = student.get("/cards/apply/")
    assert page.status_code == 200
    assert "A 类（高层次青年人才）（“双一流”建设高校硕士研究生）" in page.content.decode()
    today = timezone.localdate()
    form = {
        "employer": "鹤山市雅图仕印刷有限公司",
        "employer_since": (today - dt.timedelta(days=30)).isoformat(),
        "contract_end": today.replace(year=today.year + 2).isoformat(),
        "requested_tier": "A",
    }
    # A wrong file type is refused with a Chinese message and nothing is kept.
    bad = {
        **form,
        "contract": SimpleUploadedFile("c.pdf", b"GIF89a....", "application/pdf"),
        "employer_form": SimpleUploadedFile("f.pdf", PDF, "application/pdf"),
        "degree": SimpleUploadedFile("d.pdf", PDF, "application/pdf"),
    }
    page = student.post("/cards/apply/", bad)
    assert page.status_code == 200
    assert "劳动合同：只接受 PDF、JPG 或 PNG 文件" in page.content.decode()
    assert Card.objects.count() == 0
    good = {
        **form,
        "contract": SimpleUploadedFile("c.pdf", PDF, "application/pdf"),
        "employer_form": SimpleUploadedFile("f.pdf", PDF, "application/pdf"),
        "degree": SimpleUploadedFile("d.pdf", PDF, "application/pdf"),
    }
    assert student.post("/cards/apply/", good).status_code == 302
    card = Card.objects.get()

    station = signed_in(cw.station_staff)
    download = station.get(f"/cards/manage/{card.pk}/materials/{card.materials.first().pk}/")  # type: ignore[union-attr]
    assert download.content == PDF
    assert AuditLog.objects.filter(summary__startswith="查看鹤才青年卡申请材料").count() == 1
    station.post(f"/cards/manage/{card.pk}/act/", {"action": "review"})
    # The reviewer may not approve (and a station may not approve at all).
    station.post(f"/cards/manage/{card.pk}/act/", {"action": "approve"})
    card.refresh_from_db()
    assert card.state == "reviewed"
    signed_in(cw.hr).post(f"/cards/manage/{card.pk}/act/", {"action": "approve", "tier": "A"})
    card.refresh_from_db()
    assert card.state == "active" and card.number

    ecard = student.get("/cards/ecard/").content.decode()
    token = re.search(r'data-token="([^"]+)"', ecard)
    assert token is not None and 'src="data:image/svg+xml;base64,' in ecard

    partner = signed_in(cw.partner)
    seen = partner.post("/cards/partner/", {"t": token.group(1)}).content.decode()
    assert "有效" in seen and "李**" in seen and "医院就诊绿色通道" in seen
    assert (
        partner.post("/cards/partner/", {"t": token.group(1), "benefit": "hospital"}).status_code
        == 302
    )
    use = BenefitUse.objects.get()
    assert (use.partner.name, use.benefit, use.masked_name) == (
        "鹤山市人民医院",
        "hospital",
        "李**",
    )
    mine = student.get("/cards/").content.decode()
    assert "医院就诊绿色通道 · 鹤山市人民医院" in mine
    assert OutboxMessage.objects.filter(user=cw.student, subject="鹤才青年卡权益使用").exists()

    # A benefit outside the card's tier is refused; a partner reaches no staff or holder page.
    before = BenefitUse.objects.count()
    partner.post("/cards/partner/", {"t": token.group(1), "benefit": "nothing"})
    assert BenefitUse.objects.count() == before
    assert partner.get("/cards/manage/").status_code == 403
    assert partner.get("/cards/").status_code == 403
    assert partner.get("/talents/").status_code == 403


def test_holder_refusals_come_back_as_chinese_messages(cw: CardWorld) -> None:
    from .factories import issue_card

    issue_card(cw, timezone.now())
    student = signed_in(cw.student)
    today = timezone.localdate()
    response = student.post(
        "/cards/mine/renew/",
        {"contract_end": today.replace(year=today.year + 4).isoformat()},
        follow=True,
    )
    assert "续期自" in response.content.decode()
    assert Card.objects.get().renewals == 0
    # Loss is one step and voids the card at once.
    assert student.post("/cards/mine/report_lost/").status_code == 302
    assert Card.objects.get().state == "lost"
    assert student.get("/api/v1/card/me").status_code == 404


def test_only_the_partner_page_may_use_the_camera_and_its_scanner_is_served_locally(
    cw: CardWorld,
) -> None:
    partner = Client()
    partner.force_login(cw.partner)
    page = partner.get("/cards/partner/")
    assert page["Permissions-Policy"] == "camera=(self), microphone=(), geolocation=(), payment=()"
    html = page.content.decode()
    assert '<script src="/static/vendor/jsqr/jsQR.js"></script>' in html
    assert '<script src="/static/js/cards-scan.js"></script>' in html
    student = Client()
    student.force_login(cw.student)
    assert student.get("/cards/")["Permissions-Policy"].startswith("camera=()")
