from django.apps import AppConfig


class TalentsConfig(AppConfig):
    name = "qinghe.talents"
    label = "talents"
    verbose_name = "人才数据库"
