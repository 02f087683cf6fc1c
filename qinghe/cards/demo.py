"""Demo card: the demo student 李晓彤 (xuezi) holds an issued 鹤才青年卡, reviewed by her
station's staff (the persona yizhan when it is 沙坪街道) and approved by the HR persona (renshe), with one benefit
used at the partner persona's hospital. Idempotent: skipped when she already has a card."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import transaction
from django.utils import timezone

from qinghe.accounts.models import User
from qinghe.talents.models import Education, Source
from qinghe.talents.selectors import talent_for_student

from . import services, tiers
from .materials import Upload
from .models import Card
from .selectors import ecard_for_holder, facts_for

DEMO_PDF = b"%PDF-1.4\n% demo material\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


@transaction.atomic
def seed_cards(*, stdout: Any = None, scale: int = 0, seed: int = 0) -> dict[str, int]:
    users = {
        u.username: u
        for u in User.objects.filter(username__in=("xuezi", "yizhan", "renshe", "hezuo"))
    }
    student, station, hr, partner = (users.get(n) for n in ("xuezi", "yizhan", "renshe", "hezuo"))
    talent = talent_for_student(user=student) if student else None
    if not (student and station and hr and talent):
        if stdout is not None:
            stdout.write("cards demo skipped: personas or the student's record missing")
        return {"cards": 0}
    if Card.objects.filter(holder=student).exists():
        return {"cards": 0}
    if not tiers.eligible(facts_for(talent)):
        Education.objects.create(
            talent=talent,
            university_name="华南理工大学",
            major_name="计算机科学与技术",
            level="bachelor",
            is_double_first_class=True,
            graduation_year=2025,
            source=Source.STUDENT,
        )
    best = tiers.eligible(facts_for(talent))[0][0].code
    today = timezone.localdate()
    card = services.card_apply(
        user=student,
        data=services.ApplyData(
            employer="鹤山市雅图仕印刷有限公司",
            employer_uscc="",
            employer_since=today - dt.timedelta(days=120),
            contract_end=today.replace(year=today.year + 3),
            requested_tier=best,
            uploads=[
                Upload(kind=k, file_name=f"{k}.pdf", data=DEMO_PDF)
                for k in ("contract", "employer_form", "degree")
            ],
        ),
    )
    # The card's station reviews it: the persona's at 沙坪街道, else that station's own staff.
    if card.station is not None and card.station.organisation_id != station.organisation_id:
        station = (
            User.objects.filter(organisation_id=card.station.organisation_id, role="station_staff")
            .order_by("pk")
            .first()
            or station
        )
    card = services.card_transition(card=card, action="review", actor=station)
    card = services.card_transition(card=card, action="approve", actor=hr)
    card = services.card_transition(card=card, action="print", actor=station)
    shown = ecard_for_holder(viewer=student)
    if partner is not None and shown is not None:
        services.benefit_use_log(actor=partner, token=shown.token, benefit="transport")
    if stdout is not None:
        stdout.write(f"cards demo: 李晓彤 holds card {card.number} ({best})")
    return {"cards": 1}
