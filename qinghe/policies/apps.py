from django.apps import AppConfig


class PoliciesConfig(AppConfig):
    name = "qinghe.policies"
    label = "policies"
    verbose_name = "政策与补贴"
