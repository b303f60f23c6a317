from django.apps import AppConfig


class SequencesConfig(AppConfig):
    name = "cdss.sequences"
    label = "sequences"

    def ready(self) -> None:
        from cdss.jobs.kinds import register_kinds
        from cdss.sequences.kinds import KINDS

        register_kinds(*KINDS)
