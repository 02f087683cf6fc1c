from django.apps import AppConfig


class ReferenceConfig(AppConfig):
    name = "qinghe.reference"
    label = "reference"
    verbose_name = "参考数据"
