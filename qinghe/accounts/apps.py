from django.apps import AppConfig
from django.core import checks


class AccountsConfig(AppConfig):
    name = "qinghe.accounts"
    label = "accounts"
    verbose_name = "账号与机构"

    def ready(self) -> None:
        from . import signals  # noqa: F401
        from .checks import check_sms_sender

        checks.register(check_sms_sender, checks.Tags.security, deploy=True)
