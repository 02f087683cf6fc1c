"""The WeChat openid becomes personal data at rest: encrypted (AES-GCM, core.crypto) with a
blind index for look-up and uniqueness. Existing plain-text rows are encrypted in place."""

from django.db import migrations, models

import qinghe.core.crypto


def encrypt_existing(apps, schema_editor):
    from qinghe.core.crypto import encrypt
    from qinghe.notifications.models import openid_index

    Binding = apps.get_model("notifications", "WechatBinding")
    for pk, openid in Binding.objects.values_list("pk", "openid"):
        if openid and not openid.startswith("v1:"):
            Binding.objects.filter(pk=pk).update(
                openid=encrypt(openid), openid_index=openid_index(openid)
            )


class Migration(migrations.Migration):
    dependencies = [
        ("notifications", "0003_delivery_ledger"),
    ]

    operations = [
        migrations.AlterField(
            model_name="wechatbinding",
            name="openid",
            field=models.TextField(verbose_name="OpenID"),
        ),
        migrations.AddField(
            model_name="wechatbinding",
            name="openid_index",
            field=models.CharField(editable=False, max_length=64, null=True),
        ),
        migrations.RunPython(encrypt_existing, migrations.RunPython.noop, elidable=True),
        migrations.AlterField(
            model_name="wechatbinding",
            name="openid",
            field=qinghe.core.crypto.EncryptedTextField(verbose_name="OpenID"),
        ),
        migrations.AlterField(
            model_name="wechatbinding",
            name="openid_index",
            field=models.CharField(editable=False, max_length=64, unique=True),
        ),
        migrations.AlterField(
            model_name="wechatbinding",
            name="bound_at",
            field=models.DateTimeField(auto_now_add=True, verbose_name="绑定时间"),
        ),
        migrations.AlterModelOptions(
            name="wechatbinding",
            options={"verbose_name": "微信绑定", "verbose_name_plural": "微信绑定"},
        ),
    ]
