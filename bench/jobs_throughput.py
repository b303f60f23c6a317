"""Analysis jobs: enqueue-to-PROCESSING latency and throughput, on the embedded broker and Redis.

For each broker, a fresh database (SQLite file by default; ``--postgres URL`` for PostgreSQL), a
real Celery worker process (prefork, ``--concurrency`` children) and this process submitting
``pipeline_check`` analyses through the real service (``analysis_submit``: row, status event,
audit event, and the broker message sent on commit). Times come from the database: ``enqueued_at``
(set at submit) and ``started_at`` (set by the worker when the analysis becomes PROCESSING).

1. Latency under light load: ``--latency-jobs`` analyses arriving at random (Poisson, mean
   ``--latency-rate`` per second, far below capacity, so arrivals fall anywhere in the workers'
   polling cycle); p50 / p99 / max of enqueue -> PROCESSING.
2. Throughput: ``--jobs`` analyses submitted back to back; jobs per second from the first submit
   to the last completion, and the latency distribution under that burst (mostly queueing).

    .venv/bin/python bench/jobs_throughput.py                       # embedded and redis, SQLite
    .venv/bin/python bench/jobs_throughput.py --brokers redis --postgres postgres://postgres@127.0.0.1:5432/cdss

Redis must answer on 127.0.0.1:6379 (``--redis-url``). Writes bench/out/jobs_throughput.json;
results are recorded in docs/benchmarks/jobs.md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    k = max(0, min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1))))
    return ordered[k]


def summary_ms(values: list[float]) -> dict[str, float]:
    return {
        "p50_ms": round(percentile(values, 50) * 1000, 1),
        "p99_ms": round(percentile(values, 99) * 1000, 1),
        "max_ms": round(max(values) * 1000, 1),
    }


# --- the child: runs inside one configured environment ----------------------------------------


def child(jobs: int, latency_jobs: int, latency_rate: float) -> dict[str, Any]:
    import django

    django.setup()
    from django.db import connection

    from cdss.accounts.models import Role, User
    from cdss.jobs import services
    from cdss.jobs.models import Analysis, Status

    user = User.objects.create_user("bench-admin", password=uuid.uuid4().hex, role=Role.ADMIN)

    def wait_done(ids: list[int], deadline_s: float) -> None:
        deadline = time.monotonic() + deadline_s
        while Analysis.objects.filter(pk__in=ids, status=Status.COMPLETED).count() < len(ids):
            if time.monotonic() > deadline:
                raise SystemExit(f"jobs did not complete within {deadline_s} s")
            time.sleep(0.002)  # poll interval; the measured times come from the database

    def latencies(ids: list[int]) -> list[float]:
        rows = Analysis.objects.filter(pk__in=ids).values_list("enqueued_at", "started_at")
        return [
            (started - enqueued).total_seconds()
            for enqueued, started in rows
            if started is not None and enqueued is not None
        ]

    # Warm-up: the worker's first task imports and connects.
    warm = services.analysis_submit(user=user, kind="pipeline_check", patient=None, inputs={})
    wait_done([warm.pk], 60)

    arrivals = random.Random(7)
    light = []
    for _ in range(latency_jobs):
        time.sleep(arrivals.expovariate(latency_rate))  # the open-loop arrival process
        a = services.analysis_submit(user=user, kind="pipeline_check", patient=None, inputs={})
        light.append(a.pk)
    wait_done(light, 60)

    started = time.perf_counter()
    burst = [
        services.analysis_submit(user=user, kind="pipeline_check", patient=None, inputs={}).pk
        for _ in range(jobs)
    ]
    submitted_s = time.perf_counter() - started
    wait_done(burst, 600)
    rows = Analysis.objects.filter(pk__in=burst).values_list("enqueued_at", "completed_at")
    first = min(r[0] for r in rows if r[0] is not None)
    last = max(r[1] for r in rows if r[1] is not None)
    span = (last - first).total_seconds()
    return {
        "database": connection.vendor,
        "latency_light_load": {
            "jobs": latency_jobs,
            "arrivals_per_s": latency_rate,
            **summary_ms(latencies(light)),
        },
        "burst": {
            "jobs": jobs,
            "submit_per_s": round(jobs / submitted_s, 1),
            "jobs_per_s": round(jobs / span, 1),
            "wall_s": round(span, 2),
            **summary_ms(latencies(burst)),
        },
    }


# --- the parent: one environment per broker ---------------------------------------------------


def run_broker(broker: str, args: argparse.Namespace) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix=f"cdss-bench-jobs-{broker}-") as tmp:
        env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("DJANGO_", "CELERY_", "CDSS_", "REDIS_URL", "DATABASE_URL"))
        }
        env.update(
            {
                "DJANGO_SETTINGS_MODULE": "config.settings.local",
                "DJANGO_DEBUG": "false",
                "DJANGO_LOG_LEVEL": "WARNING",
                "CDSS_JOBS_QUEUE": f"analyses-bench-{uuid.uuid4().hex[:8]}",
                "CDSS_JOBS_BROKER_FILE": f"{tmp}/broker.sqlite3",
                "PYTHONPATH": str(ROOT),
            }
        )
        if args.postgres:
            import psycopg

            name = f"cdss_bench_{uuid.uuid4().hex[:10]}"
            admin = args.postgres.rsplit("/", 1)[0] + "/postgres"
            with psycopg.connect(
                admin.replace("postgres://", "postgresql://", 1), autocommit=True
            ) as c:
                c.execute(f'CREATE DATABASE "{name}"')  # type: ignore[arg-type]
            env["DATABASE_URL"] = args.postgres.rsplit("/", 1)[0] + f"/{name}"
        else:
            env["DATABASE_URL"] = f"sqlite:///{tmp}/cdss.sqlite3"
        if broker == "redis":
            env["CELERY_BROKER_URL"] = args.redis_url
            env["REDIS_URL"] = args.redis_url
        subprocess.run(
            [sys.executable, "manage.py", "migrate", "--noinput", "-v0"],
            cwd=ROOT,
            env=env,
            check=True,
        )
        worker = subprocess.Popen(
            [
                str(BIN / "celery"),
                "-A",
                "config",
                "worker",
                "-l",
                "WARNING",
                "-c",
                str(args.concurrency),
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
                "-n",
                f"bench-{broker}@%h",
            ],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=open(f"{tmp}/worker.log", "wb"),  # noqa: SIM115
        )
        try:
            done = subprocess.run(
                [
                    sys.executable,
                    __file__,
                    "--child",
                    "--jobs",
                    str(args.jobs),
                    "--latency-jobs",
                    str(args.latency_jobs),
                ],
                cwd=ROOT,
                env=env,
                capture_output=True,
                text=True,
                check=False,
            )
            if done.returncode != 0:
                log = Path(f"{tmp}/worker.log").read_text(errors="replace")[-3000:]
                raise SystemExit(f"{broker}: {done.stderr[-3000:]}\nworker:\n{log}")
            result = json.loads(done.stdout.strip().splitlines()[-1])
        finally:
            worker.terminate()
            worker.wait(timeout=60)
            if args.postgres:
                import psycopg

                with psycopg.connect(
                    admin.replace("postgres://", "postgresql://", 1), autocommit=True
                ) as c:
                    c.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')  # type: ignore[arg-type]
    return {"broker": broker, "concurrency": args.concurrency, **result}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--brokers", default="embedded,redis")
    parser.add_argument("--jobs", type=int, default=1000)
    parser.add_argument("--latency-jobs", type=int, default=200)
    parser.add_argument("--latency-rate", type=float, default=10.0)
    parser.add_argument("--concurrency", type=int, default=2)
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/0")
    parser.add_argument("--postgres", default="", help="PostgreSQL server URL (default: SQLite)")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "out" / "jobs_throughput.json")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.jobs, args.latency_jobs, args.latency_rate)))
        return
    report = {
        "machine": {
            "platform": platform.platform(),
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
        },
        "date": time.strftime("%Y-%m-%d"),
        "results": [run_broker(b.strip(), args) for b in args.brokers.split(",") if b.strip()],
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
