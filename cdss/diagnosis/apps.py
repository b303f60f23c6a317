from django.apps import AppConfig


class DiagnosisConfig(AppConfig):
    name = "cdss.diagnosis"
    label = "diagnosis"
    verbose_name = "Seed-compatible diagnosis requests"
