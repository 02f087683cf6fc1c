from django.apps import AppConfig


class PlanConfig(AppConfig):
    name = "qinghe.plan"
    label = "plan"
    verbose_name = "“青鹤归巢”年度目标"
