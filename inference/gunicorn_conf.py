"""Gunicorn settings for the inference server in production.

Run: ``gunicorn -c inference/gunicorn_conf.py 'inference.app:create_app()'`` (or
``python -m inference --gunicorn``). Each worker builds the app and loads the models once; the app
is not preloaded in the master, because forking after torch/OpenMP have started threads is unsafe.
Workers default to the CPU count (the model code is CPU-bound; one BLAS/OpenMP thread per worker
avoids oversubscribing the cores), each with a few threads so a slow request does not block /health.
"""

from __future__ import annotations

import os

_cpus = os.cpu_count() or 1

_host = os.environ.get("CDSS_INFERENCE_HOST", "127.0.0.1")
_port = os.environ.get("CDSS_INFERENCE_PORT", "9000")
bind = f"{_host}:{_port}"
workers = int(os.environ.get("CDSS_INFERENCE_WORKERS", str(_cpus)))
worker_class = "gthread"
threads = int(os.environ.get("CDSS_INFERENCE_THREADS", "4"))
# Model loading happens at worker start; give it time before the arbiter calls the worker dead.
timeout = 120
graceful_timeout = 30
keepalive = 5
preload_app = False
accesslog = "-"
errorlog = "-"
loglevel = os.environ.get("CDSS_INFERENCE_LOG_LEVEL", "info")

# Set before the workers import numpy/torch: one compute thread per worker process.
for _name in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
    os.environ.setdefault(_name, "1")
