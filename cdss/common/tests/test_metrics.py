"""/metrics: who may read it, and that the counters and histograms move with what they count.

Each test reads a sample before and after the thing it counts: the registry is the process's own
and other tests move it too, so only the difference is asserted.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any

import httpx
import prometheus_client
import pytest
from django.test import Client
from prometheus_client.parser import text_string_to_metric_families
from rest_framework_simplejwt.tokens import AccessToken

from cdss.common import metrics
from cdss.jobs import services
from cdss.jobs.kinds import register_kinds
from cdss.jobs.models import Status
from cdss.jobs.tests.kinds import KINDS
from cdss.jobs.tests.ws import WebsocketCommunicator
from cdss.ml.client import InferenceClient, InferenceUnavailable
from cdss.patients.tests.factories import PatientFactory

register_kinds(*KINDS)

TOKEN = "m" * 24 + "-0123456789abcdef"  # 41 characters
OUTSIDE = "203.0.113.7"


def sample(name: str, **labels: str) -> float:
    return prometheus_client.REGISTRY.get_sample_value(name, labels) or 0.0


def delta(name: str, **labels: str) -> Callable[[], float]:
    """How much the sample moved since this call."""
    before = sample(name, **labels)
    return lambda: sample(name, **labels) - before


# --- who may read /metrics ------------------------------------------------------------------------


def _get(**meta: str) -> Any:
    client = Client()
    return client.get("/metrics", **meta)


@pytest.mark.django_db
def test_loopback_client_reads_prometheus_text(settings):
    settings.CDSS_TRUSTED_PROXIES = []
    response = _get(REMOTE_ADDR="127.0.0.1")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain; version=0.0.4")
    names = {family.name for family in text_string_to_metric_families(response.content.decode())}
    # Ours, django-prometheus's request metrics, and its database wrapper's (this backend).
    assert "cdss_login_failures" in names
    assert "django_http_requests_latency_seconds_by_view_method" in names
    assert "django_db_execute" in names


@pytest.mark.django_db
def test_ipv6_loopback_is_loopback(settings):
    settings.CDSS_TRUSTED_PROXIES = []
    assert _get(REMOTE_ADDR="::1").status_code == 200


@pytest.mark.django_db
@pytest.mark.parametrize(
    "meta",
    [
        {"REMOTE_ADDR": OUTSIDE},
        {"REMOTE_ADDR": OUTSIDE, "HTTP_AUTHORIZATION": "Bearer wrong-token-of-forty-characters-xx"},
        {"REMOTE_ADDR": OUTSIDE, "HTTP_AUTHORIZATION": TOKEN},  # no "Bearer"
        # Loopback peer, but carrying a proxy's headers: a proxy not named as trusted.
        {"REMOTE_ADDR": "127.0.0.1", "HTTP_X_FORWARDED_FOR": OUTSIDE},
        {"REMOTE_ADDR": "127.0.0.1", "HTTP_X_REAL_IP": OUTSIDE},
        # A unix-socket peer has no address: not loopback.
        {"REMOTE_ADDR": ""},
    ],
    ids=["outside", "wrong-token", "not-bearer", "forwarded-for", "real-ip", "unix-peer"],
)
def test_others_get_the_404_of_a_missing_path(settings, meta):
    settings.CDSS_TRUSTED_PROXIES = []
    settings.CDSS_METRICS_TOKEN = TOKEN
    response = _get(**meta)
    assert response.status_code == 404
    # The body of Django's own 404 for an unknown API path (config.urls handler404).
    assert json.loads(response.content) == {"error": "Not found.", "detail": {}}
    assert b"cdss_" not in response.content


@pytest.mark.django_db
def test_request_from_nginx_on_this_machine_is_not_loopback(settings):
    """nginx on 127.0.0.1 is a trusted proxy: what it forwards is whoever it serves."""
    settings.CDSS_TRUSTED_PROXIES = ["127.0.0.1"]
    assert _get(REMOTE_ADDR="127.0.0.1", HTTP_X_REAL_IP="127.0.0.1").status_code == 404
    assert _get(REMOTE_ADDR="127.0.0.1").status_code == 404
    ok = _get(REMOTE_ADDR="127.0.0.1", HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
    assert ok.status_code == 404  # no token configured yet
    settings.CDSS_METRICS_TOKEN = TOKEN
    ok = _get(REMOTE_ADDR="127.0.0.1", HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
    assert ok.status_code == 200


@pytest.mark.django_db
def test_token_opens_it_from_anywhere(settings):
    settings.CDSS_METRICS_TOKEN = TOKEN
    response = _get(REMOTE_ADDR=OUTSIDE, HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
    assert response.status_code == 200
    assert b"# HELP cdss_login_failures_total" in response.content


@pytest.mark.django_db
def test_a_short_token_opens_nothing(settings):
    """Set below the minimum (settings refuse it at start), it is ignored, not trusted."""
    settings.CDSS_METRICS_TOKEN = "short"
    response = _get(REMOTE_ADDR=OUTSIDE, HTTP_AUTHORIZATION="Bearer short")
    assert response.status_code == 404


# --- the counters move ---------------------------------------------------------------------------


@pytest.mark.django_db
def test_database_queries_are_counted_by_the_configured_backend():
    """django-prometheus's backend wraps whichever of SQLite, PostgreSQL or MySQL DATABASE_URL
    names (CDSS_METRICS_DB): its cursor counts and times every query."""
    from django.db import connection

    labels = {"alias": "default", "vendor": connection.vendor}
    executed = delta("django_db_execute_total", **labels)
    timed = delta("django_db_query_duration_seconds_count", **labels)
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        assert cursor.fetchone()[0] == 1
    assert (executed(), timed()) == (1, 1)


@pytest.mark.django_db
def test_failed_login_counts(make_client, clinician_a):
    invalid = delta("cdss_login_failures_total", reason="invalid")
    response = make_client().post(
        "/api/v1/auth/token/", {"username": clinician_a.username, "password": "wrong"}
    )
    assert response.status_code == 401
    assert invalid() == 1


@pytest.mark.django_db
def test_throttled_login_counts(make_client, clinician_a, settings):
    settings.CDSS_LOGIN_FAILURE_LIMIT = 1
    throttled = delta("cdss_login_failures_total", reason="throttled")
    client = make_client()
    for _ in range(2):
        client.post("/api/v1/auth/token/", {"username": clinician_a.username, "password": "x"})
    assert throttled() == 1


@pytest.fixture
def no_broker(monkeypatch):
    from config.celery import app

    monkeypatch.setattr(app, "send_task", lambda *args, **kwargs: None)


@pytest.mark.django_db
def test_submitted_and_completed_analysis_moves_counters_and_histograms(
    clinician_a, no_broker, django_capture_on_commit_callbacks
):
    kind = "test_patient_hold"
    submitted = delta("cdss_analyses_submitted_total", kind=kind)
    completed = delta("cdss_analyses_finished_total", kind=kind, status="completed")
    waits = delta("cdss_analysis_queue_wait_seconds_count", kind=kind)
    runs = delta("cdss_analysis_run_seconds_count", kind=kind, outcome="completed")
    run_time = delta("cdss_analysis_run_seconds_sum", kind=kind, outcome="completed")
    patient = PatientFactory(care_team=[clinician_a])
    with django_capture_on_commit_callbacks(execute=True):
        analysis = services.analysis_submit(
            user=clinician_a, kind=kind, patient=patient, inputs={"seconds": 0.05}
        )
    assert (submitted(), waits(), completed()) == (1, 0, 0)
    with django_capture_on_commit_callbacks(execute=True):
        services.analysis_execute(analysis_id=analysis.pk)
    analysis.refresh_from_db()
    assert analysis.status == Status.COMPLETED
    assert (submitted(), waits(), runs(), completed()) == (1, 1, 1, 1)
    assert run_time() >= 0.05  # the kind slept that long inside the run


@pytest.mark.django_db
def test_crash_is_retried_then_failed(
    clinician_a, no_broker, settings, django_capture_on_commit_callbacks
):
    kind = "test_crash"
    retried = delta("cdss_analysis_retries_total", kind=kind, reason="internal_error")
    failed = delta("cdss_analyses_finished_total", kind=kind, status="failed")
    failed_runs = delta("cdss_analysis_run_seconds_count", kind=kind, outcome="failed")
    settings.CDSS_JOBS_RETRY_BASE_SECONDS = 0
    settings.CDSS_JOBS_RETRY_MAX_SECONDS = 0
    with django_capture_on_commit_callbacks(execute=True):
        analysis = services.analysis_submit(user=clinician_a, kind=kind, patient=None, inputs={})
    analysis.max_attempts = 2
    analysis.save(update_fields=["max_attempts"])
    for _ in range(2):
        with django_capture_on_commit_callbacks(execute=True):
            services.analysis_execute(analysis_id=analysis.pk)
    analysis.refresh_from_db()
    assert analysis.status == Status.FAILED
    assert (retried(), failed(), failed_runs()) == (1, 1, 1)


@pytest.mark.django_db
def test_rolled_back_transition_is_not_counted(clinician_a, no_broker):
    """Outside a captured on-commit (the test's transaction never commits) nothing is counted."""
    submitted = delta("cdss_analyses_submitted_total", kind="test_hold")
    services.analysis_submit(user=clinician_a, kind="test_hold", patient=None, inputs={})
    assert submitted() == 0


def _client_with(handler: Callable[[httpx.Request], httpx.Response]) -> InferenceClient:
    client = InferenceClient("http://inference.test")
    client._http = httpx.Client(
        base_url="http://inference.test", transport=httpx.MockTransport(handler)
    )
    return client


def test_inference_calls_are_timed_per_engine_and_route():
    ok = delta(
        "cdss_inference_client_request_duration_seconds_count",
        engine="sequence",
        route="/api/v1/predict",
        outcome="2xx",
    )
    template = delta(
        "cdss_inference_client_request_duration_seconds_count",
        engine="omics",
        route="/api/v1/omics/template",
        outcome="2xx",
    )
    down = delta(
        "cdss_inference_client_request_duration_seconds_count",
        engine="server",
        route="/health",
        outcome="unavailable",
    )

    def answer(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/health":
            raise httpx.ConnectError("refused", request=request)
        if request.url.path == "/api/v1/omics/template":
            return httpx.Response(200, json={"columns": ["a"], "example": [1]})
        return httpx.Response(200, json={"prediction": {}, "model_version": "1"})

    client = _client_with(answer)
    client.predict({"sequence": "MKV"})
    client.omics_template("paad")
    with pytest.raises(InferenceUnavailable):
        client.health()
    assert (ok(), template(), down()) == (1, 1, 1)


@pytest.mark.django_db(transaction=True)
def test_websocket_gauge_follows_open_sockets(clinician_a, settings):
    from config.asgi import application

    settings.CDSS_JOBS_EVENT_RELAY = False
    gauge = delta("cdss_websocket_connections", route="ws/analyses/")

    async def scenario() -> tuple[float, float]:
        socket = WebsocketCommunicator(
            application,
            "/ws/analyses/",
            headers=[(b"origin", b"http://localhost:8000")],
            subprotocols=["cdss.bearer", str(AccessToken.for_user(clinician_a))],
        )
        connected, _ = await socket.connect(timeout=10)
        assert connected
        opened = gauge()
        await socket.disconnect()
        return opened, gauge()

    assert asyncio.run(scenario()) == (1, 0)


def test_every_metric_we_name_is_exported():
    exported = {
        metric.name + ("_total" if metric.type == "counter" else "")
        for metric in prometheus_client.REGISTRY.collect()
    }
    assert exported >= metrics.CDSS_METRIC_NAMES
