"""A large export made in the background: who asked, what for (sealed: a search by ID number
or phone is part of it), how far it got, and its file, encrypted at rest until it expires."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from qinghe.core.fields import SealedJSONField


class Export(models.Model):
    class Kind(models.TextChoices):
        TALENTS = "talents", _("人才名单")

    class State(models.TextChoices):
        QUEUED = "queued", _("排队中")
        RUNNING = "running", _("生成中")
        DONE = "done", _("已完成")
        FAILED = "failed", _("失败")

    ACTIVE_STATES = (State.QUEUED, State.RUNNING)

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("申请人"),
        on_delete=models.CASCADE,
        related_name="exports",
    )
    kind = models.CharField(_("类型"), max_length=16, choices=Kind.choices)
    # What the writer needs to run again (filters, unmask, reason). Sealed: the search box may
    # hold an ID number or a phone, which must not sit in plain text in the table.
    params = SealedJSONField(_("导出条件"), default=dict)
    # The same conditions in words for the page, the search by ID number or phone masked.
    description = models.CharField(_("说明"), max_length=300, blank=True)
    unmasked = models.BooleanField(_("完整信息"), default=False)
    state = models.CharField(_("状态"), max_length=10, choices=State.choices, default=State.QUEUED)
    rows_done = models.PositiveIntegerField(_("已处理行数"), default=0)
    rows_total = models.PositiveIntegerField(_("总行数"), default=0)
    file_name = models.CharField(_("文件"), max_length=200, blank=True)
    error = models.CharField(_("失败原因"), max_length=500, blank=True)
    downloads = models.PositiveIntegerField(_("下载次数"), default=0)
    created_at = models.DateTimeField(_("创建时间"), default=timezone.now)
    started_at = models.DateTimeField(_("开始时间"), null=True, blank=True)
    # Moved by every progress step: a running export without a beat for a while lost its worker.
    heartbeat_at = models.DateTimeField(_("最近进度"), null=True, blank=True)
    finished_at = models.DateTimeField(_("完成时间"), null=True, blank=True)
    expires_at = models.DateTimeField(_("下载截止"), null=True, blank=True)
    purged_at = models.DateTimeField(_("文件删除时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("导出文件")
        verbose_name_plural = _("导出文件")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["owner", "-created_at"], name="export_owner_recent"),
            models.Index(fields=["state", "expires_at"], name="export_state_expiry"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} #{self.pk}"

    @property
    def percent(self) -> int:
        if self.state == self.State.DONE:
            return 100
        if not self.rows_total:
            return 0
        return min(99, self.rows_done * 100 // self.rows_total)

    @property
    def active(self) -> bool:
        return self.state in self.ACTIVE_STATES

    def downloadable(self, now: dt.datetime | None = None) -> bool:
        moment = now or timezone.now()
        return (
            self.state == self.State.DONE
            and bool(self.file_name)
            and self.purged_at is None
            and (self.expires_at is None or self.expires_at > moment)
        )
