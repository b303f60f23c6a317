from django.apps import AppConfig


class InteropConfig(AppConfig):
    name = "cdss.interop"
    label = "interop"
    verbose_name = "FHIR and CDS Hooks"
