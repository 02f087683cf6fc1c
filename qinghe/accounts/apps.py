from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "qinghe.accounts"
    label = "accounts"
    verbose_name = "账号与机构"

    def ready(self) -> None:
        from . import signals  # noqa: F401
