from django.apps import AppConfig


class WorkbenchConfig(AppConfig):
    name = "qinghe.workbench"
    label = "workbench"
    verbose_name = "工作台"
