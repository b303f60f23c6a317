from django.apps import AppConfig


class CommonConfig(AppConfig):
    name = "cdss.common"
    label = "common"
