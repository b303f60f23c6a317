from django.apps import AppConfig


class WebConfig(AppConfig):
    name = "cdss.web"
    label = "web"
    verbose_name = "Web app"
