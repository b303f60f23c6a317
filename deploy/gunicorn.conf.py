"""Gunicorn settings for the CDSS web process (HTTP and WebSockets through Uvicorn workers).

Started by deploy/systemd/cdss-web.service:
    gunicorn -c deploy/gunicorn.conf.py config.asgi:application
Nginx (deploy/nginx/cdss.conf) is the only client: it terminates HTTPS and proxies to the socket.
"""

import multiprocessing
import os
from typing import Any

from prometheus_client import multiprocess

bind = [os.environ.get("CDSS_WEB_BIND", "unix:/run/cdss/web.sock")]
# Optional: a loopback TCP listener for Prometheus on this machine (nginx refuses /metrics), e.g.
# 127.0.0.1:8001. Nothing behind it is trusted as a proxy, and production redirects every path but
# /healthz, /readyz and /metrics to HTTPS, so it serves those three only. Loopback or refused.
_metrics_bind = os.environ.get("CDSS_WEB_METRICS_BIND", "")
if _metrics_bind:
    if _metrics_bind.rsplit(":", 1)[0].strip("[]") not in ("127.0.0.1", "::1", "localhost"):
        raise RuntimeError(f"CDSS_WEB_METRICS_BIND must be a loopback address, not {_metrics_bind}")
    bind.append(_metrics_bind)
# The socket is for nginx (in the cdss group) only: Django trusts its forwarded headers
# (CDSS_TRUSTED_PROXIES=unix), so no other local user may connect to it.
umask = 0o007
# ASGI workers: each holds many WebSockets; two per core is plenty for a hospital.
worker_class = os.environ.get("CDSS_WEB_WORKER_CLASS", "uvicorn.workers.UvicornWorker")
workers = int(os.environ.get("CDSS_WEB_WORKERS", multiprocessing.cpu_count() * 2))
# Long enough for the largest upload to be read; WebSockets are not subject to it.
timeout = int(os.environ.get("CDSS_WEB_TIMEOUT", "120"))
graceful_timeout = 30
keepalive = 5
# Restart workers now and then so a slow leak cannot grow without bound.
max_requests = 5000
max_requests_jitter = 500
# Nginx on the same host sets X-Forwarded-Proto and X-Real-IP; trust them only from it.
forwarded_allow_ips = "127.0.0.1,::1"
accesslog = None  # nginx keeps the access log; Django logs one line per request without queries
errorlog = "-"
loglevel = os.environ.get("DJANGO_LOG_LEVEL", "info").lower()


# Metrics (cdss.common.metrics): with PROMETHEUS_MULTIPROC_DIR set, each worker keeps its values in
# files there. A worker that exits takes its live gauges (open WebSockets) with it; at start, the
# files of processes that no longer run are folded into one archive per type (totals unchanged,
# scrapes stay fast) and their live gauges dropped (cdss.common.metrics_files).
def on_starting(server: Any) -> None:
    path = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if path:
        from cdss.common.metrics_files import prepare

        prepare(path)


def child_exit(server: Any, worker: Any) -> None:
    path = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if path:
        multiprocess.mark_process_dead(worker.pid, path)
