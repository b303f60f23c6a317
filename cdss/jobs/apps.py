from __future__ import annotations

import importlib

from django.apps import AppConfig
from django.conf import settings


class JobsConfig(AppConfig):
    name = "cdss.jobs"
    label = "jobs"
    verbose_name = "Analysis jobs"

    def ready(self) -> None:
        from cdss.jobs import pipeline_check

        pipeline_check.register()
        # Extra kinds named by the settings (plug-ins, and the test kinds in worker processes).
        for module in settings.CDSS_JOBS_KIND_MODULES:
            importlib.import_module(module)
