"""The "1+10+N" talent stations (measure 9): one centre, a station per town or street of
Heshan, service points; the specialists who serve grids (towns) and people; the service
catalogue; health-check slots with a capacity per day; the walk-in queue of the youth-talent
window (专窗); service requests with deadlines and their outcomes."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from qinghe.core.models import TimeStampedModel


class Station(TimeStampedModel):
    class Kind(models.TextChoices):
        CENTRE = "centre", _("人才服务中心")
        TOWN = "town", _("镇街人才驿站")
        POINT = "point", _("服务点")

    kind = models.CharField(_("层级"), max_length=8, choices=Kind.choices)
    name = models.CharField(_("名称"), max_length=100, unique=True)
    # The staff of a station are the users of this organisation.
    organisation = models.OneToOneField(
        "accounts.Organisation", on_delete=models.PROTECT, related_name="station"
    )
    town = models.ForeignKey(
        "reference.Town", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    address = models.CharField(_("地址"), max_length=200)
    hours = models.CharField(_("服务时间"), max_length=100)
    phone = models.CharField(_("服务电话"), max_length=32, blank=True)
    is_active = models.BooleanField(_("启用"), default=True)

    class Meta:
        verbose_name = _("人才驿站")
        verbose_name_plural = _("人才驿站")
        ordering = ["kind", "name"]

    def __str__(self) -> str:
        return self.name


class GridAssignment(models.Model):
    """A talent service specialist (服务专员) responsible for a grid: one town."""

    specialist = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="grid_assignments"
    )
    town = models.ForeignKey("reference.Town", on_delete=models.PROTECT, related_name="+")
    station = models.ForeignKey(Station, on_delete=models.CASCADE, related_name="grids")
    assigned_at = models.DateTimeField(_("分配时间"), default=timezone.now)

    class Meta:
        verbose_name = _("网格分配")
        verbose_name_plural = _("网格分配")
        constraints = [
            models.UniqueConstraint(fields=["specialist", "town"], name="grid_unique_pair")
        ]

    def __str__(self) -> str:
        return f"{self.town_id} → {self.specialist_id}"


class Service(models.Model):
    """One entry of the service catalogue (data: stations/data/services.json)."""

    code = models.CharField(_("编码"), max_length=32, unique=True)
    name = models.CharField(_("名称"), max_length=60)
    description = models.CharField(_("说明"), max_length=300, blank=True)
    # Booked by day at a station (places per day under the slot's row lock).
    bookable = models.BooleanField(_("可预约"), default=False)
    # A card holder may open a request of this type for themselves from the card page.
    holder_may_ask = models.BooleanField(_("持卡人可申请"), default=False)
    # Days within which a request must be handled.
    due_days = models.PositiveSmallIntegerField(_("办理时限（天）"), default=5)
    position = models.PositiveSmallIntegerField(_("排序"), default=0)

    class Meta:
        verbose_name = _("服务项目")
        verbose_name_plural = _("服务项目")
        ordering = ["position", "code"]

    def __str__(self) -> str:
        return self.name


class HealthSlot(models.Model):
    """Places of one bookable service (the health check, a policy consultation appointment…)
    at one station on one day. ``booked`` is counted under this row's lock, and a check
    constraint keeps it within the capacity."""

    station = models.ForeignKey(Station, on_delete=models.CASCADE, related_name="slots")
    service = models.ForeignKey(
        Service, verbose_name=_("服务项目"), on_delete=models.PROTECT, related_name="slots"
    )
    day = models.DateField(_("日期"))
    capacity = models.PositiveSmallIntegerField(_("名额"))
    booked = models.PositiveSmallIntegerField(_("已预约"), default=0)

    class Meta:
        verbose_name = _("预约名额")
        verbose_name_plural = _("预约名额")
        ordering = ["day"]
        constraints = [
            models.UniqueConstraint(
                fields=["station", "service", "day"], name="slot_unique_station_service_day"
            ),
            models.CheckConstraint(
                condition=models.Q(booked__lte=models.F("capacity")),
                name="slot_booked_within_capacity",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.station_id} {self.day}"

    @property
    def left(self) -> int:
        return max(0, self.capacity - self.booked)


class Booking(models.Model):
    class State(models.TextChoices):
        BOOKED = "booked", _("已预约")
        CANCELLED = "cancelled", _("已取消")
        DONE = "done", _("已完成")

    slot = models.ForeignKey(HealthSlot, on_delete=models.CASCADE, related_name="bookings")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="station_bookings"
    )
    talent = models.ForeignKey(
        "talents.Talent", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    state = models.CharField(_("状态"), max_length=10, choices=State.choices, default=State.BOOKED)
    created_at = models.DateTimeField(_("预约时间"), default=timezone.now)

    class Meta:
        verbose_name = _("服务预约")
        verbose_name_plural = _("服务预约")
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["slot", "user"],
                condition=models.Q(state="booked"),
                name="booking_one_per_user_slot",
            )
        ]

    def __str__(self) -> str:
        return f"#{self.slot_id}/{self.user_id}"


class QueueTicket(models.Model):
    """A numbered walk-in ticket of a station's youth-talent window (专窗), numbered per day."""

    class State(models.TextChoices):
        WAITING = "waiting", _("等候中")
        SERVED = "served", _("已办理")
        LEFT = "left", _("未到")

    station = models.ForeignKey(Station, on_delete=models.CASCADE, related_name="tickets")
    day = models.DateField(_("日期"))
    number = models.PositiveIntegerField(_("号码"))
    service = models.ForeignKey(Service, on_delete=models.PROTECT, related_name="+")
    talent = models.ForeignKey(
        "talents.Talent", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    state = models.CharField(_("状态"), max_length=10, choices=State.choices, default=State.WAITING)
    issued_at = models.DateTimeField(_("取号时间"), default=timezone.now)
    served_at = models.DateTimeField(_("办理时间"), null=True, blank=True)
    served_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = _("专窗排号")
        verbose_name_plural = _("专窗排号")
        ordering = ["day", "number"]
        constraints = [
            models.UniqueConstraint(
                fields=["station", "day", "number"], name="ticket_unique_number"
            )
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.number:03d}"

    @property
    def waited_seconds(self) -> int | None:
        if self.served_at is None:
            return None
        return int((self.served_at - self.issued_at).total_seconds())


class ServiceRequest(models.Model):
    """A request for one service of the catalogue, handled by a station before its deadline;
    the outcome is written to the person's record as a contact."""

    class State(models.TextChoices):
        OPEN = "open", _("办理中")
        DONE = "done", _("已办结")

    station = models.ForeignKey(Station, on_delete=models.PROTECT, related_name="requests")
    service = models.ForeignKey(Service, on_delete=models.PROTECT, related_name="requests")
    talent = models.ForeignKey(
        "talents.Talent", on_delete=models.CASCADE, related_name="service_requests"
    )
    state = models.CharField(_("状态"), max_length=8, choices=State.choices, default=State.OPEN)
    note = models.CharField(_("事项说明"), max_length=300, blank=True)
    opened_at = models.DateTimeField(_("受理时间"), default=timezone.now)
    due_at = models.DateTimeField(_("办理时限"))
    outcome = models.TextField(_("办理结果"), blank=True)
    handled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    closed_at = models.DateTimeField(_("办结时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("服务事项")
        verbose_name_plural = _("服务事项")
        ordering = ["due_at", "id"]
        indexes = [models.Index(fields=["station", "state", "due_at"], name="request_station_due")]

    def __str__(self) -> str:
        return f"{self.service_id} #{self.pk}"

    def overdue_at(self, now: dt.datetime) -> bool:
        return self.state == self.State.OPEN and self.due_at < now


class SpecialistAssignment(models.Model):
    """A person's talent service specialist (人才服务专员), chosen among the specialists of the
    person's grid (GridAssignment of their town). Reassigning ends the active row and adds one,
    so the history shows who served whom and when."""

    talent = models.ForeignKey(
        "talents.Talent", on_delete=models.CASCADE, related_name="specialist_assignments"
    )
    specialist = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("人才服务专员"),
        on_delete=models.PROTECT,
        related_name="specialist_assignments",
    )
    station = models.ForeignKey(
        Station, verbose_name=_("人才驿站"), on_delete=models.PROTECT, related_name="+"
    )
    active = models.BooleanField(_("在任"), default=True)
    assigned_at = models.DateTimeField(_("分配时间"), default=timezone.now)
    ended_at = models.DateTimeField(_("结束时间"), null=True, blank=True)
    reason = models.CharField(_("原因"), max_length=200, blank=True)
    assigned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("分配人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        verbose_name = _("人才服务专员分配")
        verbose_name_plural = _("人才服务专员分配")
        ordering = ["-assigned_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["talent"],
                condition=models.Q(active=True),
                name="one_active_specialist_per_talent",
            )
        ]
        indexes = [
            models.Index(fields=["specialist", "active"], name="specialist_active"),
        ]

    def __str__(self) -> str:
        return f"#{self.talent_id} → {self.specialist_id}"
