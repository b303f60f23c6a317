"""Prometheus metrics of the inference server and its ``GET /metrics`` route.

Requests by route pattern, method and status; latency by route and engine; the model version
each engine serves (``cdss_inference_model_info{engine,version} 1``); and each worker's resident
memory. Under gunicorn (``inference/gunicorn_conf.py``) the workers share their values through
``CDSS_INFERENCE_METRICS_DIR`` (``InferenceConfig.metrics_dir``, a folder of its own, never the web
server's) and one scrape adds them up.

``/metrics`` answers a loopback client that came through no proxy, or a request bearing
``Authorization: Bearer <CDSS_METRICS_TOKEN>``; anyone else gets the 404 of a path that does not
exist. Nothing here reads request bodies: labels are route patterns and engine names only.
"""

from __future__ import annotations

import hmac
import ipaddress
import os
import re
import time
from typing import Any

import prometheus_client
from flask import Flask, Response, g, request
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, multiprocess
from prometheus_client.exposition import CONTENT_TYPE_PLAIN_0_0_4
from werkzeug.exceptions import NotFound

from inference.api import server_state
from inference.config import METRICS_TOKEN_MIN_LENGTH
from inference.engines import ENGINES
from inference.state import EXTENSION_KEY

REQUESTS = Counter(
    "cdss_inference_requests_total",
    "Requests answered, by route pattern, method and status.",
    ["route", "method", "status"],
)
LATENCY = Histogram(
    "cdss_inference_request_duration_seconds",
    "Time to answer a request, by route pattern and engine (- for the server's own routes).",
    ["route", "engine"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600),
)
MODEL_INFO = Gauge(
    "cdss_inference_model_info",
    "1 for the model version each engine serves (0 for one it served before).",
    ["engine", "version"],
    # The highest over live workers: a version any worker serves shows as 1.
    multiprocess_mode="livemax",
)
MEMORY = Gauge(
    "cdss_inference_process_resident_memory_bytes",
    "Resident memory of each worker process, as of its latest request.",
    # One series per live worker (a pid label in multiprocess mode).
    multiprocess_mode="liveall",
)

METRIC_NAMES = frozenset(
    {
        "cdss_inference_requests_total",
        "cdss_inference_request_duration_seconds",
        "cdss_inference_model_info",
        "cdss_inference_process_resident_memory_bytes",
    }
)

_PROXY_HEADERS = ("HTTP_X_FORWARDED_FOR", "HTTP_X_REAL_IP", "HTTP_FORWARDED")
_BEARER = re.compile(r"^Bearer\s+(\S+)\s*$")
_PAGE_SIZE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096


def _allowed() -> bool:
    """A loopback peer that sent no proxy header, or the configured bearer token."""
    remote = str(request.environ.get("REMOTE_ADDR") or "")
    if remote and not any(request.environ.get(h) for h in _PROXY_HEADERS):
        try:
            if ipaddress.ip_address(remote).is_loopback:
                return True
        except ValueError:
            pass
    expected = server_state().config.metrics_token
    match = _BEARER.match(request.headers.get("Authorization", ""))
    return (
        len(expected) >= METRICS_TOKEN_MIN_LENGTH
        and match is not None
        and hmac.compare_digest(match.group(1).encode(), expected.encode())
    )


def metrics() -> Response:
    """``GET /metrics``: the Prometheus text of this worker, or of every worker sharing the
    multiprocess folder."""
    if not _allowed():
        raise NotFound()
    _observe_memory()
    path = server_state().config.metrics_dir
    if path is not None:
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry, path=str(path))
        body = prometheus_client.generate_latest(registry)
    else:
        body = prometheus_client.generate_latest(prometheus_client.REGISTRY)
    return Response(body, content_type=CONTENT_TYPE_PLAIN_0_0_4)


def _observe_memory() -> None:
    try:
        with open("/proc/self/statm", "rb") as statm:
            resident_pages = int(statm.read().split()[1])
    except (OSError, ValueError, IndexError):  # not Linux: the gauge stays unset
        return
    MEMORY.set(resident_pages * _PAGE_SIZE)


def _engine_of(blueprint: str | None) -> str:
    return blueprint if blueprint is not None and blueprint in ENGINES else "-"


def install(app: Flask) -> None:
    """Adds ``/metrics`` and the hooks that time and count every request of ``app``. A route of
    the app itself, not a blueprint: blueprints are the server's concerns and its engines."""
    app.add_url_rule("/metrics", "metrics", metrics, methods=["GET"])
    served: dict[str, str | None] = {}

    def publish_versions() -> None:
        registry = app.extensions[EXTENSION_KEY].registry
        for engine in registry.kinds:
            version = registry.version(engine)
            if served.get(engine) != version:
                old = served.get(engine)
                if old is not None:
                    MODEL_INFO.labels(engine=engine, version=old).set(0)
                if version is not None:
                    MODEL_INFO.labels(engine=engine, version=version).set(1)
                served[engine] = version

    publish_versions()

    @app.before_request
    def start_timer() -> None:
        g.cdss_metrics_started = time.perf_counter()

    @app.after_request
    def count(response: Any) -> Any:
        started = g.get("cdss_metrics_started")
        # The pattern, never the path (a structure's PDB id); unknown paths share one label.
        route = request.url_rule.rule if request.url_rule is not None else "<unmatched>"
        REQUESTS.labels(route=route, method=request.method, status=str(response.status_code)).inc()
        if started is not None:
            LATENCY.labels(route=route, engine=_engine_of(request.blueprint)).observe(
                time.perf_counter() - started
            )
        # After the app's own before_request picked up any newly promoted version.
        publish_versions()
        _observe_memory()
        return response
