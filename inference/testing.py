"""Start a real inference server process for other test suites (the Django ones), and stop it.

``start_server()`` launches ``python -m inference`` on a free local port and returns once
``/health`` answers (polling, with a deadline); ``handle.url`` is its base URL and
``handle.stop()`` ends it.

Misbehaving upstreams, for the client's 502 and 504 paths, are a separate minimal WSGI app in this
module (never branches inside the real server), chosen with ``mode``:

- ``"garbage"``: every route answers 200 with ``Content-Type: application/json`` and a body that is
  not JSON;
- ``"slow"``: every route answers valid JSON after ``delay`` seconds.

Both answer ``GET /__testing__/ping`` at once, which is what ``start_server`` polls for them.
Run one by hand: ``python -m inference.testing --mode slow --delay 5 --port 9100``.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any

from inference.config import REPO_ROOT

MODES = ("real", "garbage", "slow")
PING_PATH = "/__testing__/ping"
GARBAGE_BODY = b"<html><body>upstream garbage \xff\xfe not json {{{</body></html>"
DEFAULT_SLOW_DELAY = 5.0
_POLL_INTERVAL = 0.05


class ServerStartError(RuntimeError):
    """The server process ended or never answered before the deadline."""


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port free right now on ``host`` (the OS picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        port: int = sock.getsockname()[1]
        return port


class ServerHandle:
    """A running server process: ``url``, ``port``, ``process``, ``log_path``; ``stop()``."""

    def __init__(
        self, process: subprocess.Popen[bytes], host: str, port: int, log_path: Path
    ) -> None:
        self.process = process
        self.host = host
        self.port = port
        self.url = f"http://{host}:{port}"
        self.log_path = log_path

    def log(self) -> str:
        """What the process wrote to stdout and stderr so far."""
        try:
            return self.log_path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return ""

    def get(self, path: str, timeout: float = 30.0) -> bytes:
        """The body of ``GET path`` on this server (any status)."""
        connection = http.client.HTTPConnection(self.host, self.port, timeout=timeout)
        try:
            connection.request("GET", path)
            return connection.getresponse().read()
        finally:
            connection.close()

    def stop(self, timeout: float = 15.0) -> None:
        """Terminate the process (SIGTERM, then SIGKILL after ``timeout``); safe to call twice."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        with contextlib.suppress(OSError):
            self.log_path.unlink()

    def __enter__(self) -> ServerHandle:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def _answers(host: str, port: int, path: str) -> bool:
    connection = http.client.HTTPConnection(host, port, timeout=2)
    try:
        connection.request("GET", path)
        return connection.getresponse().status == 200
    except (OSError, http.client.HTTPException):
        return False
    finally:
        connection.close()


def start_server(
    port: int | None = None,
    env: Mapping[str, str] | None = None,
    *,
    mode: str = "real",
    delay: float = DEFAULT_SLOW_DELAY,
    host: str = "127.0.0.1",
    startup_timeout: float = 90.0,
    gunicorn: bool = False,
) -> ServerHandle:
    """Start a server process and wait until it answers; raise ``ServerStartError`` otherwise.

    ``env`` is added to the current environment (e.g. ``{"CDSS_INFERENCE_ENGINES": "sequence"}``
    to load only the sequence engine). ``mode`` is ``real``, ``garbage`` or ``slow``.
    """
    if mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}, got {mode!r}")
    port = port or free_port(host)
    if mode == "real":
        argv = [sys.executable, "-m", "inference", "--host", host, "--port", str(port)]
        if gunicorn:
            argv.append("--gunicorn")
        probe = "/health"
    else:
        argv = [sys.executable, "-m", "inference.testing", "--mode", mode, "--host", host]
        argv += ["--port", str(port), "--delay", str(delay)]
        probe = PING_PATH
    child_env = dict(os.environ)
    child_env.update(env or {})
    pythonpath = child_env.get("PYTHONPATH")
    child_env["PYTHONPATH"] = (
        f"{REPO_ROOT}{os.pathsep}{pythonpath}" if pythonpath else str(REPO_ROOT)
    )

    handle_fd, log_name = tempfile.mkstemp(prefix=f"cdss-inference-{mode}-", suffix=".log")
    with os.fdopen(handle_fd, "wb") as log_file:
        process = subprocess.Popen(  # noqa: S603 - fixed argv, no shell
            argv,
            cwd=REPO_ROOT,
            env=child_env,
            stdin=subprocess.DEVNULL,
            stdout=log_file,
            stderr=subprocess.STDOUT,
        )
    handle = ServerHandle(process, host, port, Path(log_name))
    deadline = time.monotonic() + startup_timeout
    while not _answers(host, port, probe):
        if process.poll() is not None:
            log = handle.log()
            handle.stop()
            raise ServerStartError(
                f"the {mode} server exited with code {process.returncode} before answering:\n{log}"
            )
        if time.monotonic() > deadline:
            log = handle.log()
            handle.stop()
            raise ServerStartError(
                f"the {mode} server did not answer {probe} within {startup_timeout} s:\n{log}"
            )
        time.sleep(_POLL_INTERVAL)  # the poll interval, not a wait for a fixed time
    return handle


StartResponse = Callable[[str, list[tuple[str, str]]], Any]


def misbehaving_app(
    mode: str, delay: float
) -> Callable[[dict[str, Any], StartResponse], Iterable[bytes]]:
    """A WSGI app that misbehaves as ``mode`` says; ``PING_PATH`` always answers at once."""

    def app(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        if path == PING_PATH:
            start_response("200 OK", [("Content-Type", "text/plain")])
            return [b"pong"]
        # Drain the request body so the client is not left writing into a closed socket.
        length = int(environ.get("CONTENT_LENGTH") or 0)
        if length:
            environ["wsgi.input"].read(length)
        if mode == "garbage":
            start_response(
                "200 OK",
                [("Content-Type", "application/json"), ("Content-Length", str(len(GARBAGE_BODY)))],
            )
            return [GARBAGE_BODY]
        time.sleep(delay)  # this is the misbehaviour under test: a server that answers late
        body = json.dumps(
            {"ok": True, "status": "alive", "model_version": "testing-slow", "path": path}
        ).encode()
        start_response(
            "200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))]
        )
        return [body]

    return app


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m inference.testing", description=__doc__)
    parser.add_argument("--mode", choices=("garbage", "slow"), required=True)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--delay", type=float, default=DEFAULT_SLOW_DELAY)
    args = parser.parse_args(argv)
    from werkzeug.serving import make_server

    server = make_server(
        args.host, args.port, misbehaving_app(args.mode, args.delay), threaded=True
    )
    server.serve_forever()


if __name__ == "__main__":
    main()
