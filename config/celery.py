"""The Celery application: ``celery -A config worker`` and ``celery -A config beat``.

Every setting comes from Django's settings (the ``CELERY_`` and ``CDSS_JOBS_`` names in
``config/settings/base.py``); tasks live in ``cdss.jobs.tasks``. The queues and the sweeper's
schedule are declared here because they are built from those settings.
"""

from __future__ import annotations

import os

from celery import Celery
from django.conf import settings
from kombu import Queue

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")

app = Celery("cdss")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.conf.task_default_queue = settings.CDSS_JOBS_QUEUE
# Analyses and the sweeper: the sweeper's queue of its own lets it run while analyses are queued.
app.conf.task_queues = (Queue(settings.CDSS_JOBS_QUEUE), Queue(settings.CDSS_JOBS_CONTROL_QUEUE))
app.conf.task_routes = {"jobs.analysis_sweep": {"queue": settings.CDSS_JOBS_CONTROL_QUEUE}}
app.conf.beat_schedule = {
    "analysis-sweep": {
        "task": "jobs.analysis_sweep",
        "schedule": settings.CDSS_JOBS_SWEEP_SECONDS,
        # A sweep that waited longer than one interval is superseded by the next one.
        "options": {"expires": settings.CDSS_JOBS_SWEEP_SECONDS},
    }
}
app.autodiscover_tasks(["cdss.jobs"])
