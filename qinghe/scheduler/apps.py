from django.apps import AppConfig


class SchedulerConfig(AppConfig):
    name = "qinghe.scheduler"
    verbose_name = "定时任务"

    def ready(self) -> None:
        from django_tasks_db.compat import task_started

        from . import checks  # noqa: F401 - registers the schedule's system check
        from .reaper import on_task_started

        # the task worker's heartbeat (qinghe.scheduler.reaper)
        task_started.connect(on_task_started, dispatch_uid="qinghe-task-heartbeat")
