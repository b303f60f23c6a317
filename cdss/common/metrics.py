"""Prometheus metrics of the web backend and its workers, and the ``/metrics`` route.

Every metric CDSS defines itself lives here (``CDSS_METRIC_NAMES`` lists them for the alert-rule
test); django-prometheus adds the HTTP and database ones. Labels are kinds, statuses, engines and
URL patterns, never anything a patient could be recognised by.

Under gunicorn (several worker processes) and Celery, set ``PROMETHEUS_MULTIPROC_DIR`` to a folder
all of them share before they start: prometheus_client then keeps each process's values in files
there, and ``/metrics`` adds them up (``deploy/gunicorn.conf.py`` marks dead workers so their
gauges drop out). ``/metrics`` is not public: it answers a loopback client that came through no
proxy, or a request bearing ``Authorization: Bearer <CDSS_METRICS_TOKEN>``; anyone else gets the
same JSON 404 as a path that does not exist.
"""

from __future__ import annotations

import hmac
import logging
import os
import re
from typing import Any

import prometheus_client
from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, multiprocess
from prometheus_client.exposition import CONTENT_TYPE_PLAIN_0_0_4

from cdss.common.middleware import _from_trusted_proxy, _parse_ip

# A token shorter than this is refused at start (config.settings.base) and ignored here.
METRICS_TOKEN_MIN_LENGTH = 32

# --- analyses (cdss.jobs) -------------------------------------------------------------------------
ANALYSES_SUBMITTED = Counter(
    "cdss_analyses_submitted_total", "Analyses submitted, by kind.", ["kind"]
)
ANALYSES_FINISHED = Counter(
    "cdss_analyses_finished_total",
    "Analyses that reached an end status (completed, failed, cancelled), by kind.",
    ["kind", "status"],
)
ANALYSIS_RETRIES = Counter(
    "cdss_analysis_retries_total",
    "Analyses queued again: after a transient failure or a lost worker (the error code), or by a "
    "clinician after a failure (manual).",
    ["kind", "reason"],
)
ANALYSIS_QUEUE_WAIT = Histogram(
    "cdss_analysis_queue_wait_seconds",
    "Time from queued (or queued again) to started, by kind.",
    ["kind"],
    buckets=(0.1, 0.5, 1, 2, 5, 10, 30, 60, 120, 300, 600, 1800, 3600),
)
ANALYSIS_RUN = Histogram(
    "cdss_analysis_run_seconds",
    "Time from started to the end of the attempt, by kind and outcome (completed, failed, "
    "retried, cancelled).",
    ["kind", "outcome"],
    buckets=(0.1, 0.5, 1, 2, 5, 10, 30, 60, 120, 300, 600, 1200, 3600),
)

# --- the inference client (cdss.ml.client) -------------------------------------------------------
INFERENCE_CLIENT_LATENCY = Histogram(
    "cdss_inference_client_request_duration_seconds",
    "Calls to the inference server, by engine, route and outcome (ok or the error code).",
    ["engine", "route", "outcome"],
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600),
)

# --- accounts and WebSockets ---------------------------------------------------------------------
LOGIN_FAILURES = Counter(
    "cdss_login_failures_total",
    "Refused logins: invalid (wrong username or password) or throttled.",
    ["reason"],
)
WEBSOCKET_CONNECTIONS = Gauge(
    "cdss_websocket_connections",
    "Open WebSocket connections, by route.",
    ["route"],
    # Summed over the live worker processes; a dead worker's sockets are gone with it.
    multiprocess_mode="livesum",
)

CDSS_METRIC_NAMES = frozenset(
    {
        "cdss_analyses_submitted_total",
        "cdss_analyses_finished_total",
        "cdss_analysis_retries_total",
        "cdss_analysis_queue_wait_seconds",
        "cdss_analysis_run_seconds",
        "cdss_inference_client_request_duration_seconds",
        "cdss_login_failures_total",
        "cdss_websocket_connections",
    }
)


_lifecycle_log = logging.getLogger("cdss.jobs.lifecycle")
_ENDS = frozenset({"completed", "failed", "cancelled"})


def analysis_event_record(
    *,
    analysis_id: int,
    kind: str,
    event: str,
    attempt: int,
    queue_wait_seconds: float | None = None,
    run_seconds: float | None = None,
    error_code: str = "",
) -> None:
    """Counts one committed step of an analysis's life (queued, started, completed, failed,
    retried, cancelled) and logs its one line: ids, kind, attempt, durations and error code,
    nothing from the patient or the inputs."""
    if event == "queued":
        ANALYSES_SUBMITTED.labels(kind=kind).inc()
    elif event == "retried":
        ANALYSIS_RETRIES.labels(kind=kind, reason=error_code or "unknown").inc()
    elif event in _ENDS:
        ANALYSES_FINISHED.labels(kind=kind, status=event).inc()
    if queue_wait_seconds is not None:
        ANALYSIS_QUEUE_WAIT.labels(kind=kind).observe(queue_wait_seconds)
    if run_seconds is not None:
        ANALYSIS_RUN.labels(kind=kind, outcome=event).observe(run_seconds)
    fields: dict[str, Any] = {
        "type": "job",
        "analysis_id": analysis_id,
        "kind": kind,
        "event": event,
        "attempt": attempt,
    }
    if queue_wait_seconds is not None:
        fields["queue_wait_ms"] = round(queue_wait_seconds * 1000, 1)
    if run_seconds is not None:
        fields["duration_ms"] = round(run_seconds * 1000, 1)
    if error_code and event in ("failed", "retried"):
        fields["error_code"] = error_code
    _lifecycle_log.info(
        "analysis %s (%s) %s, attempt %s", analysis_id, kind, event, attempt, extra=fields
    )


def websocket_opened(consumer: Any, *, route: str) -> None:
    """Counts ``consumer``'s socket as open under ``route`` (call after ``accept``)."""
    WEBSOCKET_CONNECTIONS.labels(route=route).inc()
    consumer._cdss_metrics_route = route


def websocket_closed(consumer: Any) -> None:
    """Takes ``consumer``'s socket out of the gauge; only the first call counts, so every way
    out of a consumer may call it."""
    route = getattr(consumer, "_cdss_metrics_route", None)
    if route is not None:
        consumer._cdss_metrics_route = None
        WEBSOCKET_CONNECTIONS.labels(route=route).dec()


# --- the /metrics route --------------------------------------------------------------------------
# Headers a proxy adds: a request carrying one came through a proxy, wherever its peer is.
_PROXY_HEADERS = ("HTTP_X_FORWARDED_FOR", "HTTP_X_REAL_IP", "HTTP_FORWARDED")
_BEARER = re.compile(r"^Bearer\s+(\S+)\s*$")


def _loopback_client(request: HttpRequest) -> bool:
    """A client on this machine talking to the server directly (no proxy in between).

    A request from a trusted proxy (CDSS_TRUSTED_PROXIES) is never loopback, even when nginx runs
    on this machine: the client is whoever nginx serves. A unix-socket peer has no address and
    is not loopback either.
    """
    remote = request.META.get("REMOTE_ADDR")
    if not remote or _from_trusted_proxy(request):
        return False
    if any(request.META.get(name) for name in _PROXY_HEADERS):
        return False
    ip = _parse_ip(str(remote))
    return ip is not None and ip.is_loopback


def _token_matches(request: HttpRequest) -> bool:
    expected = settings.CDSS_METRICS_TOKEN
    if len(expected) < METRICS_TOKEN_MIN_LENGTH:
        return False
    match = _BEARER.match(request.META.get("HTTP_AUTHORIZATION", ""))
    if match is None:
        return False
    return hmac.compare_digest(match.group(1).encode(), expected.encode())


def metrics_allowed(request: HttpRequest) -> bool:
    return _loopback_client(request) or _token_matches(request)


def multiprocess_dir() -> str | None:
    """PROMETHEUS_MULTIPROC_DIR, as prometheus_client itself reads it (at import)."""
    return os.environ.get("PROMETHEUS_MULTIPROC_DIR") or None


def exposition() -> bytes:
    """The Prometheus text of this process, or of every process sharing the multiprocess dir."""
    path = multiprocess_dir()
    if path:
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry, path=path)
        return prometheus_client.generate_latest(registry)
    return prometheus_client.generate_latest(prometheus_client.REGISTRY)


@csrf_exempt  # only GET is served; a POST from outside gets the same 404 as any other request
def metrics_view(request: HttpRequest) -> HttpResponse:
    """``GET /metrics`` for Prometheus; a 404 like any unknown path for everyone else."""
    # Imported here: this module is imported by processes that never set up Django's apps.
    from cdss.common.exceptions import error_body

    if not metrics_allowed(request):
        return JsonResponse(error_body(404, "Not found."), status=404)
    if request.method not in ("GET", "HEAD"):
        return JsonResponse(
            error_body(405, f'Method "{request.method}" not allowed.'),
            status=405,
            headers={"Allow": "GET, HEAD"},
        )
    # The classic text format (0.0.4): what generate_latest writes with its default escaping,
    # and what every Prometheus version, 2.x included, reads.
    return HttpResponse(exposition(), content_type=CONTENT_TYPE_PLAIN_0_0_4)
