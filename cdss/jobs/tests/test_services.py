"""The analysis lifecycle: transitions, their guards, retries, failure reasons and the sweeper."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from cdss.audit.models import AccessEvent
from cdss.common.exceptions import ApplicationError, ConflictError
from cdss.jobs import services
from cdss.jobs.kinds import UnknownKindError
from cdss.jobs.models import Analysis, AnalysisEvent, AnalysisResult, ErrorCode, Status
from cdss.jobs.tests.factories import AnalysisFactory

pytestmark = pytest.mark.django_db


def _make_due(analysis: Analysis) -> None:
    Analysis.objects.filter(pk=analysis.pk).update(next_attempt_at=timezone.now())


def _statuses(analysis: Analysis) -> list[str]:
    return list(AnalysisEvent.objects.filter(analysis=analysis).values_list("status", flat=True))


def test_submit_stores_pending_with_event_and_audit(clinician_a, patient_a):
    analysis = services.analysis_submit(
        user=clinician_a, kind="test_patient_hold", patient=patient_a, inputs={"seconds": 0}
    )
    assert analysis.status == Status.PENDING
    assert analysis.inputs == {"seconds": 0.0}
    assert analysis.max_attempts == 5
    assert _statuses(analysis) == [Status.PENDING]
    event = AccessEvent.objects.get(action="analysis.create")
    assert (event.patient_id, event.object_type, event.object_id) == (
        patient_a.pk,
        "analysis",
        str(analysis.pk),
    )


def test_submit_is_queued_only_after_commit(
    clinician_a, monkeypatch, django_capture_on_commit_callbacks
):
    sent: list[tuple[str, list[int]]] = []
    from config.celery import app

    monkeypatch.setattr(app, "send_task", lambda name, args, **kw: sent.append((name, args)))
    with django_capture_on_commit_callbacks(execute=True):
        analysis = services.analysis_submit(
            user=clinician_a, kind="pipeline_check", patient=None, inputs={}
        )
        assert sent == []
    assert sent == [("jobs.analysis_run", [analysis.pk])]


def test_submit_refuses_bad_requests(clinician_a, ml_engineer):
    with pytest.raises(UnknownKindError) as unknown:
        services.analysis_submit(user=clinician_a, kind="nope", patient=None, inputs={})
    assert "kind" in unknown.value.detail
    with pytest.raises(ApplicationError) as no_patient:
        services.analysis_submit(
            user=clinician_a, kind="test_patient_hold", patient=None, inputs={}
        )
    assert "patient" in no_patient.value.detail
    with pytest.raises(ApplicationError) as bad_input:
        services.analysis_submit(
            user=clinician_a, kind="test_hold", patient=None, inputs={"seconds": "x"}
        )
    assert "inputs" in bad_input.value.detail
    with pytest.raises(services.AnalysisPermissionError):
        services.analysis_submit(
            user=clinician_a, kind="test_engineers_only", patient=None, inputs={}
        )
    services.analysis_submit(user=ml_engineer, kind="test_engineers_only", patient=None, inputs={})
    assert Analysis.objects.count() == 1


def test_execute_completes_with_one_result(make_analysis, patient_a):
    analysis = make_analysis(patient=patient_a)
    services.analysis_execute(analysis_id=analysis.pk)
    analysis.refresh_from_db()
    assert analysis.status == Status.COMPLETED
    assert (analysis.model_name, analysis.model_version) == ("hold", "1")
    assert analysis.attempts == 1 and analysis.started_at and analysis.completed_at
    assert analysis.lease_token == "" and analysis.error_code == ""
    assert AnalysisResult.objects.get(analysis=analysis).data["held"] == 0.0
    assert _statuses(analysis) == [Status.PROCESSING, Status.COMPLETED]
    audit = set(AccessEvent.objects.values_list("action", flat=True))
    assert {"analysis.start", "analysis.complete"} <= audit


def test_running_twice_changes_nothing(make_analysis):
    analysis = make_analysis()
    services.analysis_execute(analysis_id=analysis.pk)
    before = Analysis.objects.get(pk=analysis.pk).updated_at
    services.analysis_execute(analysis_id=analysis.pk)
    assert Analysis.objects.get(pk=analysis.pk).updated_at == before
    assert AnalysisResult.objects.filter(analysis=analysis).count() == 1
    assert services.analysis_start(analysis_id=analysis.pk) is None


def test_database_allows_one_result_per_analysis(make_analysis):
    analysis = make_analysis(status=Status.COMPLETED)
    AnalysisResult.objects.create(analysis=analysis, data={"a": 1})
    with pytest.raises(IntegrityError), transaction.atomic():
        AnalysisResult.objects.create(analysis=analysis, data={"a": 2})


def test_running_attempt_blocks_a_second_start_until_its_lease_lapses(make_analysis):
    analysis = make_analysis()
    first = services.analysis_start(analysis_id=analysis.pk)
    assert first is not None and first.status == Status.PROCESSING
    assert services.analysis_start(analysis_id=analysis.pk) is None  # duplicate delivery
    Analysis.objects.filter(pk=analysis.pk).update(
        lease_expires_at=timezone.now() - timedelta(seconds=1)
    )
    second = services.analysis_start(analysis_id=analysis.pk)
    assert second is not None and second.attempts == 2
    # The first attempt's late answer is discarded: it no longer holds the lease.
    assert not services.analysis_complete(
        analysis_id=analysis.pk, lease_token=first.lease_token, result={"late": True}
    )
    assert services.analysis_complete(
        analysis_id=analysis.pk, lease_token=second.lease_token, result={"ok": True}
    )
    assert AnalysisResult.objects.get(analysis=analysis).data == {"ok": True}


def test_not_yet_due_work_is_not_started(make_analysis):
    analysis = make_analysis(next_attempt_at=timezone.now() + timedelta(minutes=5))
    assert services.analysis_start(analysis_id=analysis.pk) is None


def test_always_crashing_job_fails_after_its_attempts_and_stops(make_analysis, caplog):
    analysis = make_analysis(kind="test_crash", max_attempts=3)
    for attempt in (1, 2):
        services.analysis_execute(analysis_id=analysis.pk)
        analysis.refresh_from_db()
        assert (analysis.status, analysis.attempts) == (Status.PENDING, attempt)
        assert analysis.error_code == ErrorCode.INTERNAL_ERROR
        assert analysis.next_attempt_at > timezone.now()  # backoff
        services.analysis_execute(analysis_id=analysis.pk)  # early delivery: nothing happens
        assert Analysis.objects.get(pk=analysis.pk).attempts == attempt
        _make_due(analysis)
    services.analysis_execute(analysis_id=analysis.pk)
    analysis.refresh_from_db()
    assert (analysis.status, analysis.error_code, analysis.attempts) == (
        Status.FAILED,
        ErrorCode.INTERNAL_ERROR,
        3,
    )
    assert "after 3 attempts" in analysis.error_message
    assert (
        "Traceback" not in analysis.error_message and "always crashes" not in analysis.error_message
    )
    services.analysis_execute(analysis_id=analysis.pk)
    assert Analysis.objects.get(pk=analysis.pk).attempts == 3


def test_inference_down_retries_then_fails_with_reason(make_analysis, settings):
    from inference.testing import free_port

    settings.CDSS_INFERENCE_URL = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    analysis = make_analysis(kind="test_inference_health", max_attempts=2)
    services.analysis_execute(analysis_id=analysis.pk)
    analysis.refresh_from_db()
    assert (analysis.status, analysis.error_code) == (
        Status.PENDING,
        ErrorCode.INFERENCE_UNAVAILABLE,
    )
    _make_due(analysis)
    services.analysis_execute(analysis_id=analysis.pk)
    analysis.refresh_from_db()
    assert (analysis.status, analysis.error_code) == (
        Status.FAILED,
        ErrorCode.INFERENCE_UNAVAILABLE,
    )
    assert analysis.error_message.startswith("The inference server was unavailable")


def test_invalid_input_fails_at_once(make_analysis):
    analysis = make_analysis(kind="test_reject")
    services.analysis_execute(analysis_id=analysis.pk)
    analysis.refresh_from_db()
    assert (analysis.status, analysis.error_code, analysis.attempts) == (
        Status.FAILED,
        ErrorCode.INVALID_INPUT,
        1,
    )
    assert analysis.error_message == "sequence: not a protein or DNA sequence"


def test_unknown_kind_in_the_worker_fails(make_analysis):
    analysis = make_analysis(kind="no_longer_installed")
    services.analysis_execute(analysis_id=analysis.pk)
    analysis.refresh_from_db()
    assert (analysis.status, analysis.error_code) == (Status.FAILED, ErrorCode.UNKNOWN_KIND)


def test_backoff_grows_exponentially_with_jitter_and_a_cap(settings):
    settings.CDSS_JOBS_RETRY_BASE_SECONDS = 2.0
    settings.CDSS_JOBS_RETRY_MAX_SECONDS = 10.0
    for attempt, step in ((1, 2.0), (2, 4.0), (3, 8.0), (4, 10.0), (9, 10.0)):
        delays = {services._backoff_seconds(attempt) for _ in range(20)}
        assert all(step / 2 <= d <= step for d in delays)
        assert len(delays) > 1  # jitter


def test_cancel_then_the_worker_does_nothing(clinician_a, make_analysis):
    analysis = make_analysis()
    services.analysis_cancel(user=clinician_a, analysis=analysis)
    analysis.refresh_from_db()
    assert analysis.status == Status.CANCELLED and analysis.cancelled_at
    services.analysis_execute(analysis_id=analysis.pk)
    assert Analysis.objects.get(pk=analysis.pk).status == Status.CANCELLED
    with pytest.raises(ConflictError):
        services.analysis_cancel(user=clinician_a, analysis=analysis)


def test_cancel_while_running_discards_the_answer(clinician_a, make_analysis):
    analysis = make_analysis()
    running = services.analysis_start(analysis_id=analysis.pk)
    assert running is not None
    services.analysis_cancel(user=clinician_a, analysis=analysis)
    assert not services.analysis_complete(
        analysis_id=analysis.pk, lease_token=running.lease_token, result={}
    )
    assert not AnalysisResult.objects.filter(analysis=analysis).exists()


def test_retry_only_failed_work_with_fresh_attempts(clinician_a, make_analysis):
    failed = make_analysis(
        status=Status.FAILED, attempts=5, error_code=ErrorCode.INFERENCE_UNAVAILABLE
    )
    services.analysis_retry(user=clinician_a, analysis=failed)
    failed.refresh_from_db()
    assert (failed.status, failed.attempts, failed.error_code) == (Status.PENDING, 0, "")
    services.analysis_execute(analysis_id=failed.pk)
    assert Analysis.objects.get(pk=failed.pk).status == Status.COMPLETED
    with pytest.raises(ConflictError):
        services.analysis_retry(user=clinician_a, analysis=failed)


# --- the sweeper --------------------------------------------------------------------------------


def test_sweeper_requeues_work_whose_worker_died(make_analysis, monkeypatch):
    monkeypatch.setattr(services, "_queue_depth", lambda: 0)
    analysis = make_analysis()
    running = services.analysis_start(analysis_id=analysis.pk)
    assert running is not None
    later = timezone.now() + timedelta(hours=1)
    report = services.analysis_sweep(now=later)
    assert report.requeued_orphans == 1
    analysis.refresh_from_db()
    assert (analysis.status, analysis.attempts, analysis.error_code) == (
        Status.PENDING,
        1,
        ErrorCode.WORKER_LOST,
    )
    services.analysis_execute(analysis_id=analysis.pk)
    analysis.refresh_from_db()
    assert analysis.status == Status.COMPLETED and analysis.attempts == 2


def test_sweeper_fails_work_past_its_attempts(make_analysis):
    analysis = make_analysis(
        status=Status.PROCESSING,
        attempts=3,
        max_attempts=3,
        lease_token="dead",
        lease_expires_at=timezone.now() - timedelta(seconds=1),
    )
    assert services.analysis_sweep().failed_orphans == 1
    analysis.refresh_from_db()
    assert (analysis.status, analysis.error_code) == (Status.FAILED, ErrorCode.WORKER_LOST)


def test_sweeper_requeues_lost_pending_work_only_when_the_queue_is_empty(
    make_analysis, monkeypatch, settings, django_capture_on_commit_callbacks
):
    from config.celery import app

    sent: list[list[int]] = []
    monkeypatch.setattr(app, "send_task", lambda name, args, **kw: sent.append(args))
    old = timezone.now() - timedelta(seconds=settings.CDSS_JOBS_PENDING_STALE_SECONDS + 5)
    lost = make_analysis(enqueued_at=old, next_attempt_at=old)
    make_analysis()  # queued just now: left alone
    AnalysisFactory(status=Status.COMPLETED, enqueued_at=old, next_attempt_at=old)

    monkeypatch.setattr(services, "_queue_depth", lambda: 3)
    with django_capture_on_commit_callbacks(execute=True):
        assert services.analysis_sweep().requeued_pending == 0
    monkeypatch.setattr(services, "_queue_depth", lambda: 0)
    with django_capture_on_commit_callbacks(execute=True):
        assert services.analysis_sweep().requeued_pending == 1
    assert sent == [[lost.pk]]
    with django_capture_on_commit_callbacks(execute=True):
        assert services.analysis_sweep().requeued_pending == 0  # not again right away
