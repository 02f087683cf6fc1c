from django.apps import AppConfig


class RecruitmentConfig(AppConfig):
    name = "qinghe.recruitment"
    label = "recruitment"
    verbose_name = "投递与面试"
