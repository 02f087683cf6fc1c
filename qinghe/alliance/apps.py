from django.apps import AppConfig


class AllianceConfig(AppConfig):
    name = "qinghe.alliance"
    label = "alliance"
    verbose_name = "青鹤联盟"

    def ready(self) -> None:
        from . import signals

        signals.connect()
