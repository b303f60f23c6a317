"""Every write to analyses: submit, start, complete, fail, cancel, retry, wait, store an
artifact, and the sweeper.

Each transition runs in one transaction with a row lock, checks the status it starts from (so a
task delivered twice, or a late answer from a worker presumed dead, changes nothing), and writes
its status event and its audit event in the same transaction. Work is handed to the broker only
after the transaction commits, to its kind's queue.

The engine (``analysis_execute``) has one shape for every kind: start (or resume) under a lease,
``run`` with the lease kept alive and the kind's time limit enforced, then complete with a result
checked against the kind's ``result`` serializer, or wait (``RunLater``: the analysis stays
PROCESSING with its lease released, and is run again when due, in the same attempt), or retry /
fail by what ``run`` raised.
"""

from __future__ import annotations

import functools
import hashlib
import json
import logging
import math
import os
import random
import re
import socket
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.files.storage import default_storage
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, transaction
from django.http import Http404
from django.utils import timezone

from cdss.accounts.models import User
from cdss.audit.models import Outcome
from cdss.audit.services import access_event_record
from cdss.common.exceptions import ApplicationError, ConflictError, invalid_input
from cdss.common.metrics import analysis_event_record
from cdss.common.request_context import get_request_context
from cdss.jobs.access import analysis_for_request
from cdss.jobs.events import event_publish_on_commit
from cdss.jobs.kinds import AnalysisKind, RunLater, get_kind
from cdss.jobs.models import (
    ARTIFACT_NAME_PATTERN,
    Analysis,
    AnalysisArtifact,
    AnalysisEvent,
    AnalysisResult,
    ErrorCode,
    Status,
    artifact_path,
)
from cdss.ml.client import (
    InferenceBadResponse,
    InferenceTimeout,
    InferenceUnavailable,
)
from cdss.patients.access import patient_for_request
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


# The pool's hard kill comes this long after a kind's time limit, which the engine enforces itself
# first (a pool of threads, the Procfile's, cannot kill at all).
_HARD_LIMIT_GRACE = 30.0
_ARTIFACT_NAME = re.compile(ARTIFACT_NAME_PATTERN)
_CONTENT_TYPE = re.compile(r"^[a-z0-9][a-z0-9!#$&^_.+-]{0,62}/[a-z0-9][a-z0-9!#$&^_.+-]{0,62}$")


# Called with each analysis as it COMPLETES, inside the completing transaction (each in a savepoint
# of its own, so a failing listener neither undoes the completion nor stops the others). The one
# use: cdss.reports chains the interpretation and the report to every completed analysis.
_completion_listeners: list[Callable[[Analysis], None]] = []


def analysis_completion_listener_add(listener: Callable[[Analysis], None]) -> None:
    """Registers ``listener`` (from an ``AppConfig.ready()``); adding it again is a no-op."""
    if listener not in _completion_listeners:
        _completion_listeners.append(listener)


def _notify_completed(analysis: Analysis) -> None:
    for listener in tuple(_completion_listeners):
        try:
            with transaction.atomic():
                listener(analysis)
        except Exception:
            logger.exception("analysis %s: a completion listener failed", analysis.pk)


class AnalysisPermissionError(ApplicationError):
    status_code = 403


class AnalysisSuperseded(Exception):
    """This attempt no longer holds the analysis (cancelled, failed past its time limit, or taken
    over after its lease ran out): what it would write is discarded."""


# --- helpers ------------------------------------------------------------------------------------


def _worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"[:255]


def _send_options(kind: str) -> dict[str, Any]:
    """Where and for how long a run of this kind may work (an unknown kind: the default queue,
    where a worker fails it with ``unknown_kind``)."""
    try:
        spec = get_kind(kind)
    except ApplicationError:
        return {"queue": settings.CDSS_JOBS_QUEUE}
    return {
        "queue": spec.queue_name,
        "time_limit": math.ceil(spec.time_limit_seconds + _HARD_LIMIT_GRACE),
    }


def _enqueue_on_commit(analysis_id: int, kind: str, *, countdown: float | None = None) -> None:
    """Hands the analysis id to the broker once the transaction commits. A failure to publish is
    logged and left to the sweeper, which re-queues PENDING work nobody picked up."""
    from config.celery import app

    options = _send_options(kind)

    def send() -> None:
        app.send_task(RUN_TASK, args=[analysis_id], countdown=countdown, **options)

    transaction.on_commit(send, robust=True)


def _json_safe(value: dict[str, Any]) -> dict[str, Any]:
    """What a JSONField stores: dates, decimals and UUIDs as strings."""
    safe: dict[str, Any] = json.loads(json.dumps(value, cls=DjangoJSONEncoder))
    return safe


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
    previous = analysis.status
    analysis.status = status
    analysis.save(update_fields=sorted({"status", "updated_at", *fields}))
    _observe_on_commit(analysis, action=action, previous=previous)
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


# The lifecycle event (cdss.common.metrics, the JSON log) of each audited transition.
_LIFECYCLE_EVENTS = {
    "analysis.create": "queued",
    "analysis.start": "started",
    "analysis.complete": "completed",
    "analysis.fail": "failed",
    "analysis.requeue": "retried",
    "analysis.retry": "retried",
    "analysis.cancel": "cancelled",
}


def _observe_on_commit(analysis: Analysis, *, action: str, previous: str) -> None:
    """Counts the transition and logs its line once it is committed (a rolled-back one never
    happened). Queue wait runs from when the analysis was due (a retry's backoff is not waiting
    for a worker); run time from the attempt's start to the end of the attempt."""
    event = _LIFECYCLE_EVENTS.get(action)
    if event is None:
        return
    now = timezone.now()
    queue_wait = None
    if event == "started":
        due = analysis.next_attempt_at or analysis.enqueued_at or analysis.created_at
        queue_wait = max(0.0, (now - due).total_seconds()) if due else None
    run = None
    if previous == Status.PROCESSING and analysis.started_at is not None:
        run = max(0.0, (now - analysis.started_at).total_seconds())
    reason = "manual" if action == "analysis.retry" else analysis.error_code
    record = functools.partial(
        analysis_event_record,
        analysis_id=analysis.pk,
        kind=analysis.kind,
        event=event,
        attempt=analysis.attempts,
        queue_wait_seconds=queue_wait,
        run_seconds=run,
        error_code=reason,
    )
    transaction.on_commit(record, robust=True)


def _locked(analysis_id: int) -> Analysis | None:
    return Analysis.objects.select_for_update().filter(pk=analysis_id).first()


def _backoff_seconds(attempt: int) -> float:
    """Exponential backoff with jitter: half the step fixed, half random."""
    base = float(settings.CDSS_JOBS_RETRY_BASE_SECONDS)
    cap = float(settings.CDSS_JOBS_RETRY_MAX_SECONDS)
    step = min(cap, base * (2 ** max(0, attempt - 1)))
    return step / 2 + random.uniform(0, step / 2)


# --- submit, cancel, retry (clinicians, through the API) ----------------------------------------


def analysis_create(
    *, user: User, kind: str, patient_id: int | None, inputs: dict[str, Any]
) -> Analysis:
    """The API's submit: the patient is reached through the audited access path, and someone
    else's patient is the same 400 as a missing one (the refusal is recorded, not rolled back)."""
    get_kind(kind)  # an unknown kind is the first thing to name
    patient = None
    if patient_id is not None:
        patient = analysis_patient_for_request(user=user, patient_id=patient_id)
    return analysis_submit(user=user, kind=kind, patient=patient, inputs=inputs)


def analysis_patient_for_request(*, user: User, patient_id: int) -> Patient:
    """The patient an analysis is submitted for, through the audited access path: someone else's
    patient is the same 400 as a missing one (the refusal is recorded, not rolled back)."""
    try:
        return patient_for_request(
            user=user,
            patient_id=patient_id,
            action="analysis.create",
            object_type="analysis",
            audit_success=False,
        )
    except Http404:
        raise ApplicationError("patient: not found", detail={"patient": ["Not found."]}) from None


@transaction.atomic
def analysis_submit(
    *, user: User, kind: str, patient: Patient | None, inputs: dict[str, Any]
) -> Analysis:
    """Stores a PENDING analysis and queues it. ``patient`` must come from the access path.

    The inputs are validated by the kind's ``input`` serializer (a 400 naming ``inputs.<field>``)
    and resolved by its ``prepare`` for this user and patient before anything is stored.
    """
    spec = get_kind(kind)
    _check_may_submit(user=user, spec=spec, patient=patient)
    cleaned = _clean_inputs(spec, inputs)
    if spec.prepare is not None:
        cleaned = spec.prepare(user=user, patient=patient, inputs=cleaned)
    now = timezone.now()
    analysis = Analysis.objects.create(
        kind=spec.name,
        patient=patient,
        requested_by=user,
        status=Status.PENDING,
        inputs=_json_safe(cleaned),
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
    _observe_on_commit(analysis, action="analysis.create", previous="")
    _enqueue_on_commit(analysis.pk, analysis.kind)
    return analysis


def _clean_inputs(spec: AnalysisKind, inputs: Any) -> dict[str, Any]:
    data = spec.input(data=inputs)
    if not data.is_valid():
        raise invalid_input({"inputs": dict(data.errors)})
    return dict(data.validated_data)


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
    # A retry starts the work afresh (a retraining run anew, not the failed one polled again).
    locked.state = {}
    _transition(
        locked,
        Status.PENDING,
        fields=[
            "attempts",
            "error_code",
            "error_message",
            "enqueued_at",
            "next_attempt_at",
            "state",
        ],
        user=user,
        action="analysis.retry",
    )
    _enqueue_on_commit(locked.pk, locked.kind)
    return locked


# --- the worker's side --------------------------------------------------------------------------


@transaction.atomic
def analysis_start(*, analysis_id: int, worker: str = "") -> Analysis | None:
    """PENDING (due) -> PROCESSING, takes over PROCESSING work whose lease ran out, or resumes a
    waiting analysis that is due (same attempt, no new status: it never stopped PROCESSING).

    Returns the analysis with a fresh lease token, or None when there is nothing to do: already
    running elsewhere, finished, cancelled, not due yet, or out of attempts (then FAILED here).
    """
    analysis = _locked(analysis_id)
    if analysis is None:
        return None
    now = timezone.now()
    lease = timedelta(seconds=settings.CDSS_JOBS_LEASE_SECONDS)
    waiting = analysis.status == Status.PROCESSING and not analysis.lease_token
    if waiting and (analysis.next_attempt_at is None or analysis.next_attempt_at <= now):
        analysis.lease_token = uuid.uuid4().hex
        analysis.lease_expires_at = now + lease
        analysis.worker = worker[:255]
        analysis.save(update_fields=["lease_token", "lease_expires_at", "worker", "updated_at"])
        return analysis
    due = analysis.status == Status.PENDING and (
        analysis.next_attempt_at is None or analysis.next_attempt_at <= now
    )
    orphaned = (
        analysis.status == Status.PROCESSING
        and not waiting
        and (analysis.lease_expires_at is None or analysis.lease_expires_at < now)
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
    analysis.lease_expires_at = now + lease
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
    _notify_completed(analysis)
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
    _enqueue_on_commit(analysis.pk, analysis.kind, countdown=delay if delay > 0 else None)
    return True


@transaction.atomic
def analysis_run_later(*, analysis_id: int, lease_token: str, seconds: float) -> bool:
    """The kind's work goes on elsewhere: the analysis stays PROCESSING (to clients it is), its
    lease is released, and it is due again after ``seconds``, in the same attempt.

    The lease is set to lapse ``CDSS_JOBS_LEASE_SECONDS`` after it is due: only if its wake-up
    message is lost does the sweeper see it, and then sends it again.
    """
    analysis = _locked(analysis_id)
    if not _held(analysis, lease_token):
        return False
    assert analysis is not None
    now = timezone.now()
    due = now + timedelta(seconds=max(0.0, seconds))
    analysis.lease_token = ""
    analysis.lease_expires_at = due + timedelta(seconds=settings.CDSS_JOBS_LEASE_SECONDS)
    analysis.next_attempt_at = due
    analysis.save(
        update_fields=["lease_token", "lease_expires_at", "next_attempt_at", "updated_at"]
    )
    _enqueue_on_commit(analysis.pk, analysis.kind, countdown=max(0.0, seconds) or None)
    return True


def _held(analysis: Analysis | None, lease_token: str) -> bool:
    return (
        analysis is not None
        and analysis.status == Status.PROCESSING
        and bool(lease_token)
        and analysis.lease_token == lease_token
    )


@transaction.atomic
def analysis_state_save(*, analysis: Analysis, state: dict[str, Any]) -> None:
    """Stores what a kind's ``run`` must remember across its runs and attempts (``state``
    replaces the analysis's), at once, so a worker that dies right after still left it. Raises
    ``AnalysisSuperseded`` when this attempt no longer holds the analysis."""
    locked = _locked(analysis.pk)
    if not _held(locked, analysis.lease_token):
        raise AnalysisSuperseded(f"analysis {analysis.pk}: attempt superseded")
    assert locked is not None
    locked.state = _json_safe(state)
    locked.save(update_fields=["state", "updated_at"])
    analysis.state = locked.state


def analysis_artifact_store(
    *, analysis: Analysis, name: str, content_type: str, data: bytes
) -> AnalysisArtifact:
    """Stores a file the running attempt produced, under ``artifacts/<analysis id>/<name>``.

    For a kind's ``run`` (outside any transaction). The bytes go to a temporary file beside the
    target first; then, in one transaction that checks this attempt still holds the analysis,
    the row is written and the file renamed into place as the last step. So a failure leaves no
    row and no partial file, and a reader sees the old file or the new one whole. Storing a name
    again (a retried attempt) replaces it.
    """
    if not _ARTIFACT_NAME.match(name):
        raise ValueError(f"artifact name {name!r}: letters, digits, '.', '_', '-' (1-100)")
    if not _CONTENT_TYPE.match(content_type):
        raise ValueError(f"artifact {name!r}: {content_type!r} is not a content type")
    relative = artifact_path(analysis.pk, name)
    target = Path(default_storage.path(relative))
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, temporary = tempfile.mkstemp(prefix=f".{name}.", suffix=".part", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        # Readable by the web server's group (nginx sends it with X-Accel-Redirect).
        os.chmod(temporary, getattr(default_storage, "file_permissions_mode", None) or 0o640)
        with transaction.atomic():
            locked = _locked(analysis.pk)
            if not _held(locked, analysis.lease_token):
                raise AnalysisSuperseded(f"analysis {analysis.pk}: attempt superseded")
            artifact, _ = AnalysisArtifact.objects.update_or_create(
                analysis=locked,
                name=name,
                defaults={
                    "content_type": content_type,
                    "size": len(data),
                    "sha256": hashlib.sha256(data).hexdigest(),
                    "file": relative,
                },
            )
            os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return artifact


class _LeaseKeeper:
    """Renews the running attempt's lease from a thread while ``run`` works, and enforces the
    kind's time limit: past it, the analysis is FAILED with ``time_limit`` (whatever the pool can
    do about the run itself; its late answer is then discarded)."""

    def __init__(self, analysis_id: int, lease_token: str, *, time_limit: float) -> None:
        self.analysis_id = analysis_id
        self.lease_token = lease_token
        self.time_limit = time_limit
        self.deadline = 0.0
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self._loop, daemon=True, name="analysis-lease")

    def _loop(self) -> None:
        lease = float(settings.CDSS_JOBS_LEASE_SECONDS)
        try:
            while True:
                remaining = self.deadline - time.monotonic()
                if remaining <= 0:
                    self._time_out()
                    return
                if self.stopped.wait(min(lease / 3, remaining)):
                    return
                Analysis.objects.filter(
                    pk=self.analysis_id, status=Status.PROCESSING, lease_token=self.lease_token
                ).update(lease_expires_at=timezone.now() + timedelta(seconds=lease))
        except Exception:
            logger.exception("analysis %s: could not renew the lease", self.analysis_id)
        finally:
            connection.close()

    def _time_out(self) -> None:
        if analysis_fail(
            analysis_id=self.analysis_id,
            code=ErrorCode.TIME_LIMIT,
            message=f"The analysis ran past its time limit of {self.time_limit:g} seconds.",
            lease_token=self.lease_token,
        ):
            logger.warning("analysis %s: past its time limit", self.analysis_id)

    def __enter__(self) -> _LeaseKeeper:
        self.deadline = time.monotonic() + self.time_limit
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
    """Runs one attempt (or one resumed run) of the analysis: the whole of the worker task. Safe
    to call twice."""
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
        with _LeaseKeeper(analysis_id, token, time_limit=spec.time_limit_seconds):
            outcome = spec.run(analysis)
        if isinstance(outcome, RunLater):
            analysis_run_later(analysis_id=analysis_id, lease_token=token, seconds=outcome.seconds)
            return
        if not isinstance(outcome, dict):
            raise TypeError(f"{spec.name}.run returned {type(outcome).__name__}, not a dict")
    except AnalysisSuperseded:
        logger.info("analysis %s: this attempt was superseded; stopping", analysis_id)
        return
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
    problems = _result_problems(spec, outcome)
    if problems is not None:
        # A bug in the kind, not in the input: retrying would produce the same.
        logger.error(
            "analysis %s (%s): the result does not match %s: %s",
            analysis_id,
            spec.name,
            spec.result.__name__,
            problems,
        )
        analysis_fail(
            analysis_id=analysis_id,
            code=ErrorCode.INTERNAL_ERROR,
            message="The analysis produced a result that does not match its declared shape.",
            lease_token=token,
        )
        return
    analysis_complete(analysis_id=analysis_id, lease_token=token, result=_json_safe(outcome))


def _result_problems(spec: AnalysisKind, result: dict[str, Any]) -> dict[str, Any] | None:
    """The result serializer's errors, or None when the result has the declared shape."""
    checked = spec.result(data=result)
    return None if checked.is_valid() else dict(checked.errors)


# --- reads with an audited export ---------------------------------------------------------------


@dataclass(frozen=True)
class ResultExport:
    content_type: str
    body: bytes
    filename: str


def _render_json(result: dict[str, Any]) -> tuple[str, bytes]:
    return "application/json", json.dumps(result, ensure_ascii=False).encode("utf-8")


def analysis_result_export(*, user: User, analysis_id: int, fmt: str) -> ResultExport:
    """A COMPLETED analysis's result rendered as ``fmt`` (json, or one its kind offers); 409 while
    there is none, 400 for a format the kind does not offer. The export is recorded once."""
    analysis = analysis_for_request(
        user=user, analysis_id=analysis_id, action="analysis.export", audit_success=False
    )
    if analysis.status != Status.COMPLETED:
        raise ConflictError(
            f"status: the analysis has no result yet (it is {analysis.status})",
            detail={"status": [analysis.status]},
        )
    try:
        offered = dict(get_kind(analysis.kind).renderers)
    except ApplicationError:
        offered = {}
    # The kind's renderers, with JSON always offered (a kind may render JSON its own way).
    renderers = {"json": _render_json, **offered}
    if fmt not in renderers:
        names = sorted(renderers)
        raise ApplicationError(
            f"format: must be one of {names}", detail={"format": [f"One of {names}."]}
        )
    content_type, body = renderers[fmt](AnalysisResult.objects.get(analysis=analysis).data)
    _audit(analysis, user=user, action="analysis.export")
    return ResultExport(content_type, body, f"analysis-{analysis.pk}.{fmt}")


# --- the sweeper --------------------------------------------------------------------------------


@dataclass
class SweepReport:
    requeued_orphans: int = 0
    failed_orphans: int = 0
    requeued_pending: int = 0
    resent_waiting: int = 0


def _analysis_queues() -> list[str]:
    base = str(settings.CDSS_JOBS_QUEUE)
    return [base, *(f"{base}.{name}" for name in settings.CDSS_JOBS_KIND_QUEUES)]


def _queue_depth() -> int | None:
    """Messages waiting in the analysis queues, or None when the broker cannot tell."""
    from config.celery import app

    total = 0
    try:
        with app.connection_for_read() as conn:
            for queue in _analysis_queues():
                try:
                    declared = conn.default_channel.queue_declare(queue=queue, passive=True)
                except Exception as exc:
                    # Redis forgets an empty queue, which a passive declare reports as missing.
                    if getattr(exc, "code", None) == 404:
                        continue
                    raise
                total += int(declared.message_count)
    except Exception as exc:
        logger.warning("sweeper: could not read the queue depth: %s", exc)
        return None
    return total


def analysis_sweep(*, now: datetime | None = None, limit: int = 500) -> SweepReport:
    """Recovers work the broker or a worker lost; run periodically by celery beat.

    - PROCESSING whose lease ran out (its worker died): queued again, or FAILED with
      ``worker_lost`` when it has used all its attempts.
    - PENDING that has been due for longer than CDSS_JOBS_PENDING_STALE_SECONDS while the broker
      queues are empty (so it is not waiting behind other work): its message was lost; queued
      again.
    - PROCESSING and waiting (``RunLater``) whose wake-up is overdue by a lease: that message was
      lost; sent again (the same attempt).
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
        elif outcome == "resent":
            report.resent_waiting += 1

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
    if not analysis.lease_token:
        # Waiting (RunLater), and its wake-up never came: no worker died, so no attempt is used.
        analysis.lease_expires_at = now + timedelta(seconds=settings.CDSS_JOBS_LEASE_SECONDS)
        analysis.save(update_fields=["lease_expires_at", "updated_at"])
        _enqueue_on_commit(analysis.pk, analysis.kind)
        return "resent"
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
    stale = Analysis.objects.filter(
        pk=analysis_id, status=Status.PENDING, enqueued_at__lt=stale_before
    )
    kind = stale.values_list("kind", flat=True).first()
    updated = stale.update(enqueued_at=now)
    if updated and kind is not None:
        _enqueue_on_commit(analysis_id, kind)
    return bool(updated)
