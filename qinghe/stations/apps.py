from django.apps import AppConfig


class StationsConfig(AppConfig):
    name = "qinghe.stations"
    label = "stations"
    verbose_name = "人才驿站"
