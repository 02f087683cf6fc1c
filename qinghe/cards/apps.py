from django.apps import AppConfig


class CardsConfig(AppConfig):
    name = "qinghe.cards"
    label = "cards"
    verbose_name = "鹤才青年卡"
