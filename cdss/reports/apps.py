from django.apps import AppConfig


class ReportsConfig(AppConfig):
    name = "cdss.reports"
    label = "reports"
    verbose_name = "Reports and interpretations"

    def ready(self) -> None:
        from cdss.jobs.kinds import register_kinds
        from cdss.jobs.services import analysis_completion_listener_add
        from cdss.reports.kinds import KINDS
        from cdss.reports.services import analysis_chain_after_completion

        register_kinds(*KINDS)
        analysis_completion_listener_add(analysis_chain_after_completion)
