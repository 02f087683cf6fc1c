"""Study tours: groups, a guardian's consent for minors, the itinerary and the gallery."""

from __future__ import annotations

import datetime as dt
import io
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test import Client
from django.utils import timezone
from PIL import Image

from qinghe.core.errors import ApplicationError, NotFound
from qinghe.core.models import AuditLog
from qinghe.core.roles import Role
from qinghe.events import services, studytours
from qinghe.events.checkin import make_code
from qinghe.events.models import Event, ItineraryStop, Photo, Registration
from qinghe.events.selectors import registration_counts
from qinghe.events.services import EventData
from qinghe.notifications.models import OutboxMessage
from qinghe.talents.models import Talent

from .conftest import World
from .factories import make_event, make_student

pytestmark = pytest.mark.django_db


def tour(world: World, *, capacity: int = 2, groups: list[str] | None = None) -> Event:
    now = timezone.now()
    return make_event(
        world.league.organisation,  # type: ignore[arg-type]
        now=now,
        type=Event.Type.STUDY_TOUR,
        title="暑期鹤山研学：古劳水乡与新材料产业园",
        place="鹤山市青少年活动中心",
        capacity=capacity,
        tour_groups=groups or ["high_school", "university"],
    )


def png(size: tuple[int, int] = (40, 30)) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", size, (20, 120, 90)).save(buf, format="PNG")
    return buf.getvalue()


def state() -> tuple[Any, ...]:
    return (
        list(Registration.objects.order_by("pk").values_list("pk", "status", "guardian_name")),
        AuditLog.objects.count(),
        OutboxMessage.objects.count(),
        Photo.objects.count(),
        ItineraryStop.objects.count(),
    )


def test_a_study_tour_needs_groups(world: World) -> None:
    now = timezone.now()
    data = EventData(
        type=Event.Type.STUDY_TOUR,
        title="研学",
        place="鹤山",
        starts_at=now + dt.timedelta(days=10),
        ends_at=now + dt.timedelta(days=10, hours=8),
        registration_opens_at=now,
        registration_closes_at=now + dt.timedelta(days=9),
        cancel_deadline=now + dt.timedelta(days=8),
    )
    count = Event.objects.count()
    with pytest.raises(ValidationError) as exc:
        services.event_create(actor=world.league, data=data)
    assert exc.value.message_dict == {"tour_groups": ["研学请至少选择一个分组"]}
    assert Event.objects.count() == count


def test_a_minor_holds_a_seat_until_a_guardian_consents(world: World, client: Client) -> None:
    event = tour(world, capacity=1)
    minor = make_student("minor")  # no birth date on file: treated as a minor
    other = make_student("other")
    before = state()
    with pytest.raises(ApplicationError) as exc:
        services.registration_create(user=minor, event=event)
    assert str(exc.value) == "请选择研学分组"
    with pytest.raises(ApplicationError):
        services.registration_create(user=minor, event=event, group="overseas")  # not offered
    assert state() == before
    reg = services.registration_create(user=minor, event=event, group="high_school").registration
    assert (reg.status, reg.group, reg.confirmed_at) == ("guardian", "high_school", None)
    # the seat is held: the next student waits
    assert (
        services.registration_create(
            user=other, event=event, group="university"
        ).registration.status
        == "waitlisted"
    )
    counts = registration_counts(event=event)
    assert (counts.registered, counts.confirmed, counts.guardian, counts.waitlisted) == (2, 0, 1, 1)
    # no check-in before consent
    with pytest.raises(ApplicationError) as exc:
        services.registration_check_in(
            actor=world.staff,
            event=event,
            code=make_code(registration_id=reg.pk, event_id=event.pk),
        )
    assert str(exc.value) == "监护人尚未同意，不能签到"
    # the guardian's page: no sign-in, the student's name masked, the itinerary
    studytours.itinerary_add(
        actor=world.league,
        event=event,
        at=event.starts_at + dt.timedelta(hours=1),
        kind="heritage",
        place="古劳水乡",
    )
    link = studytours.guardian_link(reg)
    page = client.get(link)
    html = page.content.decode()
    assert page.status_code == 200
    assert "学*" in html and "学子minor" not in html
    assert "古劳水乡" in html
    before = state()
    bad = client.post(link, {"name": "梁妈妈", "phone": "123", "agree": "on"})
    assert bad.status_code == 400
    assert "请填写正确的手机号" in bad.content.decode()
    no_tick = client.post(link, {"name": "梁妈妈", "phone": "13711112222"})
    assert no_tick.status_code == 400
    assert state() == before
    ok = client.post(link, {"name": "梁妈妈", "phone": "137 1111 2222", "agree": "on"})
    assert ok.status_code == 200 and "报名已确认" in ok.content.decode()
    reg.refresh_from_db()
    assert (reg.status, reg.guardian_name, reg.guardian_phone) == (
        "confirmed",
        "梁妈妈",
        "13711112222",
    )
    assert reg.confirmed_at is not None and reg.guardian_consented_at is not None
    with connection.cursor() as cursor:
        cursor.execute("SELECT guardian_phone FROM events_registration WHERE id = %s", [reg.pk])
        assert "13711112222" not in cursor.fetchone()[0]
    assert OutboxMessage.objects.filter(user=minor, channel="inbox").values_list(
        "subject", flat=True
    ).get() == ("监护人已同意：暑期鹤山研学：古劳水乡与新材料产业园")
    # a second consent changes nothing
    before = state()
    client.post(link, {"name": "别人", "phone": "13711113333", "agree": "on"})
    assert state() == before
    # a forged link
    assert client.get("/events/guardian/abc/").status_code == 404
    result = services.registration_check_in(
        actor=world.staff, event=event, code=make_code(registration_id=reg.pk, event_id=event.pk)
    )
    assert result.already is False


def test_adults_and_university_students_are_confirmed_at_once(world: World) -> None:
    event = tour(world, capacity=5)
    adult = make_student("adult")
    Talent.objects.create(name="成年", user=adult, birth_date=dt.date(2000, 1, 1))
    uni = make_student("uni")
    assert (
        services.registration_create(
            user=adult, event=event, group="high_school"
        ).registration.status
        == "confirmed"
    )
    assert (
        services.registration_create(user=uni, event=event, group="university").registration.status
        == "confirmed"
    )


def test_a_seventeen_year_old_turning_eighteen_after_the_tour_needs_consent(world: World) -> None:
    event = tour(world, capacity=5)
    start = timezone.localtime(event.starts_at).date()
    teen = make_student("teen")
    Talent.objects.create(
        name="少年",
        user=teen,
        birth_date=start.replace(year=start.year - 18) + dt.timedelta(days=1),
    )
    day18 = make_student("day18")
    Talent.objects.create(name="十八", user=day18, birth_date=start.replace(year=start.year - 18))
    assert (
        services.registration_create(
            user=teen, event=event, group="high_school"
        ).registration.status
        == "guardian"
    )
    assert (
        services.registration_create(
            user=day18, event=event, group="high_school"
        ).registration.status
        == "confirmed"
    )


def test_cancelling_a_held_seat_promotes_the_next(world: World) -> None:
    event = tour(world, capacity=1)
    minor = make_student("m1")
    waiting = make_student("w1")
    services.registration_create(user=minor, event=event, group="high_school")
    services.registration_create(user=waiting, event=event, group="university")
    services.registration_cancel(user=minor, event=event)
    assert Registration.objects.get(user=waiting).status == "confirmed"


def test_itinerary_rules(world: World, client_as: Any) -> None:
    event = tour(world)
    before = state()
    with pytest.raises(ValidationError) as exc:
        studytours.itinerary_add(
            actor=world.league,
            event=event,
            at=event.ends_at + dt.timedelta(hours=1),
            kind="park",
            place="鹤山工业城",
        )
    assert exc.value.message_dict == {"at": ["行程时间须在活动开始与结束之间"]}
    with pytest.raises(NotFound):
        studytours.itinerary_add(
            actor=world.hr_a, event=event, at=event.starts_at, kind="park", place="x"
        )
    assert state() == before
    staff = client_as(Role.LEAGUE_STAFF)
    at = timezone.localtime(event.starts_at + dt.timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M")
    r = staff.post(
        f"/events/manage/{event.pk}/itinerary/",
        {"at": at, "kind": "enterprise", "place": "雅图仕印刷"},
    )
    assert r.status_code == 302
    stop = ItineraryStop.objects.get()
    assert (stop.place, stop.kind) == ("雅图仕印刷", "enterprise")
    # only staff: an enterprise HR is refused by policy
    assert (
        client_as(Role.ENTERPRISE_HR)
        .post(f"/events/manage/{event.pk}/itinerary/{stop.pk}/delete/")
        .status_code
        == 403
    )
    staff.post(f"/events/manage/{event.pk}/itinerary/{stop.pk}/delete/")
    assert ItineraryStop.objects.count() == 0


def test_gallery_for_participants_and_staff_only(world: World, client_as: Any) -> None:
    event = tour(world, capacity=5)
    staff = client_as(Role.LEAGUE_STAFF)
    before = state()
    for data, message in (
        (b"%PDF-1.4 not a photo", "文件不是有效的照片"),
        (png()[:60], "文件不是有效的照片"),
        (b"", "请选择照片"),
    ):
        with pytest.raises(ValidationError) as exc:
            studytours.photo_add(actor=world.league, event=event, data=data)
        assert exc.value.messages == [message]
    gif = io.BytesIO()
    Image.new("RGB", (5, 5)).save(gif, format="GIF")
    with pytest.raises(ValidationError) as exc:
        studytours.photo_add(actor=world.league, event=event, data=gif.getvalue())
    assert exc.value.messages == ["只能上传 JPG、PNG 或 WebP 照片"]
    assert state() == before
    upload = io.BytesIO(png())
    upload.name = "tour.png"
    r = staff.post(
        f"/events/manage/{event.pk}/photos/", {"photo": upload, "caption": "古劳水乡合影"}
    )
    assert r.status_code == 302
    photo = Photo.objects.get()
    assert (photo.content_type, photo.width, photo.height, photo.caption) == (
        "image/png",
        40,
        30,
        "古劳水乡合影",
    )
    from django.core.files.storage import default_storage

    with default_storage.open(photo.stored_name, "rb") as fh:
        assert fh.read() != png()
    participant = make_student("p1")
    services.registration_create(user=participant, event=event, group="university")
    c = Client()
    c.force_login(participant)
    got = c.get(f"/events/photos/{photo.pk}/")
    assert (got.status_code, got["Content-Type"], got.content) == (200, "image/png", png())
    assert [p.pk for p in c.get(f"/events/{event.pk}/").context["photos"]] == [photo.pk]
    outsider = make_student("o1")
    c.force_login(outsider)
    assert c.get(f"/events/photos/{photo.pk}/").status_code == 404
    assert c.get(f"/events/{event.pk}/").context["photos"] == []
    assert Client().get(f"/events/photos/{photo.pk}/").status_code == 302


def test_a_truncated_photo_is_refused_even_after_weasyprint_was_imported(world: World) -> None:
    """WeasyPrint (the monthly report) sets Pillow's LOAD_TRUNCATED_IMAGES process-wide."""
    import weasyprint  # noqa: F401
    from PIL import ImageFile

    ImageFile.LOAD_TRUNCATED_IMAGES = True
    event = tour(world, capacity=5)
    with pytest.raises(ValidationError) as exc:
        studytours.photo_add(actor=world.league, event=event, data=png()[:60])
    assert exc.value.messages == ["文件不是有效的照片"]
    assert Photo.objects.count() == 0
