from django.apps import AppConfig


class TalentsConfig(AppConfig):
    name = "qinghe.talents"
    label = "talents"
    verbose_name = "人才数据库"

    def ready(self) -> None:
        from . import signals

        signals.connect()
