"""Reference tables: catalogs of majors, universities, county codes, towns, occupations and
industries. They are written only by ``load_reference`` (``services.reference_load``), which
matches rows on their codes, so other tables may point at them safely."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class SearchableModel(models.Model):
    # Code, name, aliases and pinyin, normalised (see text.build_search_text): a search is one
    # icontains per word. The index serves exact and prefix look-ups; a substring search scans,
    # which is quick at these sizes (the largest table has under 7,000 rows).
    search_text = models.TextField(
        _("检索文本"), blank=True, default="", db_index=True, editable=False
    )

    class Meta:
        abstract = True


class Discipline(SearchableModel):
    """学科门类 of the undergraduate catalog, e.g. 08 工学."""

    code = models.CharField(_("代码"), max_length=2, unique=True)
    name = models.CharField(_("名称"), max_length=32)

    class Meta:
        ordering = ["code"]
        verbose_name = _("学科门类")
        verbose_name_plural = _("学科门类")

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class MajorCategory(SearchableModel):
    """专业类 of the undergraduate catalog (0809 计算机类) or 专业大类 of the vocational
    catalog (51 电子与信息大类)."""

    class Kind(models.TextChoices):
        UNDERGRAD = "undergrad", _("本科")
        VOCATIONAL = "vocational", _("高职专科")

    code = models.CharField(_("代码"), max_length=8, unique=True)
    name = models.CharField(_("名称"), max_length=64)
    kind = models.CharField(_("层次"), max_length=16, choices=Kind.choices)
    discipline = models.ForeignKey(
        Discipline,
        verbose_name=_("学科门类"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="categories",
    )
    edition = models.CharField(_("目录版本"), max_length=8, blank=True)

    class Meta:
        ordering = ["kind", "code"]
        verbose_name = _("专业类")
        verbose_name_plural = _("专业类")

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class Major(SearchableModel):
    """专业 of the undergraduate catalog, e.g. 080901 计算机科学与技术 (T: 特设, K: 国家控制布点)."""

    code = models.CharField(_("专业代码"), max_length=12, unique=True)
    name = models.CharField(_("专业名称"), max_length=64)
    category = models.ForeignKey(
        MajorCategory, verbose_name=_("专业类"), on_delete=models.PROTECT, related_name="majors"
    )
    is_special = models.BooleanField(_("特设专业"), default=False)
    is_controlled = models.BooleanField(_("国家控制布点专业"), default=False)
    note = models.CharField(_("备注"), max_length=128, blank=True)
    edition = models.CharField(_("目录版本"), max_length=8, blank=True)

    class Meta:
        ordering = ["code"]
        verbose_name = _("本科专业")
        verbose_name_plural = _("本科专业")

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class University(SearchableModel):
    """A domestic university. ``former_names`` holds the source's aliases (mostly former names),
    ``::``-separated; ``name_key`` and ``alias_keys`` hold them normalised for matching."""

    source_id = models.CharField(_("来源编号"), max_length=16, unique=True)
    name = models.CharField(_("名称"), max_length=64, db_index=True)
    name_en = models.CharField(_("英文名称"), max_length=200, blank=True)
    former_names = models.TextField(_("曾用名/别名"), blank=True)
    province = models.CharField(_("省份"), max_length=16, blank=True)
    city = models.CharField(_("城市"), max_length=32, blank=True)
    school_type = models.CharField(_("类别"), max_length=16, blank=True)
    education_type = models.CharField(_("办学层次"), max_length=16, blank=True)
    is_985 = models.BooleanField(_("985"), default=False)
    is_211 = models.BooleanField(_("211"), default=False)
    is_double_first_class = models.BooleanField(_("双一流（2022）"), default=False, db_index=True)
    name_key = models.CharField(_("名称匹配键"), max_length=64, db_index=True, editable=False)
    alias_keys = models.TextField(_("别名匹配键"), blank=True, editable=False)

    class Meta:
        ordering = ["name"]
        verbose_name = _("高校")
        verbose_name_plural = _("高校")

    def __str__(self) -> str:
        return self.name

    @property
    def former_name_list(self) -> list[str]:
        return [name for name in self.former_names.split("::") if name]


class Region(SearchableModel):
    """A GB/T 2260 code (province, prefecture or county level) over one period of its life.
    One code can have several rows (renamed, or reused); ``successor_code`` is the source's
    新代码: one or more codes, ``;``-separated, each optionally followed by ``[year]``."""

    class Level(models.TextChoices):
        PROVINCE = "province", _("省级")
        PREFECTURE = "prefecture", _("地级")
        COUNTY = "county", _("县级")

    class Status(models.TextChoices):
        ACTIVE = "active", _("在用")
        ABOLISHED = "abolished", _("弃用")
        CHANGED = "changed", _("变更")

    code = models.CharField(_("区划代码"), max_length=6, db_index=True)
    name = models.CharField(_("名称"), max_length=32)
    province = models.CharField(_("省级"), max_length=32, blank=True)
    prefecture = models.CharField(_("地级"), max_length=32, blank=True)
    level = models.CharField(_("级别"), max_length=16, choices=Level.choices)
    status = models.CharField(_("状态"), max_length=16, choices=Status.choices)
    start_year = models.PositiveSmallIntegerField(_("启用年份"))
    end_year = models.PositiveSmallIntegerField(_("变更/弃用年份"), null=True, blank=True)
    successor_code = models.CharField(_("新代码"), max_length=200, blank=True)

    class Meta:
        ordering = ["code", "start_year"]
        verbose_name = _("行政区划代码")
        verbose_name_plural = _("行政区划代码")
        constraints = [
            models.UniqueConstraint(
                fields=["code", "start_year"], name="reference_region_code_start"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"

    @property
    def years(self) -> str:
        return f"{self.start_year}–{self.end_year or ''}"


class Town(SearchableModel):
    """A town or sub-district (乡镇/街道) with its 9-digit NBS code."""

    code = models.CharField(_("代码"), max_length=12, unique=True)
    name = models.CharField(_("名称"), max_length=32)
    county_code = models.CharField(_("所属县级代码"), max_length=6, db_index=True)

    class Meta:
        ordering = ["code"]
        verbose_name = _("镇街")
        verbose_name_plural = _("镇街")

    def __str__(self) -> str:
        return self.name


class Occupation(SearchableModel):
    """A node of 职业分类大典 (2022). An occupation without subdivisions keeps the code of the
    class above it (2-03-01-00 is both a 小类 and a 职业), so code and level identify a row."""

    class Level(models.IntegerChoices):
        MAJOR_GROUP = 1, _("大类")
        SUB_MAJOR_GROUP = 2, _("中类")
        MINOR_GROUP = 3, _("小类")
        OCCUPATION = 4, _("职业")

    code = models.CharField(_("职业代码"), max_length=12, db_index=True)
    level = models.PositiveSmallIntegerField(_("层级"), choices=Level.choices)
    name = models.CharField(_("名称"), max_length=128)
    flags = models.CharField(
        _("标识"), max_length=8, blank=True, help_text=_("S 数字职业，L 绿色职业")
    )
    definition = models.TextField(_("定义"), blank=True)
    tasks = models.TextField(_("主要工作任务"), blank=True)
    aliases = models.TextField(_("常见岗位名称"), blank=True)
    parent_code = models.CharField(_("上级代码"), max_length=12, blank=True, db_index=True)

    class Meta:
        ordering = ["code", "level"]
        verbose_name = _("职业")
        verbose_name_plural = _("职业")
        constraints = [
            models.UniqueConstraint(
                fields=["code", "level"], name="reference_occupation_code_level"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"

    @property
    def is_digital(self) -> bool:
        return "S" in self.flags

    @property
    def is_green(self) -> bool:
        return "L" in self.flags


class Industry(SearchableModel):
    """GB/T 4754-2017: a 门类 (letter A-T) or a 大类 (two digits, under its 门类)."""

    class Level(models.TextChoices):
        SECTION = "section", _("门类")
        DIVISION = "division", _("大类")

    code = models.CharField(_("代码"), max_length=4, unique=True)
    name = models.CharField(_("名称"), max_length=64)
    level = models.CharField(_("层级"), max_length=16, choices=Level.choices)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("门类"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )
    # Order of the standard (A, 01-05, B, 06-12, ...), which neither code alone gives.
    position = models.PositiveSmallIntegerField(_("顺序"), default=0)

    class Meta:
        ordering = ["position"]
        verbose_name = _("国民经济行业")
        verbose_name_plural = _("国民经济行业")

    def __str__(self) -> str:
        return f"{self.code} {self.name}"
