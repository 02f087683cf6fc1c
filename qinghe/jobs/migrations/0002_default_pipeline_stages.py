"""The platform's default pipeline stages (enterprise = NULL). Enterprises may add their own."""

from django.db import migrations

DEFAULT_STAGES = [
    # code, name, kind, position, terminal, hire, notify, message
    ("applied", "已投递", "applied", 10, False, False, True, "你已成功投递“{posting}”，企业将尽快查看。"),
    ("screening", "筛选", "screening", 20, False, False, False, ""),
    ("interview", "面试", "interview", 30, False, False, True, "“{posting}”邀请你参加面试，请留意面试安排。"),
    ("offer", "录用", "offer", 40, False, True, True, "恭喜！你已被“{enterprise}”录用（{posting}）。"),
    ("onboarded", "入职", "onboarded", 50, True, False, False, ""),
    ("rejected", "未通过", "rejected", 90, True, False, True, "感谢你投递“{posting}”，很遗憾这次未能通过。"),
    ("withdrawn", "撤回", "withdrawn", 95, True, False, False, ""),
]


def create_stages(apps, schema_editor):
    PipelineStage = apps.get_model("jobs", "PipelineStage")
    for code, name, kind, position, terminal, hire, notify, message in DEFAULT_STAGES:
        PipelineStage.objects.update_or_create(
            enterprise=None,
            code=code,
            defaults={
                "name": name,
                "kind": kind,
                "position": position,
                "is_terminal": terminal,
                "counts_as_hire": hire,
                "notify_student": notify,
                "message_template": message,
            },
        )


def remove_stages(apps, schema_editor):
    PipelineStage = apps.get_model("jobs", "PipelineStage")
    PipelineStage.objects.filter(enterprise=None, code__in=[s[0] for s in DEFAULT_STAGES]).delete()


class Migration(migrations.Migration):
    dependencies = [("jobs", "0001_initial")]

    operations = [migrations.RunPython(create_stages, remove_stages)]
