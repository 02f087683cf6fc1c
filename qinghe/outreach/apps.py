from django.apps import AppConfig


class OutreachConfig(AppConfig):
    name = "qinghe.outreach"
    verbose_name = "联络服务"
