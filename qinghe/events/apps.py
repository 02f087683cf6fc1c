from django.apps import AppConfig


class EventsConfig(AppConfig):
    name = "qinghe.events"
    label = "events"
    verbose_name = "活动"
