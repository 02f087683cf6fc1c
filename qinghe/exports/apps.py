from django.apps import AppConfig


class ExportsConfig(AppConfig):
    name = "qinghe.exports"
    verbose_name = "导出文件"
