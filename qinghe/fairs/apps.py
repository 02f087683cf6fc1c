from django.apps import AppConfig


class FairsConfig(AppConfig):
    name = "qinghe.fairs"
    verbose_name = "云招聘会"
