from django.apps import AppConfig


class FilesConfig(AppConfig):
    name = "cdss.files"
    label = "files"
    verbose_name = "Patient files"
