from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "cdss.audit"
    label = "audit"
