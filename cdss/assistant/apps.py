from django.apps import AppConfig


class AssistantConfig(AppConfig):
    name = "cdss.assistant"
    label = "assistant"
    verbose_name = "Assistant (chat and retrieval)"

    def ready(self) -> None:
        from cdss.assistant.kinds import KINDS
        from cdss.jobs.kinds import register_kinds

        register_kinds(*KINDS)
