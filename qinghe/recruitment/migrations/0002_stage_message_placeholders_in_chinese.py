"""Stage messages name their placeholders in Chinese (【岗位名称】, 【企业名称】) where an
enterprise's HR reads and edits them; the stored templates, the defaults of jobs/0002 and an
enterprise's own, are rewritten. Reversible."""

from django.db import migrations

FORWARD = {"{posting}": "【岗位名称】", "{enterprise}": "【企业名称】"}


def _rewrite(apps, mapping):
    PipelineStage = apps.get_model("recruitment", "PipelineStage")
    for stage in PipelineStage.objects.exclude(message_template=""):
        template = stage.message_template
        for old, new in mapping.items():
            template = template.replace(old, new)
        if template != stage.message_template:
            stage.message_template = template
            stage.save(update_fields=["message_template"])


def forward(apps, schema_editor):
    _rewrite(apps, FORWARD)


def backward(apps, schema_editor):
    _rewrite(apps, {new: old for old, new in FORWARD.items()})


class Migration(migrations.Migration):
    dependencies = [
        ("recruitment", "0001_initial"),
        ("jobs", "0002_default_pipeline_stages"),
    ]

    operations = [migrations.RunPython(forward, backward)]
