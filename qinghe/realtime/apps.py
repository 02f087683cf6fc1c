from django.apps import AppConfig


class RealtimeConfig(AppConfig):
    name = "qinghe.realtime"
    verbose_name = "实时通道"

    def ready(self) -> None:
        # Every process that may publish (web workers, task workers, the scheduler) must know
        # which groups are broadcast rooms: the consumers register them when imported.
        from . import routing  # noqa: F401
