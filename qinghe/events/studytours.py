"""Study tours (研学, measure 8): the itinerary, the guardian's consent for minors, and the
photo gallery afterwards.

A high-school student under 18 holds a seat as ``guardian`` (qinghe.events.services); the
student forwards a signed link to a guardian (``guardian_link``), who reads the itinerary and
consents with their name and phone. Only then is the registration confirmed and can be
checked in. The link carries only the registration's id, signed and valid until the tour
starts; consenting twice changes nothing.

Photos are uploaded by event staff after the tour, checked for type and size by decoding them
(Pillow), stored encrypted like the survey files, and shown only to the tour's participants
and staff."""

from __future__ import annotations

import datetime as dt
import hashlib
import io

from django.core import signing
from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from PIL import Image, ImageFile, UnidentifiedImageError

from qinghe.accounts.models import User
from qinghe.accounts.phones import InvalidPhone, normalize_phone
from qinghe.core.audit import audit_record
from qinghe.core.errors import ApplicationError, NotFound, PermissionDenied
from qinghe.notifications.models import Category
from qinghe.notifications.services import make_key, notify
from qinghe.talents.importing.storage import read_private, save_private

from .models import Event, ItineraryStop, Photo, Registration
from .selectors import is_event_staff
from .services import MESSAGE_CHANNELS

GUARDIAN_SALT = "qinghe.events.guardian"
PHOTO_MAX_BYTES = 8 * 1024 * 1024
PHOTO_MAX_PIXELS = 40_000_000
PHOTO_TYPES = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp"}


# ---- guardian consent -----------------------------------------------------------------------


def guardian_token(registration: Registration) -> str:
    return signing.dumps({"r": registration.pk}, salt=GUARDIAN_SALT, compress=True)


def guardian_link(registration: Registration) -> str:
    return reverse("events:guardian", args=[guardian_token(registration)])


def guardian_registration(token: str) -> Registration:
    """The registration a guardian's link names; NotFound for a forged or broken link and
    for a tour that has already started (the same answer, so a link reveals nothing)."""
    try:
        payload = signing.loads(token, salt=GUARDIAN_SALT)
    except signing.BadSignature as exc:
        raise NotFound("链接无效或已过期") from exc
    reg_id = payload.get("r") if isinstance(payload, dict) else None
    if not isinstance(reg_id, int):
        raise NotFound("链接无效或已过期")
    reg = Registration.objects.filter(pk=reg_id).select_related("event", "user").first()
    if reg is None or reg.event.starts_at <= timezone.now():
        raise NotFound("链接无效或已过期")
    return reg


@transaction.atomic
def guardian_consent(*, token: str, name: str, phone: str) -> Registration:
    reg = guardian_registration(token)
    reg = Registration.objects.select_for_update().select_related("event", "user").get(pk=reg.pk)
    name = (name or "").strip()
    errors: dict[str, str] = {}
    if not name or len(name) > 32:
        errors["name"] = "请填写监护人姓名（不超过 32 字）"
    try:
        normalized = normalize_phone(phone)
    except InvalidPhone:
        errors["phone"] = "请填写正确的手机号"
        normalized = ""
    if errors:
        raise ValidationError(errors)
    if reg.status == Registration.Status.CONFIRMED and reg.guardian_consented_at:
        return reg  # consented already: nothing more
    if reg.status != Registration.Status.GUARDIAN:
        raise ApplicationError(f"该报名{reg.get_status_display()}，无需监护人同意")
    now = timezone.now()
    reg.status = Registration.Status.CONFIRMED
    reg.confirmed_at = now
    reg.guardian_name = name
    reg.guardian_phone = normalized
    reg.guardian_consented_at = now
    reg.save(
        update_fields=[
            "status",
            "confirmed_at",
            "guardian_name",
            "guardian_phone",
            "guardian_consented_at",
        ]
    )
    audit_record(
        action="update",
        actor=None,
        target=reg,
        summary=f"监护人同意参加研学“{reg.event.title}”，报名已确认",
    )
    notify(
        user=reg.user,
        channels=MESSAGE_CHANNELS,
        category=Category.SYSTEM,
        subject=f"监护人已同意：{reg.event.title}",
        body=f"你的监护人已同意你参加研学“{reg.event.title}”，报名已确认。签到二维码见“我的活动”。",
        key=make_key("guardian-consented", reg.pk),
        data={"url": reverse("events:mine")},
    )
    return reg


# ---- itinerary ------------------------------------------------------------------------------


def _require_staff(actor: User, event: Event) -> None:
    if not is_event_staff(actor):
        raise NotFound("未找到该活动")
    if event.type != Event.Type.STUDY_TOUR:
        raise ApplicationError("只有研学活动有行程安排")


@transaction.atomic
def itinerary_add(
    *, actor: User, event: Event, at: dt.datetime, kind: str, place: str, note: str = ""
) -> ItineraryStop:
    _require_staff(actor, event)
    place = (place or "").strip()
    errors: dict[str, str] = {}
    if kind not in ItineraryStop.Kind.values:
        errors["kind"] = "请选择类型"
    if not place:
        errors["place"] = "请填写地点"
    if not (event.starts_at <= at <= event.ends_at):
        errors["at"] = "行程时间须在活动开始与结束之间"
    if errors:
        raise ValidationError(errors)
    stop = ItineraryStop.objects.create(
        event=event, at=at, kind=kind, place=place[:120], note=(note or "").strip()[:300]
    )
    audit_record(action="update", actor=actor, target=event, summary=f"研学行程新增：{stop.place}")
    return stop


@transaction.atomic
def itinerary_remove(*, actor: User, event: Event, stop_id: int) -> None:
    _require_staff(actor, event)
    stop = ItineraryStop.objects.filter(pk=stop_id, event=event).first()
    if stop is None:
        raise NotFound("未找到该行程")
    stop.delete()
    audit_record(action="update", actor=actor, target=event, summary=f"研学行程删除：{stop.place}")


# ---- photos ---------------------------------------------------------------------------------


def _inspect(data: bytes) -> tuple[str, int, int]:
    """(content type, width, height) of a JPEG, PNG or WebP photo, decoded in full."""
    if len(data) > PHOTO_MAX_BYTES:
        raise ValidationError({"photo": "照片不能超过 8 MB"})
    if not data:
        raise ValidationError({"photo": "请选择照片"})
    Image.MAX_IMAGE_PIXELS = PHOTO_MAX_PIXELS
    # A truncated file must fail, whatever another library set process-wide (WeasyPrint sets
    # this to True when imported).
    ImageFile.LOAD_TRUNCATED_IMAGES = False
    try:
        with Image.open(io.BytesIO(data)) as image:
            kind = image.format or ""
            width, height = image.size
            if kind not in PHOTO_TYPES:
                raise ValidationError({"photo": "只能上传 JPG、PNG 或 WebP 照片"})
            image.load()  # decodes every pixel: a truncated or forged file fails here
    except ValidationError:
        raise
    except (UnidentifiedImageError, OSError, SyntaxError, Image.DecompressionBombError) as exc:
        raise ValidationError({"photo": "文件不是有效的照片"}) from exc
    return PHOTO_TYPES[kind], width, height


@transaction.atomic
def photo_add(*, actor: User, event: Event, data: bytes, caption: str = "") -> Photo:
    if not is_event_staff(actor):
        raise PermissionDenied("只有工作人员可以上传活动照片")
    if event.state not in (Event.State.PUBLISHED, Event.State.FINISHED):
        raise ApplicationError(f"活动{event.get_state_display()}，不能上传照片")
    content_type, width, height = _inspect(data)
    digest = hashlib.sha256(data).hexdigest()
    name = save_private(f"events/{event.pk}/photos/{digest}", data)
    photo = Photo.objects.create(
        event=event,
        stored_name=name,
        content_type=content_type,
        size=len(data),
        width=width,
        height=height,
        caption=(caption or "").strip()[:120],
        uploaded_by=actor,
    )
    audit_record(action="create", actor=actor, target=photo, summary=f"上传活动照片：{event.title}")
    return photo


def photo_bytes(photo: Photo) -> bytes:
    return read_private(photo.stored_name)
