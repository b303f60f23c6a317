from django.apps import AppConfig


class MlConfig(AppConfig):
    name = "cdss.ml"
    label = "ml"
