from django.apps import AppConfig


class EnterprisesConfig(AppConfig):
    name = "qinghe.enterprises"
    label = "enterprises"
    verbose_name = "企业"
