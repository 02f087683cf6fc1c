from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "qinghe.notifications"
    verbose_name = "消息通知"

    def ready(self) -> None:
        from . import signals

        signals.connect()
