"""Deletes 鹤才青年卡 application materials after their retention period
(``purge_card_materials``, daily, qinghe/scheduler/schedule.py).

A material (labour contract, stamped form, degrees; a dependant's proofs) is kept encrypted
while its application is open and for ``QINGHE_CARD_MATERIAL_RETENTION_DAYS`` (180) after the
application was decided: issued (``approved_at``), or ended without a card (rejected, or a
dependant's application voided) — ``updated_at`` then, as those states are final. An open
application keeps its materials whatever its age.

The file is deleted; the row stays with ``purged_at`` as the record of what was received (kind,
size, digest), and staff pages say the material was deleted instead of offering it. One audit
row per card names how many files went. Idempotent: a purged material is never looked at again,
and a file already missing counts as deleted."""

from __future__ import annotations

import datetime as dt
import logging
from collections import Counter
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from qinghe.core.audit import audit_record

from . import materials
from .models import Card, CardMaterial, DependantCard, DependantMaterial

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class PurgeResult:
    materials: int
    dependant_materials: int
    cards: int


def retention() -> dt.timedelta:
    return dt.timedelta(days=int(getattr(settings, "QINGHE_CARD_MATERIAL_RETENTION_DAYS", 180)))


def _decided_before(cutoff: dt.datetime, *, ended: tuple[str, ...], prefix: str = "") -> Q:
    return Q(**{f"{prefix}approved_at__lt": cutoff}) | Q(
        **{
            f"{prefix}approved_at__isnull": True,
            f"{prefix}state__in": ended,
            f"{prefix}updated_at__lt": cutoff,
        }
    )


@transaction.atomic
def card_materials_purge(*, now: dt.datetime | None = None) -> PurgeResult:
    now = now or timezone.now()
    cutoff = now - retention()
    due = CardMaterial.objects.filter(purged_at__isnull=True).filter(
        _decided_before(cutoff, ended=(Card.State.REJECTED,), prefix="card__")
    )
    due_dep = DependantMaterial.objects.filter(purged_at__isnull=True).filter(
        _decided_before(
            cutoff,
            ended=(DependantCard.State.REJECTED, DependantCard.State.VOIDED),
            prefix="dependant__",
        )
    )
    per_card: Counter[int] = Counter()
    per_dependant: Counter[int] = Counter()
    main_rows = list(
        due.select_for_update(of=("self",)).values_list("pk", "card_id", "stored_name")
    )
    dep_rows = list(
        due_dep.select_for_update(of=("self",)).values_list("pk", "dependant_id", "stored_name")
    )
    for _, card_id, name in main_rows:
        materials.delete(name)
        per_card[card_id] += 1
    for _, dep_id, name in dep_rows:
        materials.delete(name)
        per_dependant[dep_id] += 1
    CardMaterial.objects.filter(pk__in=[r[0] for r in main_rows]).update(purged_at=now)
    DependantMaterial.objects.filter(pk__in=[r[0] for r in dep_rows]).update(purged_at=now)
    days = retention().days
    for card in Card.objects.filter(pk__in=per_card):
        audit_record(
            action="delete",
            actor=None,
            target=card,
            summary=f"删除超过保留期（{days} 天）的鹤才青年卡申请材料 {per_card[card.pk]} 份",
            count=per_card[card.pk],
        )
    for dep in DependantCard.objects.filter(pk__in=per_dependant):
        audit_record(
            action="delete",
            actor=None,
            target=dep,
            summary=f"删除超过保留期（{days} 天）的家属卡申请材料 {per_dependant[dep.pk]} 份",
            count=per_dependant[dep.pk],
        )
    result = PurgeResult(
        materials=len(main_rows),
        dependant_materials=len(dep_rows),
        cards=len(per_card) + len(per_dependant),
    )
    logger.info(
        "card materials purged: main=%d dependant=%d cards=%d",
        result.materials,
        result.dependant_materials,
        result.cards,
    )
    return result
