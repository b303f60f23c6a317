"""A whole CDSS deployment in processes, for the reliability tests: a fresh database, the web
server (Uvicorn), a Celery worker and Celery beat, on the embedded broker or on Redis.

Each process is started with the environment a deployment would give it; the test talks to the
web server over HTTP and WebSocket and reads the database directly (read-only) to poll state.
Waits poll a condition until a deadline; nothing sleeps for a fixed time.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlparse, urlunparse

import httpx
from django.conf import settings

from inference.testing import free_port

REPO = Path(__file__).resolve().parents[3]
BIN = Path(sys.executable).parent
POLL = 0.05
T = TypeVar("T")

# Fast clocks for the tests: short leases, frequent sweeps, short backoff.
FAST_JOBS_ENV = {
    "CDSS_JOBS_LEASE_SECONDS": "2",
    "CDSS_JOBS_SWEEP_SECONDS": "1",
    "CDSS_JOBS_PENDING_STALE_SECONDS": "2",
    "CDSS_JOBS_RETRY_BASE_SECONDS": "0.2",
    "CDSS_JOBS_RETRY_MAX_SECONDS": "1",
    "CDSS_JOBS_BROKER_POLL_SECONDS": "0.05",
    "CDSS_JOBS_EVENT_POLL_SECONDS": "0.1",
    "CDSS_JOBS_KIND_MODULES": "cdss.jobs.tests.kinds",
}


def wait_for(
    condition: Callable[[], T], *, timeout: float, what: str, log: Callable[[], str] = str
) -> T:
    """Polls ``condition`` until it returns something truthy; fails after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}\n{log()}")
        time.sleep(POLL)  # the poll interval, not a wait for a fixed time


class Database:
    """A fresh database for one stack: a SQLite file, or a new PostgreSQL database on the server
    named by the test run's DATABASE_URL."""

    def __init__(self, root: Path) -> None:
        base = os.environ.get("DATABASE_URL", "")
        self.postgres = base.startswith(("postgres://", "postgresql://"))
        if self.postgres:
            parsed = urlparse(base)
            self.name = f"cdss_jobs_{uuid.uuid4().hex[:12]}"
            self.admin_url = urlunparse(parsed._replace(path="/postgres"))
            self.url = urlunparse(parsed._replace(path=f"/{self.name}"))
            self._admin(f'CREATE DATABASE "{self.name}"')
        else:
            self.path = root / "cdss.sqlite3"
            self.url = f"sqlite:///{self.path}"

    def _admin(self, sql: str) -> None:
        import psycopg

        with psycopg.connect(self._psycopg_url(self.admin_url), autocommit=True) as conn:
            conn.execute(sql)  # type: ignore[arg-type]

    @staticmethod
    def _psycopg_url(url: str) -> str:
        return url.replace("postgres://", "postgresql://", 1)

    def query(self, sql: str, *params: Any) -> list[tuple[Any, ...]]:
        if self.postgres:
            import psycopg

            with psycopg.connect(self._psycopg_url(self.url)) as conn:
                return list(conn.execute(sql.replace("?", "%s"), params).fetchall())  # type: ignore[arg-type]
        with contextlib.closing(
            sqlite3.connect(f"file:{self.path}?mode=ro", uri=True, timeout=30)
        ) as conn:
            return list(conn.execute(sql, params).fetchall())

    def scalar(self, sql: str, *params: Any) -> Any:
        return self.query(sql, *params)[0][0]

    def drop(self) -> None:
        if self.postgres:
            self._admin(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')


class Stack:
    def __init__(self, root: Path, *, broker: str) -> None:
        self.root = root
        self.broker = broker
        self.db = Database(root)
        self.inference_port = free_port()
        self.web_port = free_port()
        self.processes: dict[str, subprocess.Popen[bytes]] = {}
        self.env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(
                ("DJANGO_", "CELERY_", "CDSS_", "JWT_", "REDIS_URL", "DATABASE_URL")
            )
        }
        self.env.update(FAST_JOBS_ENV)
        self.env.update(
            {
                "DJANGO_SETTINGS_MODULE": "config.settings.test",
                "DATABASE_URL": self.db.url,
                "CDSS_INFERENCE_URL": f"http://127.0.0.1:{self.inference_port}",
                # A queue of its own, so concurrent test runs on one Redis never share work.
                "CDSS_JOBS_QUEUE": f"analyses-test-{uuid.uuid4().hex[:10]}",
                "CDSS_JOBS_BROKER_FILE": str(root / "broker.sqlite3"),
                "PYTHONUNBUFFERED": "1",
                # The test process signs tokens too (an expired one, for instance).
                "JWT_SIGNING_KEY": str(settings.SIMPLE_JWT["SIGNING_KEY"]),
            }
        )
        if broker == "redis":
            redis = os.environ.get("CDSS_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
            self.env["CELERY_BROKER_URL"] = redis
            self.env["REDIS_URL"] = redis
        self.tokens: dict[str, str] = {}
        self.ids: dict[str, int] = {}

    # --- processes ------------------------------------------------------------------------------

    def manage(self, *args: str) -> str:
        done = subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=REPO,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 0, done.stdout + done.stderr
        return done.stdout

    def _start(self, name: str, argv: list[str]) -> None:
        log = open(self.root / f"{name}.log", "ab")  # noqa: SIM115 - the child owns it
        self.processes[name] = subprocess.Popen(
            argv,
            cwd=REPO,
            env=self.env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: a SIGKILL reaches its children too
        )
        log.close()

    def log(self, name: str, tail: int = 4000) -> str:
        path = self.root / f"{name}.log"
        return f"--- {name}.log ---\n" + (
            path.read_text(errors="replace")[-tail:] if path.exists() else ""
        )

    def logs(self) -> str:
        return "\n".join(self.log(n) for n in ("web", "worker", "beat"))

    def start_worker(self) -> None:
        self._start(
            "worker",
            [
                str(BIN / "celery"),
                "-A",
                "config",
                "worker",
                "-l",
                "INFO",
                "-c",
                "2",
                "-n",
                f"w{uuid.uuid4().hex[:6]}@%h",
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
            ],
        )

    def kill_worker(self) -> None:
        process = self.processes.pop("worker")
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=30)

    def start(self) -> None:
        self.manage("migrate", "--noinput", "-v0")
        self._seed()
        self._start(
            "web",
            [
                str(BIN / "uvicorn"),
                "config.asgi:application",
                "--host",
                "127.0.0.1",
                "--port",
                str(self.web_port),
                "--no-access-log",
            ],
        )
        self.start_worker()
        self._start(
            "beat",
            [
                str(BIN / "celery"),
                "-A",
                "config",
                "beat",
                "-l",
                "INFO",
                "-s",
                str(self.root / "beat-schedule"),
            ],
        )
        wait_for(self._web_answers, timeout=60, what="the web server", log=self.logs)

    def _web_answers(self) -> bool:
        try:
            return httpx.get(f"{self.web_url}/healthz", timeout=2).status_code == 200
        except httpx.HTTPError:
            return False

    def _seed(self) -> None:
        script = (
            "import json\n"
            "from rest_framework_simplejwt.tokens import AccessToken\n"
            "from cdss.accounts.models import User\n"
            "from cdss.patients.models import Patient\n"
            "a = User.objects.create_user('clin_a', password='x-123456789', role='clinician')\n"
            "b = User.objects.create_user('clin_b', password='x-123456789', role='clinician')\n"
            "pa = Patient.objects.create(mrn='E2E-A', name='A')\n"
            "pa.care_team.set([a])\n"
            "pb = Patient.objects.create(mrn='E2E-B', name='B')\n"
            "pb.care_team.set([b])\n"
            "tokens = {'a': str(AccessToken.for_user(a)), 'b': str(AccessToken.for_user(b))}\n"
            "ids = {'patient_a': pa.pk, 'patient_b': pb.pk}\n"
            "print('SEED' + json.dumps({'tokens': tokens, 'ids': ids}))\n"
        )
        out = self.manage("shell", "-c", script)
        seed = json.loads(next(line for line in out.splitlines() if line.startswith("SEED"))[4:])
        self.tokens, self.ids = seed["tokens"], seed["ids"]

    def stop(self) -> None:
        for process in self.processes.values():
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGTERM)
        for process in self.processes.values():
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        self.processes.clear()
        self.db.drop()

    # --- talking to it --------------------------------------------------------------------------

    @property
    def web_url(self) -> str:
        return f"http://127.0.0.1:{self.web_port}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.web_port}/ws/analyses/"

    def client(self, who: str) -> httpx.Client:
        return httpx.Client(
            base_url=self.web_url,
            headers={"Authorization": f"Bearer {self.tokens[who]}"},
            timeout=30,
        )

    def submit(self, client: httpx.Client, kind: str, **body: Any) -> int:
        response = client.post("/api/v1/analyses/", json={"kind": kind, **body})
        assert response.status_code == 202, response.text
        return int(response.json()["id"])

    def status_of(self, analysis_id: int) -> tuple[str, str, int]:
        row = self.db.query(
            "SELECT status, error_code, attempts FROM jobs_analysis WHERE id = ?", analysis_id
        )
        return row[0][0], row[0][1], row[0][2]

    def wait_status(
        self, analysis_id: int, status: str, *, timeout: float = 60
    ) -> tuple[str, str, int]:
        return wait_for(
            lambda: (s := self.status_of(analysis_id))[0] == status and s,
            timeout=timeout,
            what=f"analysis {analysis_id} to be {status} (now {self.status_of(analysis_id)})",
            log=self.logs,
        )

    def count(self, status: str, ids: list[int]) -> int:
        marks = ",".join("?" * len(ids))
        return int(
            self.db.scalar(
                f"SELECT COUNT(*) FROM jobs_analysis WHERE status = ? AND id IN ({marks})",  # noqa: S608
                status,
                *ids,
            )
        )


@contextlib.contextmanager
def running_stack(root: Path, *, broker: str) -> Iterator[Stack]:
    stack = Stack(root, broker=broker)
    try:
        stack.start()
        yield stack
    finally:
        stack.stop()
