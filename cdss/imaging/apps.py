from django.apps import AppConfig


class ImagingConfig(AppConfig):
    name = "cdss.imaging"
    label = "imaging"
    verbose_name = "CT analyses"

    def ready(self) -> None:
        from cdss.imaging.kinds import KINDS
        from cdss.jobs.kinds import register_kinds

        register_kinds(*KINDS)
