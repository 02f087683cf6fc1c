"""The outbox: every message to a user is a row written in the same transaction as the change
that causes it; ``deliver_outbox`` sends it. Preferences and unsubscriptions per user."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from qinghe.core.crypto import EncryptedTextField, blind_index


class Channel(models.TextChoices):
    INBOX = "inbox", _("站内信")
    EMAIL = "email", _("电子邮件")
    SMS = "sms", _("短信")
    WECHAT = "wechat", _("微信公众号")


class Category(models.TextChoices):
    LIAISON = "liaison", _("服务专员联络")
    CONSULTATION = "consultation", _("点单咨询")
    NEWS = "news", _("产业资讯")
    POLICY = "policy", _("政策推送")
    JOBS = "jobs", _("岗位推送")
    EVENT = "event", _("活动邀请")
    CONFIRM = "confirm", _("年度信息确认")
    SYSTEM = "system", _("系统通知")


# Categories that reach a student only while their liaison consent is in force.
CONSENT_LIAISON_CATEGORIES = frozenset(
    {
        Category.LIAISON,
        Category.NEWS,
        Category.POLICY,
        Category.JOBS,
        Category.EVENT,
        Category.CONFIRM,
    }
)


class OutboxMessage(models.Model):
    class State(models.TextChoices):
        QUEUED = "queued", _("排队中")
        SENDING = "sending", _("发送中")
        SENT = "sent", _("已发送")
        FAILED = "failed", _("失败")
        CANCELLED = "cancelled", _("已取消")
        # Handed to a provider that cannot be asked what became of it, and the worker died
        # before it learnt: a system administrator decides (mark sent / resend).
        UNKNOWN = "unknown", _("需人工确认")

    idempotency_key = models.CharField(_("幂等键"), max_length=80, unique=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="outbox_messages"
    )
    channel = models.CharField(_("渠道"), max_length=8, choices=Channel.choices)
    category = models.CharField(
        _("类别"), max_length=16, choices=Category.choices, default=Category.SYSTEM
    )
    template = models.CharField(_("模板"), max_length=64, blank=True)
    subject = models.CharField(_("标题"), max_length=200)
    body = models.TextField(_("内容"))
    data = models.JSONField(_("模板数据"), default=dict, blank=True)
    state = models.CharField(_("状态"), max_length=10, choices=State.choices, default=State.QUEUED)
    attempts = models.PositiveSmallIntegerField(_("尝试次数"), default=0)
    next_attempt_at = models.DateTimeField(_("下次尝试"), default=timezone.now)
    # A claimed message whose lease ran out (its worker died) is claimed again, same key;
    # the claim writes a fresh lease_token, and a worker saves only while the token is its own.
    claimed_until = models.DateTimeField(_("租约到期"), null=True, blank=True)
    lease_token = models.CharField(
        _("租约令牌"), max_length=32, blank=True, default="", db_default=""
    )
    last_error = models.CharField(_("最近错误"), max_length=500, blank=True)
    provider_id = models.CharField(_("服务商编号"), max_length=100, blank=True)
    created_at = models.DateTimeField(_("创建时间"), default=timezone.now)
    sent_at = models.DateTimeField(_("发送时间"), null=True, blank=True)
    opened_at = models.DateTimeField(_("打开时间"), null=True, blank=True)
    campaign = models.ForeignKey(
        "outreach.Campaign",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="messages",
    )

    class Meta:
        verbose_name = _("待发消息")
        verbose_name_plural = _("待发消息")
        indexes = [
            models.Index(fields=["state", "next_attempt_at"], name="outbox_due"),
            models.Index(fields=["user", "channel", "-created_at"], name="outbox_user_channel"),
        ]

    def __str__(self) -> str:
        return f"{self.channel}:{self.idempotency_key}"


class DeliveryAttempt(models.Model):
    """Our own ledger of hand-overs. The row is committed (``handing_over``) BEFORE the
    provider is called and gets the outcome as soon as the provider answers, so a message
    whose attempt has no outcome was perhaps delivered: it is settled by a status query or a
    person, never by sending it again blindly."""

    class Outcome(models.TextChoices):
        HANDING_OVER = "handing_over", _("交付中")
        SENT = "sent", _("已送达服务商")
        RETRY = "retry", _("暂时失败")
        FAILED = "failed", _("失败")
        NOT_RECEIVED = "not_received", _("服务商未收到")
        UNKNOWN = "unknown", _("结果未知")

    message = models.ForeignKey(
        OutboxMessage, on_delete=models.CASCADE, related_name="delivery_attempts"
    )
    idempotency_key = models.CharField(_("幂等键"), max_length=80)
    channel = models.CharField(_("渠道"), max_length=8, choices=Channel.choices)
    worker = models.CharField(_("投递进程"), max_length=100)
    lease_token = models.CharField(_("租约令牌"), max_length=32)
    started_at = models.DateTimeField(_("开始时间"), default=timezone.now)
    finished_at = models.DateTimeField(_("结果时间"), null=True, blank=True)
    outcome = models.CharField(
        _("结果"), max_length=16, choices=Outcome.choices, default=Outcome.HANDING_OVER
    )
    provider_id = models.CharField(_("服务商编号"), max_length=100, blank=True)
    detail = models.CharField(_("说明"), max_length=500, blank=True)

    class Meta:
        verbose_name = _("投递记录")
        verbose_name_plural = _("投递记录")
        indexes = [models.Index(fields=["message", "outcome"], name="delivery_attempt_open")]

    def __str__(self) -> str:
        return f"{self.channel}:{self.idempotency_key} {self.outcome}"


class Preference(models.Model):
    """Channels the user turned off and quiet hours (Asia/Shanghai local time)."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notify_preference"
    )
    disabled_channels = models.JSONField(_("关闭的渠道"), default=list, blank=True)
    quiet_start = models.TimeField(_("免打扰开始"), null=True, blank=True)
    quiet_end = models.TimeField(_("免打扰结束"), null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("通知偏好")
        verbose_name_plural = _("通知偏好")

    def __str__(self) -> str:
        return f"通知偏好 #{self.user_id}"


class Unsubscription(models.Model):
    """One-step unsubscribe, per channel and category ("" = every category on the channel)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="unsubscriptions"
    )
    channel = models.CharField(_("渠道"), max_length=8, choices=Channel.choices)
    category = models.CharField(_("类别"), max_length=16, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("退订")
        verbose_name_plural = _("退订")
        constraints = [
            models.UniqueConstraint(
                fields=["user", "channel", "category"], name="unsubscription_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.channel}/{self.category or '*'} #{self.user_id}"


class WechatBinding(models.Model):
    """The user's openid under our official account, bound once through web authorisation
    (accounts.wechat). The openid identifies a person across every visit, so it is personal
    data: stored encrypted, found and kept unique through its blind index, never logged."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="wechat_binding"
    )
    openid = EncryptedTextField(_("OpenID"))
    openid_index = models.CharField(max_length=64, unique=True, editable=False)
    bound_at = models.DateTimeField(_("绑定时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("微信绑定")
        verbose_name_plural = _("微信绑定")

    def __str__(self) -> str:
        return f"微信绑定 #{self.user_id}"


def openid_index(openid: str) -> str:
    """The blind index of an openid (its only look-up and uniqueness key)."""
    return blind_index(openid.strip(), purpose="wechat_openid")
