"""THE schedule: every periodic job of the platform, one line each.

``manage.py run_scheduler`` (started by ``make run`` and by the production unit
``deploy/systemd/qinghe-scheduler.service``) runs each job once per period, on one worker at a
time, and records every run (系统 → 定时任务). Cadences are cron expressions in Asia/Shanghai
time: minute hour day-of-month month day-of-week. To add a job, add a line:

    Job("name", "cron", "中文说明", "dotted.path.to.service", summary="… {0} …"),

The service is called with no arguments in the scheduler's own process; it must be idempotent
(a run whose worker died is run again when its lease runs out), and it should return a count or
a result with its figures for the run record."""

from __future__ import annotations

from .jobs import Job

SCHEDULE: tuple[Job, ...] = (
    Job("send_interview_reminders", "*/15 * * * *", "提醒 24 小时内有面试的学生（每场一次）", "qinghe.recruitment.services.interviews.interview_reminders_send", summary="发出面试提醒 {0} 条"),
    Job("send_event_reminders", "0 * * * *", "提醒 24 小时内开始的活动的已确认报名者（每人一次）", "qinghe.events.services.event_reminders_send", summary="发出活动提醒 {0} 条"),
    Job("expire_postings", "5 0 * * *", "把已过截止日期的已发布岗位标记为已过期", "qinghe.jobs.services.postings_expire", summary="过期岗位 {0} 个"),
    Job("suspend_unreported_cards", "10 0 * * *", "暂停工作单位变更超过 10 天未报告的鹤才青年卡", "qinghe.cards.services.cards_suspend_unreported", summary="暂停 {0} 张"),
    Job("expire_cards", "15 0 * * *", "把已过有效期的鹤才青年卡标记为已过期", "qinghe.cards.services.cards_expire", summary="到期 {0} 张"),
    Job("recompute_recommendations", "30 2 * * *", "全量重算为你推荐与推荐人才", "qinghe.matching.services.recompute.recommendations_recompute_all", summary="学生 {0.talents} 人，岗位 {0.postings} 个，推荐 {0.recommendations} 条，推荐人才 {0.candidates} 条，用时 {0.seconds:.1f} 秒"),
    Job("purge_import_files", "30 3 * * *", "删除超过保留期的导入上传文件与拒绝行文件", "qinghe.talents.importing.purge.import_files_purge", summary="上传文件 {0.uploads} 个，拒绝行文件 {0.rejected} 个，孤立文件 {0.orphans} 个"),
    Job("purge_card_materials", "40 3 * * *", "删除决定后超过保留期的鹤才青年卡与家属卡申请材料（劳动合同、盖章申请表、学历证书等）", "qinghe.cards.purge.card_materials_purge", summary="主卡材料 {0.materials} 份，家属卡材料 {0.dependant_materials} 份，涉及 {0.cards} 张卡"),
    Job("purge_video_recordings", "50 3 * * *", "删除超过保留期的视频面试录像（双方同意后录制，加密保存）", "qinghe.video.purge.recordings_purge", summary="删除录像 {0.recordings} 个，文件 {0.files} 个"),
    Job("purge_exports", "20 * * * *", "删除过期的导出文件，中断的导出标记为失败", "qinghe.exports.services.exports_purge", summary="过期文件 {0.files} 个，中断的导出 {0.lost} 个，孤立文件 {0.orphans} 个"),
    Job("send_job_digest", "0 9 * * 1", "每周一发送个性化岗位周报（同一周重复执行不再发送）", "qinghe.outreach.digest.job_digest_queue", summary="周报 {0} 份"),
    Job("end_ambassador_terms", "10 0 * * *", "结束已届满的高校引才大使任期，恢复学子身份", "qinghe.alliance.ambassadors.terms_end", summary="届满大使 {0} 人"),
    Job("purge_subsidy_materials", "40 3 * * *", "删除未获批（驳回或撤回）超过保留期的补贴申请材料", "qinghe.policies.services.materials_purge", summary="删除材料 {0.files} 个，涉及申请 {0.applications} 件"),
    Job("record_plan_snapshots", "5 0 1 * *", "记录上月末十个一看板各项指标的数值（每月一次，已记录的不再重复）", "qinghe.plan.services.snapshots_record", summary="记录指标 {0} 项"),
    Job("monthly_plan_report", "30 6 1 * *", "生成上月“青鹤归巢”月度报告（PDF 与 Excel）归档并通知领导（已生成的月份不再重复）", "qinghe.plan.services.monthly_report_scheduled", summary="生成报告 {0} 份"),
    Job("purge_audit", "0 4 1 * *", "删除超过保留期（至少 183 天）的审计日志", "qinghe.core.audit.audit_purge_expired", summary="删除审计记录 {0} 条"),
    Job("reap_interrupted_tasks", "*/2 * * * *", "找出执行进程已停止却仍显示“执行中”的后台任务：标记失败，可安全重做的重新排队一次", "qinghe.scheduler.reaper.interrupted_tasks_reap", summary="中断的后台任务 {0.interrupted} 个：重新排队 {0.requeued} 个，标记失败 {0.failed} 个"),
)  # fmt: skip


def job_by_name(name: str) -> Job | None:
    return next((job for job in SCHEDULE if job.name == name), None)
