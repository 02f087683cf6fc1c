"""The Heshan talent database: people, their education and destinations, where every value
came from, and the survey batches that feed it."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from qinghe.core.crypto import EncryptedTextField
from qinghe.core.masking import mask_id_number, mask_name, mask_phone
from qinghe.core.models import TimeStampedModel

from .provenance import ProvenanceField


class Source(models.TextChoices):
    SURVEY = "survey", _("毕业生调查导入")
    STUDENT = "student", _("学生本人")
    STAFF = "staff", _("工作人员")
    LIAISON = "liaison", _("服务专员联络记录")
    SYSTEM = "system", _("系统推导")


class Level(models.TextChoices):
    JUNIOR = "junior", _("专科")
    BACHELOR = "bachelor", _("本科")
    MASTER = "master", _("硕士")
    DOCTOR = "doctor", _("博士")


class Talent(TimeStampedModel):
    class Gender(models.TextChoices):
        MALE = "M", _("男")
        FEMALE = "F", _("女")
        UNKNOWN = "", _("未知")

    class Status(models.TextChoices):
        STUDYING = "studying", _("在读")
        GRADUATING = "graduating", _("应届")
        EMPLOYED_HESHAN = "employed_heshan", _("已就业（鹤山）")
        EMPLOYED_JIANGMEN = "employed_jiangmen", _("已就业（江门）")
        EMPLOYED_ELSEWHERE = "employed_elsewhere", _("已就业（外地）")
        FURTHER_STUDY = "further_study", _("升学")
        ABROAD = "abroad", _("出国")
        SEEKING = "seeking", _("待就业")
        NOT_WILLING = "not_willing", _("暂无意愿")
        UNKNOWN = "unknown", _("未知")

    class Evidence(models.TextChoices):
        BOTH = "both", _("身份证号与户籍均在鹤山")
        ID_PREFIX = "id_prefix", _("身份证号前六位为鹤山")
        HUKOU = "hukou", _("户籍在鹤山")
        NONE = "none", _("暂无鹤山籍证据")

    class Verification(models.TextChoices):
        """Whether staff must check that a record is genuine. Only a record a student created
        by claiming (no record held their ID number) starts as ``pending``; records from a
        survey import or from staff need no verification and stay ``""``."""

        NOT_NEEDED = "", _("无需核实")
        PENDING = "pending", _("学生自建，待核实")
        VERIFIED = "verified", _("学生自建，已核实")
        REJECTED = "rejected", _("学生自建，核实不属实")

    # No index of its own: the (name, birth_date) index serves every look-up by name, and one
    # more index on a random key cost the import a B-tree insert a talent (issue 19 item 5).
    name = models.CharField(_("姓名"), max_length=64)
    gender = models.CharField(_("性别"), max_length=1, choices=Gender.choices, blank=True)
    id_number = EncryptedTextField(_("身份证号"), blank=True, default="")
    # Unique through ``talent_id_index_unique`` (Meta), not ``unique=True``: on PostgreSQL
    # that would add a second, ``varchar_pattern_ops`` index on the same random key for LIKE
    # queries nobody makes, a B-tree insert an imported talent (issue 19 item 5).
    # NULL, not "", without an ID: the unique constraint lets any number of NULLs through.
    id_index = models.CharField(max_length=64, null=True, blank=True, editable=False)  # noqa: DJ001
    # Not indexed: no query selects by it (``native_evidence`` holds what it says).
    id_prefix = models.CharField(_("身份证地区码"), max_length=6, blank=True)
    birth_date = models.DateField(_("出生日期"), null=True, blank=True)
    wechat = models.CharField(_("微信号"), max_length=64, blank=True)
    email = models.EmailField(_("电子邮箱"), blank=True)
    hukou_text = models.CharField(_("户籍地"), max_length=200, blank=True)
    hukou_county_code = models.CharField(_("户籍县区代码"), max_length=6, blank=True)
    # No foreign-key constraint in the database (db_constraint=False) on the references to the
    # reference catalogue (towns, universities, majors, categories): its rows are loaded from
    # public data and never deleted (reference.services, the admin refuses deletion), and
    # Django still applies on_delete. PostgreSQL checked each imported row's references one
    # at a time, about 4 µs each: ~440,000 checks, 1.8 s of the server's CPU for the
    # 100,000-row survey (docs/SCALING.md).
    town = models.ForeignKey(
        "reference.Town",
        verbose_name=_("鹤山镇街"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        db_constraint=False,
    )
    high_school = models.CharField(_("高中"), max_length=100, blank=True)
    native_evidence = models.CharField(
        _("鹤山籍依据"),
        max_length=16,
        choices=Evidence.choices,
        default=Evidence.NONE,
    )
    status = models.CharField(
        _("当前状态"), max_length=24, choices=Status.choices, default=Status.UNKNOWN
    )
    returned_home = models.BooleanField(_("已返乡就业"), default=False, db_index=True)
    graduation_year = models.PositiveSmallIntegerField(
        _("最近毕业年份"), null=True, blank=True, db_index=True
    )
    note = models.TextField(_("备注"), blank=True)
    # Where each scalar value came from: {"field": {"source": ..., "ref": ..., "at": iso}},
    # stored with a stamp several fields share written once (``provenance.ProvenanceField``).
    provenance = ProvenanceField(_("来源"), default=dict, blank=True)
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("学生账号"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="talent",
    )
    merged_into = models.ForeignKey(
        "self",
        verbose_name=_("已合并到"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="merged",
        db_index=False,  # talent_merged_into: only the few set values are indexed
    )
    last_confirmed_at = models.DateTimeField(_("本人最近确认时间"), null=True, blank=True)
    chapter = models.ForeignKey(
        "accounts.Organisation",
        verbose_name=_("青鹤联盟分会"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="chapter_members",
        limit_choices_to={"kind": "chapter"},
        db_index=False,  # talent_chapter: only the few set values are indexed
    )
    # A record a student created by claiming: pending until staff decide (who, when, why).
    verification = models.CharField(
        _("核实状态"),
        max_length=16,
        choices=Verification.choices,
        blank=True,
        default=Verification.NOT_NEEDED,
    )
    verification_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("核实人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_index=False,  # talent_verification_by: only the few set values are indexed
    )
    verification_at = models.DateTimeField(_("核实时间"), null=True, blank=True)
    verification_reason = models.CharField(_("核实说明"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("人才")
        verbose_name_plural = _("人才")
        indexes = [
            models.Index(fields=["name", "birth_date"]),
            # The staff list's order (``selectors.talent_list``) over the active records: its
            # first page walks this index instead of sorting every match (100k talents on
            # the board bench: a 12 ms sort of 75,000 natives for 30 rows, now 0.1 ms).
            models.Index(
                models.F("graduation_year").desc(),
                "name",
                "id",
                name="talent_list_order",
                condition=models.Q(merged_into__isnull=True),
            ),
            # Looked up only by a user (SET_NULL when the user is deleted); almost every
            # talent has none, and an index of NULLs was written for each imported one.
            models.Index(
                fields=["verification_by"],
                name="talent_verification_by",
                condition=models.Q(verification_by__isnull=False),
            ),
            # Indexes declared here rather than with db_index=True: on PostgreSQL db_index on
            # a CharField adds a second, varchar_pattern_ops index for LIKE queries, which no
            # query makes on these codes, and each costs the import a B-tree insert a talent.
            models.Index(fields=["status"], name="talent_status"),
            models.Index(fields=["native_evidence"], name="talent_native_evidence"),
            # Only the records staff must check (pending, rejected, verified) are indexed:
            # the verification queue asks for those; almost every talent has "".
            models.Index(
                fields=["verification"],
                name="talent_verification",
                condition=~models.Q(verification=""),
            ),
            # Almost every talent has neither: an index of NULLs was written for each
            # imported one. Look-ups by a chapter or a merge target name a value.
            models.Index(
                fields=["merged_into"],
                name="talent_merged_into",
                condition=models.Q(merged_into__isnull=False),
            ),
            models.Index(
                fields=["chapter"],
                name="talent_chapter",
                condition=models.Q(chapter__isnull=False),
            ),
        ]
        constraints = [
            models.UniqueConstraint(fields=["id_index"], name="talent_id_index_unique"),
            # A decision has a time; an undecided record has none.
            models.CheckConstraint(
                condition=(
                    models.Q(
                        verification__in=["verified", "rejected"], verification_at__isnull=False
                    )
                    | (
                        models.Q(verification__in=["", "pending"])
                        & models.Q(verification_at__isnull=True)
                    )
                ),
                name="talent_verification_decided_at",
            ),
        ]

    def __str__(self) -> str:
        return mask_name(self.name)

    @property
    def id_masked(self) -> str:
        return mask_id_number(self.id_number)

    @property
    def name_masked(self) -> str:
        return mask_name(self.name)


class PhoneNumber(models.Model):
    """Students change numbers: every number ever seen is kept, the newest is current."""

    # Not indexed alone: phone_unique_per_talent (talent, number_index) serves look-ups by
    # talent.
    talent = models.ForeignKey(
        Talent, on_delete=models.CASCADE, related_name="phones", db_index=False
    )
    number = EncryptedTextField(_("手机号"))
    # Indexed by phone_number_index (Meta): db_index=True would add, on PostgreSQL, a second
    # (varchar_pattern_ops) index on this random key that no query uses.
    number_index = models.CharField(max_length=64)
    is_current = models.BooleanField(_("当前号码"), default=True)
    is_wrong = models.BooleanField(_("号码有误"), default=False)
    source = models.CharField(_("来源"), max_length=16, choices=Source.choices)
    source_ref = models.CharField(_("来源编号"), max_length=64, blank=True)
    first_seen = models.DateTimeField(_("首次出现"), auto_now_add=True)

    class Meta:
        verbose_name = _("手机号")
        verbose_name_plural = _("手机号")
        constraints = [
            models.UniqueConstraint(
                fields=["talent", "number_index"], name="phone_unique_per_talent"
            ),
        ]
        indexes = [models.Index(fields=["number_index"], name="phone_number_index")]

    def __str__(self) -> str:
        return self.masked

    @property
    def masked(self) -> str:
        return mask_phone(self.number)


class Education(models.Model):
    talent = models.ForeignKey(Talent, on_delete=models.CASCADE, related_name="educations")
    # The reference catalogue's keys without a database constraint: see Talent.town.
    university = models.ForeignKey(
        "reference.University",
        verbose_name=_("院校"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        db_constraint=False,
    )
    university_name = models.CharField(_("院校名称"), max_length=120)
    major = models.ForeignKey(
        "reference.Major",
        verbose_name=_("专业"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        db_constraint=False,
    )
    major_name = models.CharField(_("专业名称"), max_length=120, blank=True)
    major_category = models.ForeignKey(
        "reference.MajorCategory",
        verbose_name=_("专业类"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        db_constraint=False,
    )
    level = models.CharField(_("学历"), max_length=16, choices=Level.choices, blank=True)
    enrolment_year = models.PositiveSmallIntegerField(_("入学年份"), null=True, blank=True)
    graduation_year = models.PositiveSmallIntegerField(_("毕业年份"), null=True, blank=True)
    is_double_first_class = models.BooleanField(_("双一流"), default=False)
    source = models.CharField(_("来源"), max_length=16, choices=Source.choices)
    source_ref = models.CharField(_("来源编号"), max_length=64, blank=True)
    created_at = models.DateTimeField(_("记录时间"), auto_now_add=True)
    # A row the student entered (source ``student``) stands until staff check it: who and when.
    verified_at = models.DateTimeField(_("核实时间"), null=True, blank=True)
    verified_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("核实人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_index=False,  # education_verified_by: only the few set values are indexed
    )

    class Meta:
        verbose_name = _("教育经历")
        verbose_name_plural = _("教育经历")
        ordering = ["-graduation_year", "-id"]
        indexes = [
            models.Index(
                fields=["verified_by"],
                name="education_verified_by",
                condition=models.Q(verified_by__isnull=False),
            ),
            # the staff list's 毕业年份 filter reads a cohort's talents from here
            # (talents/selectors.py, talent_list)
            models.Index(fields=["graduation_year", "talent"], name="education_year_talent"),
        ]

    def __str__(self) -> str:
        return f"{self.university_name} {self.major_name}"


class Destination(models.Model):
    class Kind(models.TextChoices):
        EMPLOYED = "employed", _("就业")
        FURTHER_STUDY = "further_study", _("升学")
        ABROAD = "abroad", _("出国")
        SEEKING = "seeking", _("待就业")
        NOT_WILLING = "not_willing", _("暂无意愿")

    class Area(models.TextChoices):
        HESHAN = "heshan", _("鹤山")
        JIANGMEN = "jiangmen", _("江门（鹤山以外）")
        ELSEWHERE = "elsewhere", _("外地")
        UNKNOWN = "", _("未知")

    talent = models.ForeignKey(Talent, on_delete=models.CASCADE, related_name="destinations")
    kind = models.CharField(_("去向"), max_length=16, choices=Kind.choices)
    employer = models.CharField(_("单位"), max_length=200, blank=True)
    employer_uscc = models.CharField(_("统一社会信用代码"), max_length=18, blank=True)
    region_text = models.CharField(_("地区"), max_length=120, blank=True)
    area = models.CharField(_("区域"), max_length=16, choices=Area.choices, blank=True)
    industry = models.ForeignKey(
        "reference.Industry",
        verbose_name=_("行业"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        db_index=False,  # destination_industry: only the set values are indexed
    )
    occupation = models.ForeignKey(
        "reference.Occupation",
        verbose_name=_("职业"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        db_index=False,  # destination_occupation: only the set values are indexed
    )
    start_date = models.DateField(_("开始日期"), null=True, blank=True)
    year = models.PositiveSmallIntegerField(_("年份"), null=True, blank=True)
    source = models.CharField(_("来源"), max_length=16, choices=Source.choices)
    source_ref = models.CharField(_("来源编号"), max_length=64, blank=True)
    created_at = models.DateTimeField(_("记录时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("毕业去向")
        verbose_name_plural = _("毕业去向")
        ordering = ["-year", "-created_at", "-id"]
        # The survey sets neither: an index of NULLs was written for each imported row.
        indexes = [
            models.Index(
                fields=["industry"],
                name="destination_industry",
                condition=models.Q(industry__isnull=False),
            ),
            models.Index(
                fields=["occupation"],
                name="destination_occupation",
                condition=models.Q(occupation__isnull=False),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.employer}"


class ValueChange(models.Model):
    """A value a source gave that is not (or no longer) the current one.

    ``state`` is ``replaced`` when a newer value from a source allowed to replace it took over,
    ``conflict`` when two sources disagree and staff must choose, ``resolved`` afterwards."""

    class State(models.TextChoices):
        REPLACED = "replaced", _("已被新值替代")
        CONFLICT = "conflict", _("待核实（来源不一致）")
        RESOLVED = "resolved", _("已核实")

    talent = models.ForeignKey(Talent, on_delete=models.CASCADE, related_name="value_changes")
    field = models.CharField(_("字段"), max_length=32)
    old_value = EncryptedTextField(_("原值"), blank=True, default="")
    new_value = EncryptedTextField(_("新值"), blank=True, default="")
    old_source = models.JSONField(_("原值来源"), default=dict)
    new_source = models.JSONField(_("新值来源"), default=dict)
    state = models.CharField(_("状态"), max_length=16, choices=State.choices, db_index=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    resolved_value = models.CharField(_("采用"), max_length=8, blank=True)  # "old" | "new"
    created_at = models.DateTimeField(_("时间"), auto_now_add=True)
    resolved_at = models.DateTimeField(_("核实时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("取值变更")
        verbose_name_plural = _("取值变更")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.field} {self.state}"


class ImportBatch(TimeStampedModel):
    class State(models.TextChoices):
        QUEUED = "queued", _("排队中")
        RUNNING = "running", _("导入中")
        DONE = "done", _("已完成")
        FAILED = "failed", _("失败")

    source_name = models.CharField(_("来源"), max_length=120)
    file_name = models.CharField(_("文件名"), max_length=255)
    file_sha256 = models.CharField(_("文件摘要"), max_length=64, db_index=True)
    stored_path = models.CharField(_("存储位置"), max_length=500, blank=True)
    state = models.CharField(_("状态"), max_length=16, choices=State.choices, default=State.QUEUED)
    total_rows = models.PositiveIntegerField(_("总行数"), default=0)
    rows_done = models.PositiveIntegerField(_("已处理行数"), default=0)
    created = models.PositiveIntegerField(_("新建"), default=0)
    updated = models.PositiveIntegerField(_("更新"), default=0)
    unchanged = models.PositiveIntegerField(_("未变"), default=0)
    rejected = models.PositiveIntegerField(_("拒绝"), default=0)
    held = models.PositiveIntegerField(_("暂缓"), default=0)
    # Imported rows whose phone or year was wrong: imported without it, flagged for follow-up.
    flagged = models.PositiveIntegerField(_("待跟进"), default=0)
    extra_columns = models.JSONField(_("未识别的列"), default=list, blank=True)
    header_map = models.JSONField(_("列映射"), default=dict, blank=True)
    error = models.TextField(_("错误"), blank=True)
    rejected_file = models.CharField(_("拒绝行文件"), max_length=500, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    finished_at = models.DateTimeField(_("完成时间"), null=True, blank=True)
    # Set by purge_import_files when the retention period removed the stored files.
    upload_purged_at = models.DateTimeField(_("上传文件删除时间"), null=True, blank=True)
    rejected_purged_at = models.DateTimeField(_("拒绝行文件删除时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("导入批次")
        verbose_name_plural = _("导入批次")
        ordering = ["-created_at", "-id"]

    @property
    def summary_line(self) -> str:
        return (
            f"rows={self.total_rows} created={self.created} updated={self.updated} "
            f"unchanged={self.unchanged} rejected={self.rejected}"
            + (f" held={self.held}" if self.held else "")
            + (f" flagged={self.flagged}" if self.flagged else "")
        )

    @property
    def reconciliation(self) -> str:
        """The same reconciliation in words staff read (the import page)."""
        parts = [
            f"新建 {self.created:,}",
            f"更新 {self.updated:,}",
            f"未变 {self.unchanged:,}",
            f"拒绝 {self.rejected:,}",
        ]
        if self.held:
            parts.append(f"暂缓合并 {self.held:,}")
        text = f"共 {self.total_rows:,} 行 = " + " + ".join(parts)
        if self.flagged:
            text += f"；其中待跟进 {self.flagged:,} 行"
        return text

    @property
    def percent(self) -> int:
        if not self.total_rows:
            return 0 if self.state != self.State.DONE else 100
        return int(self.rows_done * 100 / self.total_rows)


class ImportRow(models.Model):
    """The outcome of one row of a batch. Written in the same transaction as the row's effect,
    so a crash leaves either both or neither, and a rerun skips rows already done."""

    class Outcome(models.TextChoices):
        CREATED = "created", _("新建")
        UPDATED = "updated", _("更新")
        UNCHANGED = "unchanged", _("未变")
        REJECTED = "rejected", _("拒绝")
        # The row's ID matched a record a student created that staff have not verified: the
        # survey is not merged into it (its data would reach whoever claimed the ID); the row
        # waits for staff, or for the real owner's claim (qinghe/talents/claims.py).
        HELD = "held", _("暂缓：档案待核实，未合并")

    # Not indexed alone: import_row_unique (batch, row_number) serves look-ups by batch. No
    # constraint in the database either: rows are written only by their batch's own chunks,
    # in the transaction that updates (and so locks) the batch row, and deleted with it by
    # Django (CASCADE); PostgreSQL checked the same batch row 100,000 times an import.
    batch = models.ForeignKey(
        ImportBatch,
        on_delete=models.CASCADE,
        related_name="rows",
        db_index=False,
        db_constraint=False,
    )
    row_number = models.PositiveIntegerField(_("行号"))
    outcome = models.CharField(_("结果"), max_length=16, choices=Outcome.choices)
    talent = models.ForeignKey(
        Talent, null=True, blank=True, on_delete=models.SET_NULL, related_name="import_rows"
    )
    reason = models.CharField(_("原因"), max_length=500, blank=True)
    raw = EncryptedTextField(_("原始数据"), blank=True, default="")
    # The row was imported but a secondary field (phone, year) was wrong and left empty;
    # ``reason`` says which. Shown on the talent page until the record is corrected.
    flagged = models.BooleanField(_("待跟进"), default=False)
    # A held row: the unverified record it matched. Not ``talent``, so nothing that lists a
    # talent's import rows (the student's own data) sees it.
    held_for = models.ForeignKey(
        Talent,
        verbose_name=_("暂缓合并到"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="held_import_rows",
        db_index=False,  # import_row_held_for: only the few held rows are indexed
    )

    class Meta:
        verbose_name = _("导入行")
        verbose_name_plural = _("导入行")
        constraints = [
            models.UniqueConstraint(fields=["batch", "row_number"], name="import_row_unique"),
        ]
        indexes = [
            models.Index(
                fields=["held_for"],
                name="import_row_held_for",
                condition=models.Q(held_for__isnull=False),
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.batch_id}:{self.row_number} {self.outcome}"


class TalentClaim(TimeStampedModel):
    """A student's claim of a record the city already holds. Knowing an ID number and a name
    proves nothing (both are on survey sheets): the claim links the account only when the
    student enters a code sent to a phone on file for the record (``sms``), or when staff
    verify it (``staff``). Until then it shows the student nothing from the record."""

    class State(models.TextChoices):
        AWAITING_CODE = "awaiting_code", _("待短信验证")
        AWAITING_STAFF = "awaiting_staff", _("待工作人员核实")
        APPROVED = "approved", _("已确认为本人")
        REJECTED = "rejected", _("不予认领")
        CANCELLED = "cancelled", _("已取消")

    OPEN_STATES = (State.AWAITING_CODE, State.AWAITING_STAFF)

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="talent_claims"
    )
    talent = models.ForeignKey(Talent, on_delete=models.CASCADE, related_name="claims")
    name = models.CharField(_("填写的姓名"), max_length=64)
    state = models.CharField(_("状态"), max_length=16, choices=State.choices, db_index=True)
    # The blind index of the phone on file the code was sent to.
    phone_index = models.CharField(max_length=64, blank=True, editable=False)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField(_("处理时间"), null=True, blank=True)
    reason = models.CharField(_("说明"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("档案认领申请")
        verbose_name_plural = _("档案认领申请")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"认领 #{self.pk} {self.state}"


class Consent(models.Model):
    """One row per decision; the newest row per (talent, purpose, enterprise) is in force.

    Sharing with an enterprise needs its own consent per enterprise (PIPL Art. 23)."""

    class Purpose(models.TextChoices):
        LIAISON = "liaison", _("接受服务专员联络")
        MATCHING = "matching", _("岗位匹配与推荐")
        SHARE_ENTERPRISE = "share_enterprise", _("向企业提供个人信息")

    talent = models.ForeignKey(Talent, on_delete=models.CASCADE, related_name="consents")
    purpose = models.CharField(_("用途"), max_length=24, choices=Purpose.choices)
    enterprise = models.ForeignKey(
        "accounts.Organisation",
        verbose_name=_("企业"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
    )
    granted = models.BooleanField(_("同意"))
    notice_version = models.CharField(_("告知书版本"), max_length=16)
    recorded_at = models.DateTimeField(_("时间"), auto_now_add=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = _("授权同意")
        verbose_name_plural = _("授权同意")
        ordering = ["-recorded_at", "-id"]

    def __str__(self) -> str:
        return f"{self.purpose} {self.granted}"


class Segment(TimeStampedModel):
    """A saved search: its filters are re-run each time, so the members stay current."""

    name = models.CharField(_("名称"), max_length=100)
    filters = models.JSONField(_("筛选条件"), default=dict)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="segments"
    )

    class Meta:
        verbose_name = _("人群分组")
        verbose_name_plural = _("人群分组")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Resume(models.Model):
    """A student's PDF résumé. The file is stored encrypted at rest (talents/resume.py); an
    enterprise opens it only through an application to it or an invitation the student
    accepted, and every such opening is audited."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="resume"
    )
    storage_name = models.CharField(_("存储名"), max_length=200, editable=False)
    original_name = models.CharField(_("文件名"), max_length=200)
    size = models.PositiveIntegerField(_("大小（字节）"))
    pages = models.PositiveSmallIntegerField(_("页数"))
    sha256 = models.CharField(max_length=64, editable=False)
    uploaded_at = models.DateTimeField(_("上传时间"))

    class Meta:
        verbose_name = _("简历")
        verbose_name_plural = _("简历")

    def __str__(self) -> str:
        return f"简历 #{self.user_id}"
