"""The plan's yearly targets (measures 5 and 6 today; later measures report into this app)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class YearTarget(models.Model):
    """The plan's goals for one year (measures 5, 6 and 7), editable by HR bureau staff."""

    year = models.PositiveSmallIntegerField(_("年度"), unique=True)
    quality_jobs = models.PositiveIntegerField(_("优质岗位目标"), default=500)
    internship_bases = models.PositiveIntegerField(_("认定实习基地目标"), default=10)
    internship_posts = models.PositiveIntegerField(_("实习岗位目标"), default=500)
    native_hires = models.PositiveIntegerField(_("鹤山籍录用目标"), default=300)
    recruitment_events = models.PositiveIntegerField(_("招聘活动目标"), default=10)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("更新人"),
    )
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        # The table was created by the jobs app (moved here with SeparateDatabaseAndState).
        db_table = "jobs_yeartarget"
        verbose_name = _("年度目标")
        verbose_name_plural = _("年度目标")
        ordering = ["-year"]

    def __str__(self) -> str:
        return f"{self.year} 年度目标"
