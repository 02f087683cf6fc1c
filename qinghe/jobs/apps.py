from django.apps import AppConfig


class JobsConfig(AppConfig):
    name = "qinghe.jobs"
    label = "jobs"
    verbose_name = "岗位"

    def ready(self) -> None:
        from . import signals

        signals.connect()
