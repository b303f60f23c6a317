"""Gunicorn settings for the inference server in production.

Run: ``gunicorn -c inference/gunicorn_conf.py 'inference.app:create_app()'`` (or
``python -m inference --gunicorn``). Each worker builds the app and loads the models once; the app
is not preloaded in the master, because forking after torch/OpenMP have started threads is unsafe.

Predictions are CPU-bound: one worker per core, each with one BLAS/OpenMP thread. Workers are
``gthread`` with 4 threads so that /health, /ready and model-info still answer while a worker runs
a long batch (a ``sync`` worker would hold them until the batch ends). On the 2-core machine,
``sync`` workers (CDSS_INFERENCE_WORKER_CLASS=sync) gave the same p99 at 8 clients within the noise
(docs/benchmarks/inference.md). ``timeout`` bounds a stuck worker; the seed's clients give up on a
batch after 60 s anyway.
Every setting can be changed through the environment: the bind address through
``InferenceConfig``, the rest through ``GunicornSettings`` (both in ``inference.config``).
"""

from __future__ import annotations

import os
from typing import Any

from inference.config import GunicornSettings, InferenceConfig, use_metrics_dir

_config = InferenceConfig.from_env()
_settings = GunicornSettings.from_env()
# Metrics: the workers share CDSS_INFERENCE_METRICS_DIR (never the web server's folder); set before
# prometheus_client is first imported, here in the master, since it reads the variable then.
use_metrics_dir(_config)
from prometheus_client import multiprocess  # noqa: E402 - after use_metrics_dir, on purpose

bind = f"{_config.host}:{_config.port}"
workers = _settings.workers
worker_class = _settings.worker_class
threads = _settings.threads  # gthread only
timeout = _settings.timeout
graceful_timeout = 30
keepalive = _settings.keepalive  # gthread only
preload_app = False
accesslog = "-"
# The default format plus the request id every response carries (X-Request-ID), to find a 5xx.
access_log_format = (
    '%(h)s %(l)s %(u)s %(t)s "%(r)s" %(s)s %(b)s "%(f)s" "%(a)s" rid=%({x-request-id}o)s'
)
errorlog = "-"
loglevel = _settings.log_level

# Set before the workers import numpy/torch: one compute thread per worker process (the native
# libraries read these; an operator's own value is kept).
for _name in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
    os.environ.setdefault(_name, "1")


# Metrics (inference.metrics): with CDSS_INFERENCE_METRICS_DIR set, each worker keeps its values in
# files there. A worker that exits takes its live gauges (model
# versions, memory) with it; at start, the live gauges of processes that no longer run go too (a
# server killed before these hooks ran). Counters of dead workers stay: totals never go back.
def on_starting(server: Any) -> None:
    path = _config.metrics_dir
    if path is None:
        return
    path.mkdir(parents=True, exist_ok=True)
    for name in path.glob("gauge_live*_*.db"):
        pid = name.stem.rsplit("_", 1)[-1]
        if pid.isdigit() and not _running(int(pid)):
            multiprocess.mark_process_dead(int(pid), str(path))


def child_exit(server: Any, worker: Any) -> None:
    if _config.metrics_dir is not None:
        multiprocess.mark_process_dead(worker.pid, str(_config.metrics_dir))


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process: it runs
        return True
    return True
