"""``make e2e``: the whole system on a fresh database for the Playwright suite, then stopped.

In a temporary folder this does what ``make run`` does, on ports 8700 (web) and 8701 (inference)
so it never meets a developer's ``make run`` on 8000/9000: a new SQLite database (migrated), three
users with random passwords (an administrator, clinician A and clinician B), the assistant's
bundled corpus, a copy of the built web app (``web/dist`` must exist: ``make web``) collected,
then the four processes of the Procfile: Uvicorn, the inference server, a Celery worker (threads
pool) and beat. Once ``/readyz`` answers it runs the command given after ``--`` (``npx playwright
test`` by default) in ``web/`` with ``E2E_BASE_URL``, ``E2E_WEB_DIST`` (the copy it serves) and
``E2E_{ADMIN,A,B}_{USERNAME,PASSWORD}`` in its environment, stops every process it started, and
exits with the command's status. With ``--serve`` it prints the URL and credentials and serves
until Ctrl-C. The processes' logs are copied to ``var/e2e/logs/`` (CI keeps ``var/e2e/``).
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import IO

REPO = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
WEB_PORT = int(os.environ.get("E2E_WEB_PORT", "8700"))
INFERENCE_PORT = int(os.environ.get("E2E_INFERENCE_PORT", "8701"))
LOG_DIR = REPO / "var" / "e2e" / "logs"
STARTUP_TIMEOUT = 180.0
POLL = 0.2

USERS = {
    "ADMIN": ("e2e_admin", "admin"),
    "A": ("e2e_clinician_a", "clinician"),
    "B": ("e2e_clinician_b", "clinician"),
}

SEED = """
import json, os
from cdss.accounts.models import User
from cdss.accounts.services import user_create
for key, (username, role) in json.loads(os.environ["E2E_SEED_USERS"]).items():
    user_create(username=username, password=os.environ[f"E2E_{key}_PASSWORD"], role=role,
                validate=False)
    if role == "admin":
        User.objects.filter(username=username).update(is_superuser=True, is_staff=True)
"""


def _environment(root: Path) -> dict[str, str]:
    # Nothing of the caller's own configuration leaks in: the stack is the embedded defaults plus
    # the temporary folder's paths and this run's own secret.
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("DJANGO_", "CELERY_", "CDSS_", "JWT_", "REDIS_URL", "DATABASE_URL"))
    }
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "config.settings.local",
            "DJANGO_SECRET_KEY": secrets.token_urlsafe(64),
            "DATABASE_URL": f"sqlite:///{root / 'cdss.sqlite3'}",
            "CDSS_MEDIA_ROOT": str(root / "media"),
            "DJANGO_STATIC_ROOT": str(root / "static"),
            "CDSS_JOBS_BROKER_FILE": str(root / "broker.sqlite3"),
            # A copy of the built app: a rebuild of web/dist during the run cannot mix two builds.
            "CDSS_WEB_DIST": str(root / "dist"),
            "CDSS_INFERENCE_URL": f"http://127.0.0.1:{INFERENCE_PORT}",
            "CDSS_INFERENCE_HOST": "127.0.0.1",
            "CDSS_INFERENCE_PORT": str(INFERENCE_PORT),
            "PYTHONUNBUFFERED": "1",
        }
    )
    return env


def _manage(env: dict[str, str], *args: str) -> subprocess.Popen[str]:
    """``manage.py <args>`` started; :func:`_finish` waits for it."""
    return subprocess.Popen(  # noqa: S603 - fixed argv
        [sys.executable, "manage.py", *args],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def _finish(process: subprocess.Popen[str]) -> None:
    output, _ = process.communicate(timeout=600)
    if process.returncode != 0:
        raise SystemExit(f"{process.args!r} failed:\n{output}")


def _status(port: int, path: str) -> int | None:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        connection.request("GET", path)
        return connection.getresponse().status
    except (OSError, http.client.HTTPException):
        return None
    finally:
        connection.close()


class Stack:
    """The started processes, each in a session of its own so it is stopped with its children."""

    def __init__(self, root: Path, env: dict[str, str]) -> None:
        self.root = root
        self.env = env
        self.processes: dict[str, subprocess.Popen[bytes]] = {}
        self.logs: dict[str, IO[bytes]] = {}
        self.oneshots: list[subprocess.Popen[str]] = []

    def oneshot(self, process: subprocess.Popen[str]) -> subprocess.Popen[str]:
        """A manage.py command run beside the servers: stopped with them if still running."""
        self.oneshots.append(process)
        return process

    def start(self, name: str, argv: list[str]) -> None:
        log = open(self.root / f"{name}.log", "ab")  # noqa: SIM115 - closed in stop()
        self.logs[name] = log
        self.processes[name] = subprocess.Popen(  # noqa: S603 - fixed argv
            argv,
            cwd=REPO,
            env=self.env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def check_alive(self) -> None:
        for name, process in self.processes.items():
            if process.poll() is not None:
                raise SystemExit(f"{name} exited ({process.returncode}):\n{self.tail(name)}")

    def wait_for(self, name: str, port: int, path: str) -> None:
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while _status(port, path) != 200:
            self.check_alive()
            if time.monotonic() > deadline:
                raise SystemExit(f"{name} did not answer {path} in time:\n{self.tail(name)}")
            time.sleep(POLL)  # the poll interval, not a wait for a fixed time

    def tail(self, name: str) -> str:
        path = self.root / f"{name}.log"
        return path.read_text(errors="replace")[-4000:] if path.exists() else ""

    def stop(self) -> None:
        for oneshot in self.oneshots:
            if oneshot.poll() is None:
                oneshot.kill()
                oneshot.communicate()
        for process in self.processes.values():
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGTERM)
        for process in self.processes.values():
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        for log in self.logs.values():
            log.close()
        LOG_DIR.mkdir(parents=True, exist_ok=True)
        for name in self.processes:
            shutil.copyfile(self.root / f"{name}.log", LOG_DIR / f"{name}.log")


@contextlib.contextmanager
def running_stack(passwords: dict[str, str]) -> Iterator[tuple[str, Path]]:
    if not (REPO / "web" / "dist" / "index.html").exists():
        raise SystemExit("web/dist is missing: run `make web` first")
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="cdss-e2e-") as tmp:
        root = Path(tmp)
        shutil.copytree(REPO / "web" / "dist", root / "dist")
        env = _environment(root)
        stack = Stack(root, env)
        try:
            # The inference server loads its models while the database is prepared.
            stack.start("inference", [sys.executable, "-m", "inference"])
            collect = stack.oneshot(_manage(env, "collectstatic", "--noinput", "-v0"))
            _finish(_manage(env, "migrate", "--noinput", "-v0"))
            seed_env = dict(env, E2E_SEED_USERS=json.dumps(USERS))
            seed_env.update({f"E2E_{key}_PASSWORD": value for key, value in passwords.items()})
            _finish(_manage(seed_env, "shell", "-c", SEED))
            # The corpus (embeddings: the slowest step) is indexed while the servers start; the
            # suite starts once it is in.
            corpus = stack.oneshot(_manage(env, "assistant_load_corpus", "-v0"))
            _finish(collect)
            stack.start(
                "web",
                [
                    str(BIN / "uvicorn"),
                    "config.asgi:application",
                    "--host",
                    "127.0.0.1",
                    "--port",
                    str(WEB_PORT),
                    "--no-access-log",
                ],
            )
            celery = [str(BIN / "celery"), "-A", "config"]
            stack.start(
                "worker",
                [
                    *celery,
                    "worker",
                    "--loglevel",
                    "INFO",
                    "--pool",
                    "threads",
                    "--concurrency",
                    "2",
                    "--without-gossip",
                    "--without-mingle",
                ],
            )
            stack.start(
                "beat",
                [*celery, "beat", "--loglevel", "INFO", "-s", str(root / "celerybeat-schedule")],
            )
            stack.wait_for("inference", INFERENCE_PORT, "/ready")
            stack.wait_for("web", WEB_PORT, "/readyz")
            _finish(corpus)
            stack.check_alive()
            print(f"e2e: stack up in {time.monotonic() - started:.0f} s", flush=True)
            yield f"http://127.0.0.1:{WEB_PORT}", root / "dist"
            stack.check_alive()
        finally:
            stack.stop()


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--serve", action="store_true", help="serve until Ctrl-C, run nothing")
    parser.add_argument("command", nargs="*", help="after --: what to run (default: playwright)")
    args = parser.parse_args(argv)
    command = args.command or ["npx", "playwright", "test"]
    passwords = {key: secrets.token_urlsafe(16) for key in USERS}
    with running_stack(passwords) as (url, dist):
        child_env = dict(os.environ, E2E_BASE_URL=url, E2E_WEB_DIST=str(dist))
        for key, (username, _role) in USERS.items():
            child_env[f"E2E_{key}_USERNAME"] = username
            child_env[f"E2E_{key}_PASSWORD"] = passwords[key]
        if args.serve:
            print(f"e2e: {url}", flush=True)
            for key, (username, _role) in USERS.items():
                print(f"  {key}: username={username} password={passwords[key]}", flush=True)
            with contextlib.suppress(KeyboardInterrupt):
                signal.pause()
            return 0
        return subprocess.call(command, cwd=REPO / "web", env=child_env)  # noqa: S603


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
