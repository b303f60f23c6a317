"""The Celery application: ``celery -A config worker`` and ``celery -A config beat``.

Every setting comes from Django's settings (the ``CELERY_`` and ``CDSS_JOBS_`` names in
``config/settings/base.py``); tasks live in ``cdss.jobs.tasks``. The queues and the sweeper's
schedule are declared here because they are built from those settings.

Every queue an analysis can be sent to is declared here (CDSS_JOBS_QUEUE, and one per name in
CDSS_JOBS_KIND_QUEUES; a kind naming any other is refused when it registers), so a worker started
without ``-Q``, such as the Procfile's, consumes them all. Each run is sent to its kind's queue
(``cdss.jobs.services``), not routed here: the kinds are known only once Django's apps are ready.
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
app.conf.task_queues = (
    Queue(settings.CDSS_JOBS_QUEUE),
    Queue(settings.CDSS_JOBS_CONTROL_QUEUE),
    *(Queue(f"{settings.CDSS_JOBS_QUEUE}.{name}") for name in settings.CDSS_JOBS_KIND_QUEUES),
)
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
