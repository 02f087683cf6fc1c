from django.apps import AppConfig


class VideoConfig(AppConfig):
    name = "qinghe.video"
    verbose_name = "视频面试"
