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


class IndicatorSnapshot(models.Model):
    """One indicator's value at the end of a month (qinghe.plan.indicators), recorded by the
    monthly job; the board's trend and burn-down read these plus the live value. ``backfilled``
    marks a row written afterwards (the demo computes past months from its own rows) so a leader
    can tell it was not taken at that month's end."""

    code = models.CharField(_("指标"), max_length=48)
    month = models.DateField(_("月份"), help_text=_("该月第一天"))
    value = models.FloatField(_("数值"))
    recorded_at = models.DateTimeField(_("记录时间"), auto_now_add=True)
    backfilled = models.BooleanField(_("事后补记"), default=False)

    class Meta:
        verbose_name = _("指标月度快照")
        verbose_name_plural = _("指标月度快照")
        ordering = ["month", "code"]
        constraints = [
            models.UniqueConstraint(fields=["code", "month"], name="plan_snapshot_once_a_month")
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.month:%Y-%m}"


class MonthlyReport(models.Model):
    """The leaders' monthly report (PDF and .xlsx with the same figures), kept in the archive.
    Aggregate figures only: no personal data, so the files are kept in the database."""

    month = models.DateField(_("报告月份"), unique=True, help_text=_("该月第一天"))
    pdf = models.BinaryField(_("PDF 文件"))
    xlsx = models.BinaryField(_("Excel 文件"))
    pages = models.PositiveSmallIntegerField(_("页数"), default=0)
    created_at = models.DateTimeField(_("生成时间"), auto_now=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("生成人"),
    )

    class Meta:
        verbose_name = _("月度报告")
        verbose_name_plural = _("月度报告")
        ordering = ["-month"]

    def __str__(self) -> str:
        return f"{self.month:%Y 年 %m 月}报告"


class PrecomputedFigures(models.Model):
    """Aggregate figures computed by the scheduled job ``refresh_plan_figures``
    (qinghe.plan.precomputed) so that the board, the funnel and the public page read one small
    row instead of counting 100,000 talents on every request. One row per key (``board:2026``,
    ``funnel:2025``, ``public:2026``); ``computed_at`` is shown on the page. Aggregates only:
    no personal data."""

    key = models.CharField(_("键"), max_length=48, unique=True)
    data = models.JSONField(_("数据"))
    computed_at = models.DateTimeField(_("计算时间"))

    class Meta:
        verbose_name = _("预计算指标")
        verbose_name_plural = _("预计算指标")

    def __str__(self) -> str:
        return f"{self.key} @ {self.computed_at:%Y-%m-%d %H:%M}"
