"""Every write to analyses: submit, start, complete, fail, cancel, retry, and the sweeper.

Each transition runs in one transaction with a row lock, checks the status it starts from (so a
task delivered twice, or a late answer from a worker presumed dead, changes nothing), and writes
its status event and its audit event in the same transaction. Work is handed to the broker only
after the transaction commits.
"""

from __future__ import annotations

import logging
import os
import random
import socket
import threading
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from cdss.accounts.models import User
from cdss.audit.models import Outcome
from cdss.audit.services import access_event_record
from cdss.common.exceptions import ApplicationError, ConflictError
from cdss.common.request_context import get_request_context
from cdss.jobs.events import event_publish_on_commit
from cdss.jobs.kinds import AnalysisKind, get_kind
from cdss.jobs.models import Analysis, AnalysisEvent, AnalysisResult, ErrorCode, Status
from cdss.ml.client import (
    InferenceBadResponse,
    InferenceTimeout,
    InferenceUnavailable,
)
from cdss.patients.models import Patient

logger = logging.getLogger(__name__)

RUN_TASK = "jobs.analysis_run"
# Inference failures worth another attempt; each carries its error code (an ErrorCode value).
_TRANSIENT = (InferenceUnavailable, InferenceTimeout, InferenceBadResponse)
_TRANSIENT_MESSAGES: dict[str, str] = {
    ErrorCode.INFERENCE_UNAVAILABLE: "The inference server was unavailable",
    ErrorCode.INFERENCE_TIMEOUT: "The inference server did not answer in time",
    ErrorCode.INFERENCE_BAD_RESPONSE: "The inference server gave an unusable answer",
    ErrorCode.INTERNAL_ERROR: "The analysis failed with an internal error",
}


class AnalysisPermissionError(ApplicationError):
    status_code = 403


# --- helpers ------------------------------------------------------------------------------------


def _worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"[:255]


def _enqueue_on_commit(analysis_id: int, *, countdown: float | None = None) -> None:
    """Hands the analysis id to the broker once the transaction commits. A failure to publish is
    logged and left to the sweeper, which re-queues PENDING work nobody picked up."""
    from config.celery import app

    def send() -> None:
        app.send_task(RUN_TASK, args=[analysis_id], countdown=countdown)

    transaction.on_commit(send, robust=True)


def _audit(
    analysis: Analysis, *, user: User | None, action: str, outcome: str = Outcome.OK
) -> None:
    access_event_record(
        user=user,
        action=action,
        outcome=outcome,
        patient_id=analysis.patient_id,
        object_type="analysis",
        object_id=str(analysis.pk),
    )


def _transition(
    analysis: Analysis,
    status: str,
    *,
    fields: list[str],
    user: User | None,
    action: str,
    outcome: str = Outcome.OK,
) -> None:
    analysis.status = status
    analysis.save(update_fields=sorted({"status", "updated_at", *fields}))
    event = AnalysisEvent.objects.create(
        analysis=analysis,
        status=status,
        attempt=analysis.attempts,
        error_code=analysis.error_code,
        patient_id=analysis.patient_id,
        requested_by_id=analysis.requested_by_id,
    )
    _audit(analysis, user=user, action=action, outcome=outcome)
    event_publish_on_commit(event, kind=analysis.kind)


def _locked(analysis_id: int) -> Analysis | None:
    return Analysis.objects.select_for_update().filter(pk=analysis_id).first()


def _backoff_seconds(attempt: int) -> float:
    """Exponential backoff with jitter: half the step fixed, half random."""
    base = float(settings.CDSS_JOBS_RETRY_BASE_SECONDS)
    cap = float(settings.CDSS_JOBS_RETRY_MAX_SECONDS)
    step = min(cap, base * (2 ** max(0, attempt - 1)))
    return step / 2 + random.uniform(0, step / 2)


# --- submit, cancel, retry (clinicians, through the API) ----------------------------------------


@transaction.atomic
def analysis_submit(
    *, user: User, kind: str, patient: Patient | None, inputs: dict[str, Any]
) -> Analysis:
    """Stores a PENDING analysis and queues it. ``patient`` must come from the access path."""
    spec = get_kind(kind)
    _check_may_submit(user=user, spec=spec, patient=patient)
    cleaned = spec.validate_inputs(inputs)
    now = timezone.now()
    analysis = Analysis.objects.create(
        kind=spec.name,
        patient=patient,
        requested_by=user,
        status=Status.PENDING,
        inputs=cleaned,
        max_attempts=spec.max_attempts,
        request_id=get_request_context().request_id[:64],
        enqueued_at=now,
        next_attempt_at=now,
    )
    event = AnalysisEvent.objects.create(
        analysis=analysis,
        status=Status.PENDING,
        patient_id=analysis.patient_id,
        requested_by_id=analysis.requested_by_id,
    )
    _audit(analysis, user=user, action="analysis.create")
    event_publish_on_commit(event, kind=analysis.kind)
    _enqueue_on_commit(analysis.pk)
    return analysis


def _check_may_submit(*, user: User, spec: AnalysisKind, patient: Patient | None) -> None:
    if spec.allowed_roles is not None and not (
        user.role in spec.allowed_roles or user.is_admin_role
    ):
        raise AnalysisPermissionError(f"Your role may not submit {spec.name} analyses.")
    if spec.patient_required and patient is None:
        raise ApplicationError(
            f"patient: required for {spec.name} analyses",
            detail={"patient": ["This field is required for this kind."]},
        )


@transaction.atomic
def analysis_cancel(*, user: User, analysis: Analysis) -> Analysis:
    """PENDING or PROCESSING -> CANCELLED; a running attempt's answer is then discarded."""
    locked = _locked(analysis.pk)
    if locked is None or locked.status not in (Status.PENDING, Status.PROCESSING):
        status = locked.status if locked else "gone"
        raise ConflictError(
            f"status: only PENDING or PROCESSING analyses can be cancelled (this one is {status})",
            detail={"status": [status]},
        )
    locked.cancelled_at = timezone.now()
    locked.lease_token = ""
    locked.lease_expires_at = None
    _transition(
        locked,
        Status.CANCELLED,
        fields=["cancelled_at", "lease_token", "lease_expires_at"],
        user=user,
        action="analysis.cancel",
    )
    return locked


@transaction.atomic
def analysis_retry(*, user: User, analysis: Analysis) -> Analysis:
    """FAILED -> PENDING with a fresh set of attempts, queued again."""
    locked = _locked(analysis.pk)
    if locked is None or locked.status != Status.FAILED:
        status = locked.status if locked else "gone"
        raise ConflictError(
            f"status: only FAILED analyses can be retried (this one is {status})",
            detail={"status": [status]},
        )
    now = timezone.now()
    locked.attempts = 0
    locked.error_code = ""
    locked.error_message = ""
    locked.enqueued_at = now
    locked.next_attempt_at = now
    _transition(
        locked,
        Status.PENDING,
        fields=["attempts", "error_code", "error_message", "enqueued_at", "next_attempt_at"],
        user=user,
        action="analysis.retry",
    )
    _enqueue_on_commit(locked.pk)
    return locked


# --- the worker's side --------------------------------------------------------------------------


@transaction.atomic
def analysis_start(*, analysis_id: int, worker: str = "") -> Analysis | None:
    """PENDING (due) -> PROCESSING, or takes over PROCESSING work whose lease ran out.

    Returns the analysis with a fresh lease token, or None when there is nothing to do: already
    running elsewhere, finished, cancelled, not due yet, or out of attempts (then FAILED here).
    """
    analysis = _locked(analysis_id)
    if analysis is None:
        return None
    now = timezone.now()
    due = analysis.status == Status.PENDING and (
        analysis.next_attempt_at is None or analysis.next_attempt_at <= now
    )
    orphaned = analysis.status == Status.PROCESSING and (
        analysis.lease_expires_at is None or analysis.lease_expires_at < now
    )
    if not (due or orphaned):
        return None
    if analysis.attempts >= analysis.max_attempts:
        _fail_locked(
            analysis,
            code=ErrorCode.WORKER_LOST,
            message=f"The worker running this analysis stopped {analysis.attempts} times.",
        )
        return None
    analysis.attempts += 1
    analysis.started_at = now
    analysis.lease_token = uuid.uuid4().hex
    analysis.lease_expires_at = now + timedelta(seconds=settings.CDSS_JOBS_LEASE_SECONDS)
    analysis.worker = worker[:255]
    _transition(
        analysis,
        Status.PROCESSING,
        fields=["attempts", "started_at", "lease_token", "lease_expires_at", "worker"],
        user=None,
        action="analysis.start",
    )
    return analysis


@transaction.atomic
def analysis_complete(*, analysis_id: int, lease_token: str, result: dict[str, Any]) -> bool:
    """PROCESSING -> COMPLETED with its one result; False (nothing written) when this attempt no
    longer holds the analysis (cancelled, or taken over after its lease ran out)."""
    analysis = _locked(analysis_id)
    if (
        analysis is None
        or analysis.status != Status.PROCESSING
        or analysis.lease_token != lease_token
    ):
        logger.info("analysis %s: discarding the answer of a superseded attempt", analysis_id)
        return False
    AnalysisResult.objects.create(analysis=analysis, data=result)
    analysis.model_name = str(result.get("model_name") or "")[:128]
    analysis.model_version = str(result.get("model_version") or "")[:128]
    analysis.completed_at = timezone.now()
    analysis.error_code = ""
    analysis.error_message = ""
    analysis.lease_token = ""
    analysis.lease_expires_at = None
    _transition(
        analysis,
        Status.COMPLETED,
        fields=[
            "model_name",
            "model_version",
            "completed_at",
            "error_code",
            "error_message",
            "lease_token",
            "lease_expires_at",
        ],
        user=None,
        action="analysis.complete",
    )
    return True


@transaction.atomic
def analysis_fail(
    *, analysis_id: int, code: str, message: str, lease_token: str | None = None
) -> bool:
    """PENDING or PROCESSING -> FAILED with a reason; with ``lease_token``, only if that attempt
    still holds the analysis."""
    analysis = _locked(analysis_id)
    if analysis is None or analysis.status not in (Status.PENDING, Status.PROCESSING):
        return False
    if lease_token is not None and analysis.lease_token != lease_token:
        return False
    _fail_locked(analysis, code=code, message=message)
    return True


def _fail_locked(analysis: Analysis, *, code: str, message: str) -> None:
    analysis.error_code = code
    analysis.error_message = message[:1000]
    analysis.failed_at = timezone.now()
    analysis.lease_token = ""
    analysis.lease_expires_at = None
    _transition(
        analysis,
        Status.FAILED,
        fields=["error_code", "error_message", "failed_at", "lease_token", "lease_expires_at"],
        user=None,
        action="analysis.fail",
        outcome=Outcome.FAILED,
    )


@transaction.atomic
def analysis_requeue(
    *, analysis_id: int, lease_token: str | None, code: str, message: str, delay: float
) -> bool:
    """PROCESSING -> PENDING, due again after ``delay`` seconds (a retry after a transient error,
    or work whose worker died). The last error stays visible until the analysis ends."""
    analysis = _locked(analysis_id)
    if analysis is None or analysis.status != Status.PROCESSING:
        return False
    if lease_token is not None and analysis.lease_token != lease_token:
        return False
    now = timezone.now()
    analysis.error_code = code
    analysis.error_message = message[:1000]
    analysis.lease_token = ""
    analysis.lease_expires_at = None
    analysis.enqueued_at = now
    analysis.next_attempt_at = now + timedelta(seconds=delay)
    _transition(
        analysis,
        Status.PENDING,
        fields=[
            "error_code",
            "error_message",
            "lease_token",
            "lease_expires_at",
            "enqueued_at",
            "next_attempt_at",
        ],
        user=None,
        action="analysis.requeue",
    )
    _enqueue_on_commit(analysis.pk, countdown=delay if delay > 0 else None)
    return True


class _LeaseKeeper:
    """Renews the running attempt's lease from a thread while ``run`` works."""

    def __init__(self, analysis_id: int, lease_token: str) -> None:
        self.analysis_id = analysis_id
        self.lease_token = lease_token
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self._loop, daemon=True, name="analysis-lease")

    def _loop(self) -> None:
        lease = float(settings.CDSS_JOBS_LEASE_SECONDS)
        try:
            while not self.stopped.wait(lease / 3):
                Analysis.objects.filter(
                    pk=self.analysis_id, status=Status.PROCESSING, lease_token=self.lease_token
                ).update(lease_expires_at=timezone.now() + timedelta(seconds=lease))
        except Exception:
            logger.exception("analysis %s: could not renew the lease", self.analysis_id)
        finally:
            connection.close()

    def __enter__(self) -> _LeaseKeeper:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stopped.set()
        self.thread.join()


def _failure_after(analysis: Analysis, exc: Exception) -> tuple[str, str, bool]:
    """(error code, message for clients, retry?) for what ``run`` raised."""
    if isinstance(exc, _TRANSIENT):
        return exc.code, _TRANSIENT_MESSAGES[exc.code], True
    if isinstance(exc, ApplicationError):  # InferenceRejected included
        return ErrorCode.INVALID_INPUT, exc.message[:1000], False
    return ErrorCode.INTERNAL_ERROR, _TRANSIENT_MESSAGES[ErrorCode.INTERNAL_ERROR], True


def analysis_execute(*, analysis_id: int) -> None:
    """Runs one attempt of the analysis (the whole of the worker task). Safe to call twice."""
    analysis = analysis_start(analysis_id=analysis_id, worker=_worker_name())
    if analysis is None:
        return
    token = analysis.lease_token
    try:
        spec = get_kind(analysis.kind)
    except ApplicationError:
        analysis_fail(
            analysis_id=analysis_id,
            code=ErrorCode.UNKNOWN_KIND,
            message=f"No worker knows the kind {analysis.kind!r}.",
            lease_token=token,
        )
        return
    try:
        with _LeaseKeeper(analysis_id, token):
            result = spec.run(analysis)
        if not isinstance(result, dict):
            raise TypeError(f"{spec.name}.run returned {type(result).__name__}, not a dict")
    except Exception as exc:
        code, message, retry = _failure_after(analysis, exc)
        if code == ErrorCode.INTERNAL_ERROR:
            logger.exception(
                "analysis %s (%s) attempt %s failed", analysis_id, spec.name, analysis.attempts
            )
        else:
            logger.warning(
                "analysis %s (%s) attempt %s: %s", analysis_id, spec.name, analysis.attempts, code
            )
        if retry and analysis.attempts < analysis.max_attempts:
            analysis_requeue(
                analysis_id=analysis_id,
                lease_token=token,
                code=code,
                message=f"{message} (attempt {analysis.attempts} of {analysis.max_attempts}).",
                delay=_backoff_seconds(analysis.attempts),
            )
        else:
            if retry:
                message = f"{message} after {analysis.attempts} attempts."
            analysis_fail(analysis_id=analysis_id, code=code, message=message, lease_token=token)
        return
    analysis_complete(analysis_id=analysis_id, lease_token=token, result=result)


# --- the sweeper --------------------------------------------------------------------------------


@dataclass
class SweepReport:
    requeued_orphans: int = 0
    failed_orphans: int = 0
    requeued_pending: int = 0


def _queue_depth() -> int | None:
    """Messages waiting in the analyses queue, or None when the broker cannot tell."""
    from config.celery import app

    try:
        with app.connection_for_read() as conn:
            declared = conn.default_channel.queue_declare(
                queue=settings.CDSS_JOBS_QUEUE, passive=True
            )
            return int(declared.message_count)
    except Exception as exc:
        # Redis forgets an empty queue, which a passive declare reports as missing.
        if getattr(exc, "code", None) == 404:
            return 0
        logger.warning("sweeper: could not read the queue depth: %s", exc)
        return None


def analysis_sweep(*, now: datetime | None = None, limit: int = 500) -> SweepReport:
    """Recovers work the broker or a worker lost; run periodically by celery beat.

    - PROCESSING whose lease ran out (its worker died): queued again, or FAILED with
      ``worker_lost`` when it has used all its attempts.
    - PENDING that has been due for longer than CDSS_JOBS_PENDING_STALE_SECONDS while the broker
      queue is empty (so it is not waiting behind other work): its message was lost; queued again.
    """
    now = now or timezone.now()
    report = SweepReport()
    orphans = list(
        Analysis.objects.filter(status=Status.PROCESSING, lease_expires_at__lt=now)
        .order_by("lease_expires_at")
        .values_list("pk", flat=True)[:limit]
    )
    for analysis_id in orphans:
        outcome = _sweep_orphan(analysis_id, now=now)
        if outcome == "failed":
            report.failed_orphans += 1
        elif outcome == "requeued":
            report.requeued_orphans += 1

    stale_before = now - timedelta(seconds=settings.CDSS_JOBS_PENDING_STALE_SECONDS)
    stale = list(
        Analysis.objects.filter(
            status=Status.PENDING, next_attempt_at__lt=stale_before, enqueued_at__lt=stale_before
        )
        .order_by("next_attempt_at")
        .values_list("pk", flat=True)[:limit]
    )
    if stale and (_queue_depth() or 0) == 0:
        for analysis_id in stale:
            if _sweep_pending(analysis_id, stale_before=stale_before, now=now):
                report.requeued_pending += 1
    if report != SweepReport():
        logger.info("sweeper: %s", report)
    return report


@transaction.atomic
def _sweep_orphan(analysis_id: int, *, now: datetime) -> str:
    analysis = _locked(analysis_id)
    if (
        analysis is None
        or analysis.status != Status.PROCESSING
        or analysis.lease_expires_at is None
        or analysis.lease_expires_at >= now
    ):
        return "skipped"
    if analysis.attempts >= analysis.max_attempts:
        _fail_locked(
            analysis,
            code=ErrorCode.WORKER_LOST,
            message=f"The worker running this analysis stopped; {analysis.attempts} attempts used.",
        )
        return "failed"
    analysis_requeue(
        analysis_id=analysis_id,
        lease_token=None,
        code=ErrorCode.WORKER_LOST,
        message="The worker running this analysis stopped; queued again.",
        delay=0,
    )
    return "requeued"


@transaction.atomic
def _sweep_pending(analysis_id: int, *, stale_before: datetime, now: datetime) -> bool:
    updated = Analysis.objects.filter(
        pk=analysis_id, status=Status.PENDING, enqueued_at__lt=stale_before
    ).update(enqueued_at=now)
    if updated:
        _enqueue_on_commit(analysis_id)
    return bool(updated)
