from django.apps import AppConfig


class SequencesConfig(AppConfig):
    name = "cdss.sequences"
    label = "sequences"
