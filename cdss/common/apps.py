from django.apps import AppConfig


class CommonConfig(AppConfig):
    name = "cdss.common"
    label = "common"

    def ready(self) -> None:
        from django.urls import register_converter

        from cdss.common.converters import IdConverter

        # Before any URLconf is imported, which happens on the first request.
        register_converter(IdConverter, "id")
