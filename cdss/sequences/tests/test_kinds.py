"""The sequence kinds in the one kind shape, and retraining as start-then-requeue.

The retraining tests talk to a scripted inference server (an httpx MockTransport under the real
client): a real run trains for minutes, and what is under test is how the analysis follows the
server's job: started once, its job id kept, its status read once per run, never slept on.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import httpx
import pytest
from django.utils import timezone

from cdss.jobs import services
from cdss.jobs.models import Analysis, AnalysisResult, ErrorCode, Status
from cdss.ml.client import InferenceClient
from cdss.sequences import kinds as sequence_kinds

pytestmark = pytest.mark.django_db

BODY = {"training_data_path": "/srv/cdss/datasets/sequences", "epochs": 2}


@dataclass
class ScriptedServer:
    """The retrain routes of the inference server, answering from ``status``."""

    status: dict[str, Any] = field(default_factory=lambda: {"running": False, "state": "idle"})
    started: list[dict[str, Any]] = field(default_factory=list)
    status_reads: int = 0
    down: bool = False

    def handle(self, request: httpx.Request) -> httpx.Response:
        if self.down:
            raise httpx.ConnectError("connection refused", request=request)
        if request.method == "POST" and request.url.path == "/api/v1/retrain":
            if self.status.get("running"):
                return httpx.Response(
                    409, json={"error": "a retraining run is already in progress"}
                )
            job_id = f"job-{len(self.started) + 1}"
            self.started.append(json.loads(request.content))
            self.status = {"running": True, "state": "starting", "job_id": job_id}
            return httpx.Response(200, json={"ok": True, "status": "started", "job_id": job_id})
        if request.method == "GET" and request.url.path == "/api/v1/retrain/status":
            self.status_reads += 1
            return httpx.Response(200, json={"ok": True, **self.status})
        return httpx.Response(404, json={"error": "not found"})

    def finish(self, **fields: Any) -> None:
        self.status = {**self.status, "running": False, **fields}


@pytest.fixture
def server(monkeypatch) -> ScriptedServer:
    scripted = ScriptedServer()
    client = InferenceClient("http://inference.test")
    client._http = httpx.Client(
        base_url="http://inference.test", transport=httpx.MockTransport(scripted.handle)
    )
    monkeypatch.setattr(sequence_kinds, "get_client", lambda: client)
    return scripted


@pytest.fixture
def sent(monkeypatch):
    from config.celery import app

    messages: list[tuple[int, dict]] = []
    monkeypatch.setattr(
        app, "send_task", lambda name, args, **options: messages.append((args[0], options))
    )
    return messages


@pytest.fixture
def run(django_capture_on_commit_callbacks, sent):
    """What a worker does with one delivery, including what it hands the broker after commit."""

    def _run(analysis: Analysis) -> Analysis:
        with django_capture_on_commit_callbacks(execute=True):
            services.analysis_execute(analysis_id=analysis.pk)
        analysis.refresh_from_db()
        return analysis

    return _run


def _submit(user) -> Analysis:
    return services.analysis_submit(
        user=user, kind="sequence_retrain", patient=None, inputs=dict(BODY)
    )


def _due(analysis: Analysis) -> Analysis:
    Analysis.objects.filter(pk=analysis.pk).update(next_attempt_at=timezone.now())
    return analysis


def test_retrain_starts_once_then_reads_the_status_once_per_run(
    ml_engineer, server, sent, run, settings
):
    settings.CDSS_RETRAIN_POLL_SECONDS = 7.0
    analysis = _submit(ml_engineer)
    sent.clear()
    analysis = run(analysis)
    assert server.started == [BODY] and server.status_reads == 0
    assert analysis.state["job_id"] == "job-1"
    # The worker is free again: the analysis waits, PROCESSING, to be run again in 7 s.
    assert (analysis.status, analysis.lease_token, analysis.attempts) == (
        Status.PROCESSING,
        "",
        1,
    )
    assert [(i, o["countdown"]) for i, o in sent] == [(analysis.pk, 7.0)]

    server.status["state"] = "running"
    analysis = run(_due(analysis))
    assert (analysis.status, server.status_reads, len(server.started)) == (Status.PROCESSING, 1, 1)

    server.finish(
        state="completed",
        version="seq-test.2",
        promoted=True,
        metrics={"task1": {"roc_auc": 0.95}},
        message="done",
    )
    analysis = run(_due(analysis))
    assert (analysis.status, analysis.attempts, analysis.model_version) == (
        Status.COMPLETED,
        1,
        "seq-test.2",
    )
    assert AnalysisResult.objects.get(analysis=analysis).data == {
        "ok": True,
        "model_name": "sequence",
        "model_version": "seq-test.2",
        "promoted": True,
        "metrics": {"task1": {"roc_auc": 0.95}},
        "message": "done",
        "job_id": "job-1",
    }
    assert len(server.started) == 1


def test_a_redelivered_attempt_resumes_the_job_instead_of_starting_another(
    ml_engineer, server, run
):
    analysis = run(_submit(ml_engineer))
    # The worker following the job dies mid-run: its lease lapses, and the message comes again.
    resumed = services.analysis_start(analysis_id=_due(analysis).pk)
    assert resumed is not None
    Analysis.objects.filter(pk=analysis.pk).update(
        lease_expires_at=timezone.now() - timedelta(seconds=1)
    )
    analysis = run(analysis)
    assert (analysis.status, analysis.attempts, analysis.error_code) == (
        Status.PROCESSING,
        2,
        "",
    )
    assert len(server.started) == 1 and server.status_reads == 1  # followed, not restarted
    server.finish(state="completed", version="seq-test.2", promoted=False, metrics={})
    analysis = run(_due(analysis))
    assert analysis.status == Status.COMPLETED
    assert AnalysisResult.objects.get(analysis=analysis).data["job_id"] == "job-1"


def test_without_its_job_id_a_busy_server_is_a_clear_failure(ml_engineer, server, run):
    server.status = {"running": True, "state": "running", "job_id": "someone-elses"}
    analysis = run(_submit(ml_engineer))
    assert (analysis.status, analysis.error_code) == (Status.FAILED, ErrorCode.INVALID_INPUT)
    assert "already in progress" in analysis.error_message


def test_an_unreachable_server_while_following_retries_the_same_job(ml_engineer, server, run):
    analysis = run(_submit(ml_engineer))
    server.down = True
    analysis = run(_due(analysis))
    assert (analysis.status, analysis.error_code) == (
        Status.PENDING,
        ErrorCode.INFERENCE_UNAVAILABLE,
    )
    server.down = False
    server.finish(state="completed", version="seq-test.2", promoted=True, metrics={})
    analysis = run(_due(analysis))
    assert (analysis.status, analysis.attempts) == (Status.COMPLETED, 2)
    assert len(server.started) == 1


def test_a_failed_training_fails_the_analysis_with_its_reason(ml_engineer, server, run):
    analysis = run(_submit(ml_engineer))
    server.finish(state="failed", message="no sequences under the training data path")
    analysis = run(_due(analysis))
    assert (analysis.status, analysis.error_code) == (Status.FAILED, ErrorCode.INVALID_INPUT)
    assert analysis.error_message == (
        "Retraining failed: no sequences under the training data path"
    )


def test_a_job_the_server_no_longer_reports_fails(ml_engineer, server, run):
    analysis = run(_submit(ml_engineer))
    server.status = {"running": True, "state": "running", "job_id": "job-9"}
    analysis = run(_due(analysis))
    assert analysis.status == Status.FAILED
    assert "no longer reports this run" in analysis.error_message


def test_following_gives_up_after_the_deadline(ml_engineer, server, run, settings):
    analysis = run(_submit(ml_engineer))
    settings.CDSS_RETRAIN_MAX_SECONDS = 60
    started = (timezone.now() - timedelta(seconds=61)).isoformat()
    Analysis.objects.filter(pk=analysis.pk).update(state={"job_id": "job-1", "started_at": started})
    analysis = run(_due(analysis))
    assert analysis.status == Status.FAILED
    assert "CDSS_RETRAIN_MAX_SECONDS" in analysis.error_message


def test_batch_inputs_validate_and_store_items_and_options(clinician_a):
    analysis = services.analysis_submit(
        user=clinician_a,
        kind="sequence_batch",
        patient=None,
        inputs={"fasta": ">a\nMKV\n>b\nMKT\n", "seq_type": "protein", "top_k": 3},
    )
    assert analysis.inputs == {
        "items": [
            {"id": "a", "sequence": "MKV", "seq_type": "protein"},
            {"id": "b", "sequence": "MKT", "seq_type": "protein"},
        ],
        "options": {"top_k": 3},
    }


@pytest.mark.parametrize(
    ("inputs", "field"),
    [
        ({}, "items"),
        ({"fasta": ">a\nMKV\n", "items": [{"sequence": "MKV"}]}, "items"),
        ({"fasta": "MKV\n"}, "fasta"),
        ({"items": [{"sequence": "MKV"}], "top_k": 0}, "top_k"),
    ],
)
def test_batch_inputs_name_the_bad_field(clinician_a, inputs, field):
    from cdss.common.exceptions import ApplicationError

    with pytest.raises(ApplicationError) as refused:
        services.analysis_submit(
            user=clinician_a, kind="sequence_batch", patient=None, inputs=inputs
        )
    assert f"inputs.{field}" in refused.value.message
    assert field in refused.value.detail["inputs"]
