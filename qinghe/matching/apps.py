from django.apps import AppConfig


class MatchingConfig(AppConfig):
    name = "qinghe.matching"
    label = "matching"
    verbose_name = "岗位匹配与人才分析"
