from django.apps import AppConfig


class LiveConfig(AppConfig):
    name = "qinghe.live"
    verbose_name = "直播带岗"
