"""Celery tasks: thin. Each takes ids, calls one service, and is safe to run twice (the services
guard every transition by status and lease)."""

from __future__ import annotations

from celery import shared_task

from cdss.common.request_context import (
    RequestContext,
    reset_request_context,
    set_request_context,
)
from cdss.jobs import services


@shared_task(name="jobs.analysis_run", acks_late=True, reject_on_worker_lost=True)
def analysis_run_task(analysis_id: int) -> None:
    # Worker log lines carry the task's analysis id where a request would carry its request id.
    token = set_request_context(RequestContext(request_id=f"analysis-{analysis_id}"))
    try:
        services.analysis_execute(analysis_id=analysis_id)
    finally:
        reset_request_context(token)


@shared_task(name="jobs.analysis_sweep", acks_late=True)
def analysis_sweep_task() -> None:
    services.analysis_sweep()
