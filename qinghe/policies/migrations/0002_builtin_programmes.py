"""The two Guangdong programmes (一次性创业资助, 创业带动就业补贴) and their policies, as data."""

from typing import Any

from django.db import migrations


def forwards(apps: Any, schema_editor: Any) -> None:
    from qinghe.policies.builtin import seed

    seed(apps)


class Migration(migrations.Migration):
    dependencies = [("policies", "0001_initial")]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
