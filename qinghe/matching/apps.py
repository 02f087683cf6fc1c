from typing import Any

from django.apps import AppConfig
from django.core import checks


class MatchingConfig(AppConfig):
    name = "qinghe.matching"
    label = "matching"
    verbose_name = "岗位匹配与人才分析"

    def ready(self) -> None:
        checks.register(check_weights, checks.Tags.compatibility)


def check_weights(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    """MATCHING_WEIGHTS (QINGHE_MATCHING_WEIGHTS) names known criteria with usable numbers."""
    from django.conf import settings

    from .services.weights import weights_problems

    return [
        checks.Error(problem, hint="见 qinghe/matching/README.md 的“评分”一节", id="matching.E001")
        for problem in weights_problems(getattr(settings, "MATCHING_WEIGHTS", None))
    ]
