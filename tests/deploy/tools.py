"""What the deployment tests need from this machine: a system tool, a process group
that is always ended, and waiting for a condition with a deadline (never a fixed sleep)."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


def require_tool(path: str, package: str) -> str:
    """``path`` when it is an executable; else skip, or fail when ``CI`` is set: CI must run
    these tests, and ``.ci/run`` installs the package."""
    if os.access(path, os.X_OK):
        return path
    reason = f"{path} is missing (Debian package {package})"
    if os.environ.get("CI"):
        pytest.fail(f"{reason}: CI must run the deployment tests; .ci/run installs it")
    pytest.skip(reason)


def start(argv: list[str], *, log: Path, env: dict[str, str], cwd: Path = REPO) -> subprocess.Popen:
    """Starts ``argv`` in a process group of its own (gunicorn and nginx fork workers), its output
    in ``log``; ``stop`` ends the whole group."""
    with log.open("ab") as out:
        return subprocess.Popen(
            argv, cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )


def stop(process: subprocess.Popen) -> None:
    """SIGTERM to the process group, SIGKILL to what is left after 10 s."""
    if process.poll() is not None:
        return
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)
    except ProcessLookupError:
        pass


def wait_for(
    what: str, check: Callable[[], bool], *, timeout: float, processes: dict[str, tuple]
) -> None:
    """Polls ``check`` until it is true; fails early, with the log's tail, when one of
    ``processes`` (name -> (Popen, log path)) has exited, and at ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        for name, (process, log) in processes.items():
            if process.poll() is not None:
                pytest.fail(f"{name} exited ({process.returncode}) before {what}:\n{tail(log)}")
        try:
            if check():
                return
        except OSError:
            pass  # not listening yet
        if time.monotonic() > deadline:
            logs = "\n".join(f"--- {n}\n{tail(log)}" for n, (_, log) in processes.items())
            pytest.fail(f"no {what} after {timeout:.0f} s\n{logs}")
        time.sleep(0.1)


def tail(path: Path, lines: int = 30) -> str:
    if not path.exists():
        return "(no log)"
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
