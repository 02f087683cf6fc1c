from django.apps import AppConfig


class RealtimeConfig(AppConfig):
    name = "qinghe.realtime"
    verbose_name = "实时通道"
