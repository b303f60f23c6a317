"""What the metrics cost: per request, and per scrape of a multiprocess folder as it grows.

1. Per request: ``GET /readyz`` (one database query) through Django's test client, in a fresh
   process per setting: metrics off (no django-prometheus middleware, Django's own SQLite backend),
   metrics on in one process (the default), and on in multiprocess mode (values in mmap files).
2. Per scrape: a real web process writes its values to a multiprocess folder (requests, database
   queries, analyses of five kinds); its files are then copied under N process ids, as N worker
   processes that came and went would leave them, and ``cdss.common.metrics.exposition()`` (what
   ``/metrics`` returns) is timed for each N.

Writes docs/benchmarks/metrics.md.

    .venv/bin/python bench/metrics_scrape.py [--requests 2000] [--scrapes 10]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

OUT = ROOT / "docs" / "benchmarks" / "metrics.md"

# A child process: times n GETs of /readyz; with "write", also leaves realistic metric files.
_CHILD = """
import json, os, statistics, sys, time
import django
django.setup()
from django.conf import settings
from django.test import Client
n, write = int(sys.argv[1]), sys.argv[2] == "write"
if os.environ.get("BENCH_WITHOUT_METRICS_MIDDLEWARE"):
    # Before the client builds its handler: the middleware chain is read then.
    settings.MIDDLEWARE = [m for m in settings.MIDDLEWARE if "prometheus" not in m]
client = Client()
for _ in range(50):  # warm-up: connections, URL resolver, first metric children
    client.get("/readyz", HTTP_HOST="127.0.0.1")
times = []
for _ in range(n):
    started = time.perf_counter()
    response = client.get("/readyz", HTTP_HOST="127.0.0.1")
    times.append(time.perf_counter() - started)
    assert response.status_code == 200
if write:
    from cdss.common import metrics
    for kind in ("sequence", "omics", "ct", "interpretation", "report"):
        for status in ("completed", "failed", "cancelled"):
            metrics.ANALYSES_FINISHED.labels(kind=kind, status=status).inc()
        metrics.ANALYSIS_QUEUE_WAIT.labels(kind=kind).observe(0.5)
        metrics.ANALYSIS_RUN.labels(kind=kind, outcome="completed").observe(3)
    for route in ("/api/v1/predict", "/api/v1/omics/predict", "/api/v1/imaging/ct"):
        metrics.INFERENCE_CLIENT_LATENCY.labels(engine="x", route=route, outcome="2xx").observe(1)
    client.get("/healthz", HTTP_HOST="127.0.0.1")
    client.get("/api/v1/patients/", HTTP_HOST="127.0.0.1")
times.sort()
print(json.dumps({
    "median_us": statistics.median(times) * 1e6,
    "p95_us": times[int(len(times) * 0.95)] * 1e6,
    "engine": settings.DATABASES["default"]["ENGINE"],
    "middleware": [m for m in settings.MIDDLEWARE if "prometheus" in m],
}))
"""


def _child(
    n: int, *, env: dict[str, str], write: bool = False, cwd: Path = ROOT
) -> dict[str, object]:
    done = subprocess.run(
        [sys.executable, "-c", _CHILD, str(n), "write" if write else "time"],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=1200,
        check=False,
    )
    if done.returncode != 0:
        raise SystemExit(done.stderr)
    result: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def per_request(n: int, scratch: Path) -> list[tuple[str, dict[str, object]]]:
    base = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "DATABASE_URL": f"sqlite:///{scratch / 'bench.sqlite3'}",
    }
    base.pop("PROMETHEUS_MULTIPROC_DIR", None)
    off = {**base, "CDSS_METRICS_DB": "false", "BENCH_WITHOUT_METRICS_MIDDLEWARE": "1"}
    multi = {**base, "PROMETHEUS_MULTIPROC_DIR": str(scratch / "multi")}
    rows = []
    for name, env in (("off", off), ("on, one process", base), ("on, multiprocess", multi)):
        rows.append((name, _child(n, env=env)))
    return rows


def per_scrape(scrapes: int, scratch: Path, counts: list[int]) -> list[tuple[int, int, float]]:
    source = scratch / "source"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "DATABASE_URL": f"sqlite:///{scratch / 'bench.sqlite3'}",
        "PROMETHEUS_MULTIPROC_DIR": str(source),
    }
    _child(200, env=env, write=True)
    files = sorted(source.glob("*.db"))
    from cdss.common.metrics import exposition

    rows = []
    for count in counts:
        folder = scratch / f"scrape-{count}"
        folder.mkdir()
        for pid in range(100000, 100000 + count):
            for file in files:
                kind = file.name.rsplit("_", 1)[0]
                shutil.copyfile(file, folder / f"{kind}_{pid}.db")
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(folder)
        try:
            exposition()  # warm-up
            times = []
            for _ in range(scrapes):
                started = time.perf_counter()
                body = exposition()
                times.append(time.perf_counter() - started)
        finally:
            del os.environ["PROMETHEUS_MULTIPROC_DIR"]
        rows.append((count, len(body), statistics.median(times) * 1000))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--scrapes", type=int, default=10)
    args = parser.parse_args()
    counts = [1, 10, 100, 500]
    with tempfile.TemporaryDirectory(prefix="cdss-metrics-bench-") as tmp:
        scratch = Path(tmp)
        request_rows = per_request(args.requests, scratch)
        scrape_rows = per_scrape(args.scrapes, scratch, counts)
    lines = [
        "# Metrics: cost per request and per scrape",
        "",
        f"`bench/metrics_scrape.py`, {date.today().isoformat()}, {platform.machine()}, "
        f"{os.cpu_count()} cores, Python {platform.python_version()}, SQLite. "
        "Django's test client in one process (no HTTP server): the cost of the metrics "
        f"themselves. Load average at the end: {os.getloadavg()[0]:.1f} (other jobs shared "
        "the cores: medians are the figures to read, p95s mostly show the sharing).",
        "",
        f"## Per request: `GET /readyz` (one database query), {args.requests} requests after "
        "50 warm-up",
        "",
        "| metrics | median | p95 | backend |",
        "| --- | --- | --- | --- |",
    ]
    for name, row in request_rows:
        lines.append(
            f"| {name} | {row['median_us']:.0f} us | {row['p95_us']:.0f} us | `{row['engine']}` |"
        )
    lines += [
        "",
        "## Per scrape: `/metrics` body from a multiprocess folder, by processes that wrote to it",
        "",
        f"Median of {args.scrapes} scrapes (after one warm-up). Each process's files are a copy "
        "of one real web process's (requests, queries, analyses of five kinds, inference calls).",
        "",
        "| processes | body | median scrape |",
        "| --- | --- | --- |",
    ]
    for count, size, millis in scrape_rows:
        lines.append(f"| {count} | {size / 1024:.0f} KiB | {millis:.1f} ms |")
    OUT.write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
