"""Load test: 50 clinicians for 5 minutes against the whole stack, reads and predictions mixed.

Starts what ``make run`` starts, on a fresh PostgreSQL database (``cdss_bench_load``, created and
dropped) with Redis as the Celery broker, in a temporary folder and on ports 8670 (web) and 8671
(inference): the web server (Uvicorn, ``--web-workers`` processes), the inference server
(gunicorn, 2 workers, as in production), a Celery worker (threads pool, 2, as the Procfile) and
beat. It seeds ``--users`` clinicians with 10 patients each (each patient shared with one other
clinician), queues one small sequence batch analysis for 3 of each user's patients through the
API and waits for them to complete (so results exist to read), then runs Locust headless
(``bench/_locustfile.py``): ``--users`` users, one more each second (a login costs a PBKDF2 run:
50 at once would hold both cores for most of a minute), for ``--duration`` seconds from the
first. Every user signs in once, then reads (patient list and search, patient, analyses,
analysis, result, prediction history) and writes (single predictions through
``/ml/v1/predict/``, FASTA batches queued as analyses) with 1-3 s of think time.

Reported: requests, errors (goal 0), throughput, p50 / p95 / p99 of all reads (goal: p95 under
300 ms), of all writes and of sign-ins, per request name, the 1-minute load average at the start and
the end, and how many queued batches completed.

    .venv/bin/python bench/load.py                          # 50 users, 300 s
    .venv/bin/python bench/load.py --users 10 --duration 30 # a quick check

Writes bench/out/load.json; recorded in docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import secrets
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path[0] = str(ROOT)  # imports from the repository root (bench.*)

from bench._proc import percentile  # noqa: E402

BIN = Path(sys.executable).parent
WEB_PORT, INFERENCE_PORT = 8670, 8671
PG_URL = "postgres://postgres@127.0.0.1:5432/cdss_bench_load"
REDIS_URL = "redis://127.0.0.1:6379/0"
PATIENTS_PER_USER = 10
# Patients per user given a completed analysis before the run (the rest start without any).
SEEDED_PER_USER = 3
AMINO = set("ACDEFGHIKLMNPQRSTVWY")

SEED = """
import json, os
from cdss.accounts.models import Role, User
from cdss.patients.models import Patient
spec = json.loads(open(os.environ["CDSS_LOAD_USERS"]).read())
users = [User.objects.create_user(n, password=spec["password"], role=Role.CLINICIAN)
         for n in spec["usernames"][:1]]
# One hash for all: each create_user would spend a PBKDF2 run on the same password.
users += User.objects.bulk_create(
    User(username=n, password=users[0].password, role=Role.CLINICIAN)
    for n in spec["usernames"][1:])
per = int(os.environ["CDSS_LOAD_PATIENTS_PER_USER"])
for i, user in enumerate(users):
    for j in range(per):
        p = Patient.objects.create(
            mrn=f"LOAD{i:03d}{j:03d}", name=f"Load Patient {i:03d}-{j:03d}", created_by=user)
        p.care_team.add(user, users[(i + 1) % len(users)])
"""


def real_proteins(limit: int = 400) -> list[str]:
    """Real viral proteins of 50-1,000 residues from the shared datasets (the users send these)."""
    datasets = Path(os.environ.get("CDSS_DATASETS_DIR") or ROOT.parent / "shared" / "datasets")
    found: list[str] = []
    chunks: list[str] = []
    with (datasets / "sequences" / "viral_nextclade" / "viral_proteins.fasta").open() as handle:
        for line in [*handle, ">"]:
            line = line.strip()
            if line.startswith(">"):
                seq = "".join(chunks)
                if 50 <= len(seq) <= 1000 and set(seq) <= AMINO:
                    found.append(seq)
                    if len(found) >= limit:
                        break
                chunks = []
            else:
                chunks.append(line)
    return found


def summary(samples: list[tuple[str, str, float, bool]], seconds: float) -> dict[str, Any]:
    times = [s[2] for s in samples]
    return {
        "requests": len(samples),
        "errors": sum(1 for s in samples if not s[3]),
        "per_s": round(len(samples) / seconds, 1),
        "p50_ms": round(percentile(times, 50), 1),
        "p95_ms": round(percentile(times, 95), 1),
        "p99_ms": round(percentile(times, 99), 1),
        "max_ms": round(max(times), 1) if times else float("nan"),
    }


def pg(sql: str) -> None:
    import psycopg

    admin = PG_URL.rsplit("/", 1)[0].replace("postgres://", "postgresql://", 1) + "/postgres"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(sql)  # type: ignore[arg-type]


def environment(tmp: Path) -> dict[str, str]:
    # Nothing of the caller's own configuration leaks in (as scripts/e2e_stack.py).
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("DJANGO_", "CELERY_", "CDSS_", "JWT_", "REDIS_URL", "DATABASE_URL"))
    }
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "config.settings.local",
            "DJANGO_SECRET_KEY": secrets.token_urlsafe(64),
            "DJANGO_LOG_LEVEL": "WARNING",
            "DATABASE_URL": PG_URL,
            # 0, as deploy/cdss.env.example now says: under ASGI each request's sync code runs in
            # a thread of its own, and a kept connection stays with that thread; with 60, 50 users
            # held 84 connections within a minute and PostgreSQL refused more ("too many clients").
            "DATABASE_CONN_MAX_AGE": "0",
            "CELERY_BROKER_URL": REDIS_URL,
            # A queue of this run's own: other stacks may share this Redis.
            "CDSS_JOBS_QUEUE": f"analyses-load-{secrets.token_hex(4)}",
            "CDSS_MEDIA_ROOT": str(tmp / "media"),
            "DJANGO_STATIC_ROOT": str(tmp / "static"),
            "CDSS_INFERENCE_URL": f"http://127.0.0.1:{INFERENCE_PORT}",
            "CDSS_INFERENCE_HOST": "127.0.0.1",
            "CDSS_INFERENCE_PORT": str(INFERENCE_PORT),
            "CDSS_INFERENCE_WORKERS": "2",
            "CDSS_RUNTIME_MODELS_DIR": str(tmp / "models"),
            "PYTHONPATH": str(ROOT),
            "PYTHONUNBUFFERED": "1",
        }
    )
    return env


@contextlib.contextmanager
def stack(tmp: Path, env: dict[str, str], web_workers: int) -> Iterator[None]:
    """The four processes of the Procfile; stopped (SIGTERM, then SIGKILL) on the way out."""
    commands = {
        "web": [
            str(BIN / "uvicorn"),
            "config.asgi:application",
            "--host",
            "127.0.0.1",
            "--port",
            str(WEB_PORT),
            "--workers",
            str(web_workers),
            "--no-access-log",
        ],
        "inference": [sys.executable, "-m", "inference", "--gunicorn"],
        "worker": [
            str(BIN / "celery"),
            "-A",
            "config",
            "worker",
            "--loglevel",
            "WARNING",
            "--pool",
            "threads",
            "--concurrency",
            "2",
            "--without-gossip",
            "--without-mingle",
        ],
        "beat": [
            str(BIN / "celery"),
            "-A",
            "config",
            "beat",
            "--loglevel",
            "WARNING",
            "-s",
            str(tmp / "beat-schedule"),
        ],
    }
    logs: list[IO[bytes]] = []
    processes: dict[str, subprocess.Popen[bytes]] = {}
    try:
        for name, argv in commands.items():
            log = open(tmp / f"{name}.log", "wb")  # noqa: SIM115 - closed below
            logs.append(log)
            processes[name] = subprocess.Popen(
                argv, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT
            )
        deadline = time.monotonic() + 240
        for url in (
            f"http://127.0.0.1:{INFERENCE_PORT}/ready",
            f"http://127.0.0.1:{WEB_PORT}/readyz",
        ):
            while True:
                with contextlib.suppress(httpx.HTTPError):
                    if httpx.get(url, timeout=5).status_code == 200:
                        break
                dead = [n for n, p in processes.items() if p.poll() is not None]
                if dead or time.monotonic() > deadline:
                    raise SystemExit(
                        f"the stack did not start ({dead or url}):\n"
                        + (tmp / f"{(dead or ['web'])[0]}.log").read_text()[-3000:]
                    )
                time.sleep(0.5)  # poll interval while the processes start
        yield
    finally:
        for process in processes.values():
            process.terminate()
        for process in processes.values():
            try:
                process.wait(20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        for handle in logs:
            handle.close()


def queue_results(users: dict[str, Any]) -> int:
    """One small batch analysis per patient, through the API; waits until all have completed."""
    proteins = real_proteins()
    base = f"http://127.0.0.1:{WEB_PORT}"
    submitted = []
    for i, username in enumerate(users["usernames"]):
        with httpx.Client(base_url=base, timeout=60) as client:
            token = client.post(
                "/api/v1/auth/token/", json={"username": username, "password": users["password"]}
            )
            token.raise_for_status()
            client.headers["Authorization"] = f"Bearer {token.json()['access']}"
            patients = client.get("/api/v1/patients/").json()["results"]
            own = [p for p in patients if p["mrn"].startswith(f"LOAD{i:03d}")][:SEEDED_PER_USER]
            for j, patient in enumerate(own):
                fasta = "".join(
                    f">s{k}\n{proteins[(i * 7 + j + k) % len(proteins)]}\n" for k in range(3)
                )
                created = client.post(
                    "/api/v1/analyses/",
                    json={
                        "kind": "sequence_batch",
                        "patient": patient["id"],
                        "inputs": {"fasta": fasta},
                    },
                )
                created.raise_for_status()
                submitted.append((token.json()["access"], created.json()["id"]))
    deadline = time.monotonic() + 900
    with httpx.Client(base_url=base, timeout=60) as client:
        for access, analysis in submitted:
            while True:
                status = client.get(
                    f"/api/v1/analyses/{analysis}/", headers={"Authorization": f"Bearer {access}"}
                ).json()["status"]
                if status in ("COMPLETED", "FAILED", "CANCELLED"):
                    break
                if time.monotonic() > deadline:
                    raise SystemExit(f"analysis {analysis} still {status} after 900 s")
                time.sleep(0.5)  # poll interval while the worker runs the seeded batches
    return len(submitted)


def batches_by_status(since: str) -> dict[str, int]:
    """The batches the users queued during the run, by status, once none is still queued or
    running (or after 120 s): counted in the database, which sees every user's. Other kinds (a
    seeded batch's chained report) are left out: they are not this run's writes."""
    import psycopg

    url = PG_URL.replace("postgres://", "postgresql://", 1)
    deadline = time.monotonic() + 120
    while True:
        with psycopg.connect(url) as conn:
            rows = conn.execute(
                "SELECT status, count(*) FROM jobs_analysis WHERE created_at >= %s "
                "AND kind = 'sequence_batch' GROUP BY status",
                (since,),
            ).fetchall()
        counts = {status: count for status, count in rows}
        if not {"PENDING", "PROCESSING"} & counts.keys() or time.monotonic() > deadline:
            return counts
        time.sleep(1)  # poll interval while the worker finishes the last batches


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, default=50, help="concurrent users")
    parser.add_argument("--duration", type=int, default=300, help="seconds of load")
    parser.add_argument("--spawn-rate", type=float, default=1.0, help="users started per second")
    parser.add_argument("--web-workers", type=int, default=2, help="Uvicorn worker processes")
    parser.add_argument("--tag", default="", help="suffix of the output file name")
    parser.add_argument(
        "--nice",
        type=int,
        default=0,
        help="scheduling weight of this session (negative needs root): on a machine others "
        "share, -10 gives the stack and Locust the cores first (see bench/scale_out.py)",
    )
    args = parser.parse_args()
    group = Path("/proc/self/autogroup")
    previous_group = group.read_text().split()[-1] if group.exists() else ""
    if args.nice:
        # The session's weight against other sessions (autogroups); every process started below
        # is in this session. Put back afterwards: the session outlives this script.
        with contextlib.suppress(OSError):
            group.write_text(str(args.nice))
    try:
        run(args)
    finally:
        if args.nice and previous_group:
            with contextlib.suppress(OSError):
                group.write_text(previous_group)


def run(args: argparse.Namespace) -> None:

    users = {
        "password": secrets.token_urlsafe(16),
        "usernames": [f"load{i:03d}" for i in range(args.users)],
    }
    pg("DROP DATABASE IF EXISTS cdss_bench_load WITH (FORCE)")
    pg("CREATE DATABASE cdss_bench_load")
    try:
        with tempfile.TemporaryDirectory(prefix="cdss-bench-load-") as name:
            tmp = Path(name)
            env = environment(tmp)
            users_file = tmp / "users.json"
            users_file.write_text(json.dumps(users))
            env["CDSS_LOAD_USERS"] = str(users_file)
            env["CDSS_LOAD_PATIENTS_PER_USER"] = str(PATIENTS_PER_USER)
            manage = [sys.executable, "manage.py"]
            subprocess.run([*manage, "migrate", "--noinput", "-v0"], cwd=ROOT, env=env, check=True)
            subprocess.run([*manage, "shell", "-c", SEED], cwd=ROOT, env=env, check=True)
            with stack(tmp, env, args.web_workers):
                t0 = time.perf_counter()
                seeded = queue_results(users)
                print(f"seeded {seeded} batch analyses in {time.perf_counter() - t0:.0f} s")
                samples_file = tmp / "samples.json"
                load_before = os.getloadavg()[0]
                since = time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime())
                started = time.perf_counter()
                subprocess.run(
                    [
                        str(BIN / "locust"),
                        "-f",
                        str(ROOT / "bench" / "_locustfile.py"),
                        "--headless",
                        "--host",
                        f"http://127.0.0.1:{WEB_PORT}",
                        "--users",
                        str(args.users),
                        "--spawn-rate",
                        str(args.spawn_rate),
                        "--run-time",
                        f"{args.duration}s",
                        "--only-summary",
                        "--loglevel",
                        "WARNING",
                        "--exit-code-on-error",
                        "0",
                    ],
                    cwd=ROOT,
                    env={**env, "CDSS_LOAD_SAMPLES": str(samples_file)},
                    check=True,
                )
                seconds = time.perf_counter() - started
                load_after = os.getloadavg()[0]
                batches = batches_by_status(since)
                samples = [tuple(s) for s in json.loads(samples_file.read_text())]
                errors_seen = [
                    line
                    for name in ("web", "worker", "inference")
                    for line in (tmp / f"{name}.log").read_text(errors="replace").splitlines()
                    if " 500 " in line or "Traceback" in line
                ][:5]
    finally:
        pg("DROP DATABASE IF EXISTS cdss_bench_load WITH (FORCE)")

    by_category = {
        category: summary([s for s in samples if s[0] == category], seconds)  # type: ignore[misc]
        for category in ("read", "write", "login")
    }
    by_name = {
        name: summary([s for s in samples if s[1] == name], seconds)  # type: ignore[misc]
        for name in sorted({s[1] for s in samples})
    }
    result = {
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs, {platform.python_version()}",
        "database": "PostgreSQL",
        "broker": "Redis",
        "session_nice": args.nice,
        "users": args.users,
        "duration_s": round(seconds, 1),
        "web_workers": args.web_workers,
        "seeded_batch_analyses": seeded,
        "load_average_1m": {"start": round(load_before, 2), "end": round(load_after, 2)},
        "all": summary(samples, seconds),  # type: ignore[arg-type]
        "categories": by_category,
        "requests": by_name,
        "batches_queued_during_run": batches,
        "server_errors_in_logs": errors_seen,
    }
    out = ROOT / "bench" / "out"
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"load{'_' + args.tag if args.tag else ''}.json"
    path.write_text(json.dumps(result, indent=2))
    print(f"wrote {path}")
    print("| requests | errors | req/s | p50 ms | p95 ms | p99 ms | max ms | what |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    rows = [("all", result["all"]), *by_category.items(), *by_name.items()]
    for name, row in rows:
        print(
            f"| {row['requests']} | {row['errors']} | {row['per_s']} | {row['p50_ms']} "
            f"| {row['p95_ms']} | {row['p99_ms']} | {row['max_ms']} | {name} |"
        )


if __name__ == "__main__":
    main()
