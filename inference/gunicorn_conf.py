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

from inference.config import GunicornSettings, InferenceConfig

_config = InferenceConfig.from_env()
_settings = GunicornSettings.from_env()

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
