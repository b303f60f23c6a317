"""Metrics under several processes (gunicorn workers, Celery workers) sharing
PROMETHEUS_MULTIPROC_DIR: /metrics adds up every process's values, a dead worker's live gauges
drop out (gunicorn's child_exit and on_starting hooks), its counters stay; and the settings
refuse a metrics token too short to be a secret.

Each process is a real Python subprocess: prometheus_client picks its multiprocess mode when it
is first imported, so the test process itself (single-process mode) cannot play one.
"""

from __future__ import annotations

import os
import runpy
import subprocess
import sys
from pathlib import Path

from prometheus_client.parser import text_string_to_metric_families

from config.settings.base import BASE_DIR

_SETUP = "import os, sys\nimport django\ndjango.setup()\n"

# One "worker": counts n failed logins, opens n sockets, observes a queue wait of n seconds.
_WORKER = (
    "import os, sys\n"
    "from cdss.common import metrics\n"
    "n = int(sys.argv[1])\n"
    "metrics.LOGIN_FAILURES.labels(reason='invalid').inc(n)\n"
    "metrics.WEBSOCKET_CONNECTIONS.labels(route='ws/analyses/').inc(n)\n"
    "metrics.ANALYSIS_QUEUE_WAIT.labels(kind='k').observe(n)\n"
    "print(os.getpid())\n"
)

# The scrape: GET /metrics through Django, as Prometheus on this machine would.
_SCRAPE = _SETUP + (
    "from django.test import Client\n"
    "response = Client().get('/metrics', REMOTE_ADDR='127.0.0.1', HTTP_HOST='127.0.0.1')\n"
    "assert response.status_code == 200, response.status_code\n"
    "sys.stdout.write(response.content.decode())\n"
)


def _env(**extra: str) -> dict[str, str]:
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.test"}
    env.pop("CDSS_METRICS_TOKEN", None)
    env.update(extra)
    return env


def _python(code: str, *args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", code, *args],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def _scrape(env: dict[str, str]) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    done = _python(_SCRAPE, env=env)
    assert done.returncode == 0, done.stderr
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(done.stdout)
        for s in family.samples
    }


def test_scrape_adds_up_every_process_and_forgets_dead_gauges(tmp_path: Path) -> None:
    env = _env(PROMETHEUS_MULTIPROC_DIR=str(tmp_path))
    pids = []
    for n in ("2", "3"):
        done = _python(_WORKER, n, env=env)
        assert done.returncode == 0, done.stderr
        pids.append(int(done.stdout.strip()))
    assert {p.name.split("_")[0] for p in tmp_path.iterdir()} >= {"counter", "histogram", "gauge"}

    values = _scrape(env)
    failures = ("cdss_login_failures_total", (("reason", "invalid"),))
    sockets = ("cdss_websocket_connections", (("route", "ws/analyses/"),))
    assert values[failures] == 5
    assert values[sockets] == 5
    assert values[("cdss_analysis_queue_wait_seconds_count", (("kind", "k"),))] == 2
    assert values[("cdss_analysis_queue_wait_seconds_sum", (("kind", "k"),))] == 5

    # gunicorn's child_exit for the first worker: its sockets are gone, its counts are not.
    hooks = runpy.run_path(str(BASE_DIR / "deploy" / "gunicorn.conf.py"))
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(tmp_path)
    try:
        hooks["child_exit"](None, type("Worker", (), {"pid": pids[0]})())
        values = _scrape(env)
        assert (values[failures], values[sockets]) == (5, 3)
        # A restart after a crash: on_starting drops the live gauges of processes that are gone.
        hooks["on_starting"](None)
    finally:
        del os.environ["PROMETHEUS_MULTIPROC_DIR"]
    # ... and folds the dead processes' counts into one archive per type (the scrapes above left
    # files of their own, folded too): the same totals from fewer files.
    left = sorted(p.name for p in tmp_path.iterdir())
    assert left == ["counter_archive.db", "histogram_archive.db"], left
    values = _scrape(env)
    assert values[failures] == 5
    assert values.get(sockets, 0) == 0
    assert values[("cdss_analysis_queue_wait_seconds_sum", (("kind", "k"),))] == 5


def test_compaction_keeps_live_processes_and_adds_up(tmp_path: Path) -> None:
    """Folding twice (two restarts) adds to the archive; a running process's files stay."""
    from cdss.common.metrics_files import compact_dead_processes

    env = _env(PROMETHEUS_MULTIPROC_DIR=str(tmp_path))
    for n in ("2", "3"):
        assert _python(_WORKER, n, env=env).returncode == 0
    assert compact_dead_processes(tmp_path) == 4  # a counter and a histogram file each
    assert _python(_WORKER, "4", env=env).returncode == 0
    own = tmp_path / f"counter_{os.getpid()}.db"
    (tmp_path / "counter_archive.db").replace(own)  # as if this running process had written it
    assert compact_dead_processes(tmp_path) == 2
    assert own.exists()
    own.replace(tmp_path / "counter_old.db")  # not a pid: never folded, still read
    values = _scrape(env)
    assert values[("cdss_login_failures_total", (("reason", "invalid"),))] == 9
    assert values[("cdss_analysis_queue_wait_seconds_count", (("kind", "k"),))] == 3


def test_settings_refuse_a_short_metrics_token() -> None:
    check = "import django; django.setup()"
    short = _python(check, env=_env(CDSS_METRICS_TOKEN="not-secret-enough"))
    assert short.returncode != 0
    assert "CDSS_METRICS_TOKEN must be a random value of 32 characters or more" in short.stderr
    long_enough = _python(check, env=_env(CDSS_METRICS_TOKEN="x" * 32))
    assert long_enough.returncode == 0, long_enough.stderr
