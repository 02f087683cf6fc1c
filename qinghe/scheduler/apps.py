from django.apps import AppConfig


class SchedulerConfig(AppConfig):
    name = "qinghe.scheduler"
    verbose_name = "定时任务"

    def ready(self) -> None:
        from . import checks  # noqa: F401 - registers the schedule's system check
