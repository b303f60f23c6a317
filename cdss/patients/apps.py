from django.apps import AppConfig


class PatientsConfig(AppConfig):
    name = "cdss.patients"
    label = "patients"
