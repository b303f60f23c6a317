from __future__ import annotations

import importlib

from django.apps import AppConfig
from django.conf import settings


class JobsConfig(AppConfig):
    name = "cdss.jobs"
    label = "jobs"
    verbose_name = "Analysis jobs"

    def ready(self) -> None:
        from cdss.jobs.kinds import register_kinds
        from cdss.jobs.pipeline_check import KINDS

        register_kinds(*KINDS)
        # Kinds of modules named by the settings (plug-ins, and the test kinds in worker
        # processes): each module declares its KINDS, registered here like an app's own.
        for module in settings.CDSS_JOBS_KIND_MODULES:
            register_kinds(*importlib.import_module(module).KINDS)
