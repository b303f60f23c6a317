from django.apps import AppConfig


class OmicsConfig(AppConfig):
    name = "cdss.omics"
    label = "omics"
    verbose_name = "Multi-omics analyses"

    def ready(self) -> None:
        from cdss.jobs.kinds import register_kinds
        from cdss.omics.kinds import KINDS

        register_kinds(*KINDS)
