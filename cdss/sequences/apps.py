from django.apps import AppConfig


class SequencesConfig(AppConfig):
    name = "cdss.sequences"
    label = "sequences"

    def ready(self) -> None:
        from cdss.jobs.kinds import register_kind
        from cdss.sequences.kinds import SEQUENCE_BATCH, SEQUENCE_RETRAIN

        register_kind(SEQUENCE_BATCH)
        register_kind(SEQUENCE_RETRAIN)
