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
Every setting can be changed through the environment.
"""

from __future__ import annotations

import os

_cpus = os.cpu_count() or 1
_host = os.environ.get("CDSS_INFERENCE_HOST", "127.0.0.1")
_port = os.environ.get("CDSS_INFERENCE_PORT", "9000")

bind = f"{_host}:{_port}"
workers = int(os.environ.get("CDSS_INFERENCE_WORKERS", str(_cpus)))
worker_class = os.environ.get("CDSS_INFERENCE_WORKER_CLASS", "gthread")
threads = int(os.environ.get("CDSS_INFERENCE_THREADS", "4"))  # gthread only
timeout = int(os.environ.get("CDSS_INFERENCE_TIMEOUT", "300"))
graceful_timeout = 30
keepalive = int(os.environ.get("CDSS_INFERENCE_KEEPALIVE", "5"))  # gthread only
preload_app = False
accesslog = "-"
# The default format plus the request id every response carries (X-Request-ID), to find a 5xx.
access_log_format = (
    '%(h)s %(l)s %(u)s %(t)s "%(r)s" %(s)s %(b)s "%(f)s" "%(a)s" rid=%({x-request-id}o)s'
)
errorlog = "-"
loglevel = os.environ.get("CDSS_INFERENCE_LOG_LEVEL", "info")

# Set before the workers import numpy/torch: one compute thread per worker process.
for _name in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
    os.environ.setdefault(_name, "1")
