"""Events (measures 7 and 8): recruitment fairs, campus talks, live-stream recruiting, study
tours and chapter gatherings; registrations with a waiting list, and check-in at the door.

An event is organised by an ``accounts.Organisation``: a bureau (HR bureau, Youth League) or an
enterprise. Staff publish directly; an event an enterprise proposes goes to staff review first
(``TRANSITIONS``)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from qinghe.core.crypto import EncryptedTextField
from qinghe.core.models import TimeStampedModel
from qinghe.core.workflow import Move, table
from qinghe.talents.models import Level


class Event(TimeStampedModel):
    class Type(models.TextChoices):
        JOB_FAIR = "job_fair", _("招聘会")
        CLOUD_FAIR = "cloud_fair", _("云招聘")
        LIVE_STREAM = "live_stream", _("直播带岗")
        CAMPUS_TALK = "campus_talk", _("宣讲会")
        CAMPUS_TOUR = "campus_tour", _("企业高校行")
        SHARING = "sharing", _("人才分享会")
        STUDY_TOUR = "study_tour", _("研学")
        CHAPTER = "chapter", _("联盟活动")

    class State(models.TextChoices):
        DRAFT = "draft", _("草稿")
        REVIEW = "review", _("待审核")
        PUBLISHED = "published", _("已发布")
        CANCELLED = "cancelled", _("已取消")
        FINISHED = "finished", _("已结束")

    class Audience(models.TextChoices):
        OPEN = "open", _("面向全体学子")
        LEVEL = "level", _("限定学历层次")
        GRADUATING = "graduating", _("限定毕业年份")
        CHAPTER = "chapter", _("限定联盟分会会员")

    type = models.CharField(_("活动类型"), max_length=16, choices=Type.choices, db_index=True)
    title = models.CharField(_("活动名称"), max_length=120)
    description = models.TextField(_("活动介绍"), blank=True)
    organiser = models.ForeignKey(
        "accounts.Organisation",
        verbose_name=_("主办单位"),
        on_delete=models.PROTECT,
        related_name="organised_events",
    )
    place = models.CharField(_("地点"), max_length=200, blank=True)
    online_url = models.URLField(_("线上链接"), max_length=500, blank=True)
    starts_at = models.DateTimeField(_("开始时间"), db_index=True)
    ends_at = models.DateTimeField(_("结束时间"))
    audience = models.CharField(
        _("报名对象"), max_length=16, choices=Audience.choices, default=Audience.OPEN
    )
    audience_level = models.CharField(
        _("限定学历"), max_length=16, choices=Level.choices, blank=True
    )
    audience_year = models.PositiveSmallIntegerField(_("限定毕业年份"), null=True, blank=True)
    audience_chapter = models.ForeignKey(
        "alliance.Chapter",
        verbose_name=_("限定分会"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="member_events",
    )
    capacity = models.PositiveIntegerField(
        _("名额"), null=True, blank=True, help_text=_("留空表示不限名额")
    )
    registration_opens_at = models.DateTimeField(_("报名开始"))
    registration_closes_at = models.DateTimeField(_("报名截止"))
    cancel_deadline = models.DateTimeField(_("取消报名截止"))
    enterprises = models.ManyToManyField(
        "enterprises.Enterprise",
        verbose_name=_("参会企业"),
        blank=True,
        related_name="public_events",
    )
    postings = models.ManyToManyField(
        "jobs.Posting", verbose_name=_("参会岗位"), blank=True, related_name="public_events"
    )
    # A study tour's groups by school level (TourGroup values); empty for other events.
    tour_groups = models.JSONField(_("研学分组"), default=list, blank=True)
    state = models.CharField(
        _("状态"), max_length=16, choices=State.choices, default=State.DRAFT, db_index=True
    )
    review_note = models.CharField(_("审核意见"), max_length=300, blank=True)
    cancel_reason = models.CharField(_("取消原因"), max_length=300, blank=True)
    published_at = models.DateTimeField(_("发布时间"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("创建人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        verbose_name = _("活动")
        verbose_name_plural = _("活动")
        ordering = ["starts_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(ends_at__gt=models.F("starts_at")), name="event_ends_after_start"
            ),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def is_recruitment(self) -> bool:
        return self.type in RECRUITMENT_TYPES

    @property
    def is_online(self) -> bool:
        return self.type in ONLINE_TYPES


# Types whose participating enterprises bring postings (measure 7).
RECRUITMENT_TYPES = frozenset(
    {
        Event.Type.JOB_FAIR,
        Event.Type.CLOUD_FAIR,
        Event.Type.LIVE_STREAM,
        Event.Type.CAMPUS_TALK,
        Event.Type.CAMPUS_TOUR,
    }
)
# Types held online: a link instead of a place.
ONLINE_TYPES = frozenset({Event.Type.CLOUD_FAIR, Event.Type.LIVE_STREAM})

# The workflow as data, run by qinghe.core.workflow (services.EVENT_WORKFLOW). Parties: event
# staff (HR bureau, Youth League) and the organising enterprise's HR.
STAFF_PARTY = "staff"
ENTERPRISE_PARTY = "enterprise"
_S = Event.State
_STAFF_ONLY = "只有活动管理人员可以执行此操作"
TRANSITIONS: dict[str, Move] = table(
    Move(
        "submit",
        "提交审核",
        frozenset({_S.DRAFT}),
        _S.REVIEW,
        frozenset({ENTERPRISE_PARTY}),
        denied="工作人员创建的活动可直接发布",
    ),
    Move(
        "publish",
        "发布",
        frozenset({_S.DRAFT, _S.REVIEW}),
        _S.PUBLISHED,
        frozenset({STAFF_PARTY}),
        denied=_STAFF_ONLY,
    ),
    Move(
        "return",
        "退回修改",
        frozenset({_S.REVIEW}),
        _S.DRAFT,
        frozenset({STAFF_PARTY}),
        needs_reason=True,
        denied=_STAFF_ONLY,
    ),
    Move(
        "cancel",
        "取消活动",
        frozenset({_S.DRAFT, _S.REVIEW, _S.PUBLISHED}),
        _S.CANCELLED,
        frozenset({STAFF_PARTY}),
        needs_reason=True,
        denied=_STAFF_ONLY,
    ),
    Move(
        "finish",
        "结束活动",
        frozenset({_S.PUBLISHED}),
        _S.FINISHED,
        frozenset({STAFF_PARTY}),
        denied=_STAFF_ONLY,
    ),
)
ACTION_LABELS: dict[str, str] = {
    "create": "新建",
    "edit": "修改",
    **{action: move.label for action, move in TRANSITIONS.items()},
}
# States in which the organiser may still change the event's details.
EDITABLE_STATES = frozenset({Event.State.DRAFT, Event.State.REVIEW, Event.State.PUBLISHED})


class EventChange(models.Model):
    """One row per creation, edit and state change of an event."""

    event = models.ForeignKey(
        Event, on_delete=models.CASCADE, related_name="changes", verbose_name=_("活动")
    )
    action = models.CharField(_("动作"), max_length=16)
    from_state = models.CharField(_("原状态"), max_length=16, blank=True)
    to_state = models.CharField(_("新状态"), max_length=16, blank=True)
    note = models.CharField(_("说明"), max_length=300, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("操作人"),
    )
    created_at = models.DateTimeField(_("时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("活动记录")
        verbose_name_plural = _("活动记录")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.event_id} {self.action}"

    @property
    def action_label(self) -> str:
        return ACTION_LABELS.get(self.action, self.action)


class TourGroup(models.TextChoices):
    HIGH_SCHOOL = "high_school", _("高中生组")
    VOCATIONAL = "vocational", _("职校生组")
    UNIVERSITY = "university", _("大学生组")
    OVERSEAS = "overseas", _("留学生组")


class Registration(models.Model):
    """A student's registration. ``confirmed`` holds a place; ``guardian`` holds one too but
    waits for a guardian's consent (a high-school student under 18 on a study tour);
    ``waitlisted`` waits in order of ``(registered_at, id)``; a cancelled row is kept and a
    new one is made on re-registering."""

    class Status(models.TextChoices):
        CONFIRMED = "confirmed", _("已确认")
        GUARDIAN = "guardian", _("待监护人同意")
        WAITLISTED = "waitlisted", _("候补中")
        CANCELLED = "cancelled", _("已取消")

    event = models.ForeignKey(
        Event, on_delete=models.CASCADE, related_name="registrations", verbose_name=_("活动")
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="event_registrations",
        verbose_name=_("用户"),
    )
    status = models.CharField(_("状态"), max_length=16, choices=Status.choices)
    registered_at = models.DateTimeField(_("报名时间"))
    confirmed_at = models.DateTimeField(_("确认时间"), null=True, blank=True)
    cancelled_at = models.DateTimeField(_("取消时间"), null=True, blank=True)
    attended_at = models.DateTimeField(_("签到时间"), null=True, blank=True)
    checked_in_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("签到人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    # Set when the check-in was made on a door phone without network and synchronised later
    # (``attended_at`` is then the time on the phone): qinghe.events.services.checkins_sync.
    checkin_synced_at = models.DateTimeField(_("离线签到同步时间"), null=True, blank=True)
    reminder_sent_at = models.DateTimeField(_("提醒时间"), null=True, blank=True)
    group = models.CharField(_("研学分组"), max_length=16, choices=TourGroup.choices, blank=True)
    # A guardian's consent (study tours, minors): who, their phone (encrypted), when.
    guardian_name = models.CharField(_("监护人姓名"), max_length=32, blank=True)
    guardian_phone = EncryptedTextField(_("监护人电话"), blank=True, default="")
    guardian_consented_at = models.DateTimeField(_("监护人同意时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("活动报名")
        verbose_name_plural = _("活动报名")
        ordering = ["registered_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["event", "user"],
                condition=models.Q(status__in=["confirmed", "guardian", "waitlisted"]),
                name="one_active_registration_per_event_user",
            )
        ]
        indexes = [
            models.Index(
                fields=["event", "status", "registered_at", "id"], name="registration_queue"
            )
        ]

    def __str__(self) -> str:
        return f"{self.event_id}/{self.user_id} {self.status}"

    @property
    def is_active(self) -> bool:
        return self.status in ACTIVE_STATUSES

    @property
    def holds_place(self) -> bool:
        return self.status in HOLDING_STATUSES


# Registrations that hold a place, and those still in the game (holding or waiting).
HOLDING_STATUSES = (Registration.Status.CONFIRMED, Registration.Status.GUARDIAN)
ACTIVE_STATUSES = (*HOLDING_STATUSES, Registration.Status.WAITLISTED)


class ItineraryStop(models.Model):
    """One stop of a study tour: an enterprise, a park or a heritage site, with its time."""

    class Kind(models.TextChoices):
        ENTERPRISE = "enterprise", _("企业")
        PARK = "park", _("产业园区")
        HERITAGE = "heritage", _("文化遗址")
        OTHER = "other", _("其他")

    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="itinerary")
    at = models.DateTimeField(_("时间"))
    kind = models.CharField(_("类型"), max_length=16, choices=Kind.choices)
    place = models.CharField(_("地点"), max_length=120)
    note = models.CharField(_("说明"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("研学行程")
        verbose_name_plural = _("研学行程")
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.at:%H:%M} {self.place}"


class Photo(models.Model):
    """A photo of a finished event, stored encrypted; shown only to its participants and
    staff (qinghe.events.selectors.photo_get_for_viewer)."""

    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="photos")
    stored_name = models.CharField(max_length=300)
    content_type = models.CharField(max_length=32)
    size = models.PositiveIntegerField()
    width = models.PositiveIntegerField()
    height = models.PositiveIntegerField()
    caption = models.CharField(_("说明"), max_length=120, blank=True)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    uploaded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("活动照片")
        verbose_name_plural = _("活动照片")
        ordering = ["uploaded_at", "id"]

    def __str__(self) -> str:
        return self.caption or f"照片 {self.pk}"


class Feedback(models.Model):
    """A participant's short feedback after the event: a rating and a comment, once."""

    registration = models.OneToOneField(
        Registration, on_delete=models.CASCADE, related_name="feedback"
    )
    rating = models.PositiveSmallIntegerField(_("评分"))
    comment = models.CharField(_("意见"), max_length=500, blank=True)
    created_at = models.DateTimeField(_("提交时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("活动反馈")
        verbose_name_plural = _("活动反馈")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(rating__gte=1, rating__lte=5), name="feedback_rating_1_to_5"
            )
        ]

    def __str__(self) -> str:
        return f"{self.registration_id}: {self.rating}"
