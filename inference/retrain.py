"""Run-time retraining of the sequence model: launch it, report its progress, pick up the result.

``POST /api/v1/retrain`` starts ``python -m training.sequences.retrain`` as a child process (the
training code decides whether the new version is promoted and writes ``CURRENT``). One run at a
time per runtime directory, across every worker and process: the run holds an exclusive ``flock``
on ``<runtime>/sequence/retrain.lock`` for its whole life (the lock is inherited by the child, so it
is released exactly when the child ends, even if the server dies). Progress is read from
``<runtime>/sequence/retrain_status.json`` (written by the training code); this module adds the
job record (``retrain_job.json``: pid, arguments, start, end, exit code) and a log file.
When the child ends, the launching worker asks the registry to reload; other workers see the new
CURRENT on their own periodic check.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import subprocess
import sys
import threading
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from inference.config import REPO_ROOT, InferenceConfig
from inference.errors import InferenceError, InvalidInput
from inference.registry import EngineRegistry

log = logging.getLogger(__name__)

RETRAIN_MODULE = "training.sequences.retrain"
KIND = "sequence"
MAX_EPOCHS = 500
MAX_BATCH_SIZE = 4096
DEFAULT_EPOCHS = 10
DEFAULT_BATCH_SIZE = 32


class RetrainBusy(InferenceError):
    """A retraining run is already in progress (HTTP 409)."""

    status_code = 409


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _read_json(path: Path) -> dict[str, Any] | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def _write_json(path: Path, data: dict[str, Any]) -> None:
    """Write atomically (readers in other workers never see half a file)."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    tmp.write_text(json.dumps(data, indent=2), encoding="utf-8")
    os.replace(tmp, path)


def _positive_int(body: dict[str, Any], name: str, default: int, maximum: int) -> int:
    raw = body.get(name, default)
    if raw is None:
        return default
    if isinstance(raw, bool) or not isinstance(raw, int | float):
        raise InvalidInput(f"{name}: must be an integer, got {raw!r}", field=name)
    if isinstance(raw, float) and not raw.is_integer():
        raise InvalidInput(f"{name}: must be a whole number, got {raw!r}", field=name)
    value = int(raw)
    if not 1 <= value <= maximum:
        raise InvalidInput(f"{name}: must be between 1 and {maximum}, got {value}", field=name)
    return value


def parse_retrain_request(body: dict[str, Any]) -> tuple[Path, int, int]:
    """Validate ``{training_data_path, epochs, batch_size}``; the folder must exist."""
    raw_path = body.get("training_data_path")
    if raw_path is None or (isinstance(raw_path, str) and not raw_path.strip()):
        raise InvalidInput("training_data_path: is required", field="training_data_path")
    if not isinstance(raw_path, str):
        raise InvalidInput("training_data_path: must be a string", field="training_data_path")
    if "\x00" in raw_path:
        raise InvalidInput("training_data_path: contains a NUL byte", field="training_data_path")
    path = Path(raw_path).expanduser()
    if not path.is_absolute():
        path = REPO_ROOT / path
    if not path.is_dir():
        raise InvalidInput(
            f"training_data_path: {raw_path!r} is not an existing directory",
            field="training_data_path",
        )
    epochs = _positive_int(body, "epochs", DEFAULT_EPOCHS, MAX_EPOCHS)
    batch_size = _positive_int(body, "batch_size", DEFAULT_BATCH_SIZE, MAX_BATCH_SIZE)
    return path.resolve(), epochs, batch_size


class RetrainManager:
    """Starts retraining runs one at a time and reports their state."""

    def __init__(
        self,
        config: InferenceConfig,
        registry: EngineRegistry,
        *,
        module: str = RETRAIN_MODULE,
    ) -> None:
        self.config = config
        self.registry = registry
        self.module = module
        self.out_root = config.runtime_models_dir / KIND
        self.lock_file = self.out_root / "retrain.lock"
        self.status_file = self.out_root / "retrain_status.json"
        self.job_file = self.out_root / "retrain_job.json"
        self.log_file = self.out_root / "retrain.log"
        self._start_lock = threading.Lock()
        self._watchers: list[threading.Thread] = []

    def command(self, data_path: Path, epochs: int, batch_size: int) -> list[str]:
        return [
            sys.executable,
            "-m",
            self.module,
            "--training-data-path",
            str(data_path),
            "--out-root",
            str(self.out_root),
            "--committed-root",
            str(self.config.models_dir / KIND),
            "--epochs",
            str(epochs),
            "--batch-size",
            str(batch_size),
        ]

    def _child_env(self) -> dict[str, str]:
        env = dict(os.environ)
        env["CDSS_MODELS_DIR"] = str(self.config.models_dir)
        env["CDSS_RUNTIME_MODELS_DIR"] = str(self.config.runtime_models_dir)
        pythonpath = env.get("PYTHONPATH")
        env["PYTHONPATH"] = f"{REPO_ROOT}{os.pathsep}{pythonpath}" if pythonpath else str(REPO_ROOT)
        return env

    def is_running(self) -> bool:
        if not self.lock_file.exists():
            return False
        with self.lock_file.open("a") as handle:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                return True
            fcntl.flock(handle, fcntl.LOCK_UN)
            return False

    def start(self, *, data_path: Path, epochs: int, batch_size: int) -> dict[str, Any]:
        """Launch a run; ``RetrainBusy`` if one is going. Returns the job record."""
        self.out_root.mkdir(parents=True, exist_ok=True)
        with self._start_lock:
            lock_fd = os.open(self.lock_file, os.O_RDWR | os.O_CREAT, 0o644)
            try:
                try:
                    fcntl.flock(lock_fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError:
                    raise RetrainBusy(
                        "a retraining run is already in progress; see model-info for its progress"
                    ) from None
                command = self.command(data_path, epochs, batch_size)
                job: dict[str, Any] = {
                    "job_id": uuid.uuid4().hex,
                    "training_data_path": str(data_path),
                    "epochs": epochs,
                    "batch_size": batch_size,
                    "started_at": _now(),
                    "finished_at": None,
                    "exit_code": None,
                    "log": str(self.log_file),
                    "command": command,
                }
                # A fresh status, so a reader never mistakes the previous run's for this one.
                _write_json(
                    self.status_file,
                    {
                        "state": "starting",
                        "progress": 0.0,
                        "message": "launching",
                        "job_id": job["job_id"],
                    },
                )
                with self.log_file.open("wb") as log_handle:
                    process = subprocess.Popen(  # noqa: S603 - fixed argv, no shell
                        command,
                        cwd=REPO_ROOT,
                        env=self._child_env(),
                        stdin=subprocess.DEVNULL,
                        stdout=log_handle,
                        stderr=subprocess.STDOUT,
                        pass_fds=(lock_fd,),  # the child holds the lock until it exits
                        start_new_session=True,
                    )
                job["pid"] = process.pid
                _write_json(self.job_file, job)
            finally:
                os.close(lock_fd)
        watcher = threading.Thread(
            target=self._watch, args=(process, job), name="retrain-watch", daemon=True
        )
        watcher.start()
        self._watchers.append(watcher)
        log.info("retraining started: pid %s, job %s", process.pid, job["job_id"])
        return job

    def _watch(self, process: subprocess.Popen[bytes], job: dict[str, Any]) -> None:
        exit_code = process.wait()
        current = _read_json(self.job_file) or {}
        if current.get("job_id") == job["job_id"]:
            current.update(finished_at=_now(), exit_code=exit_code)
            _write_json(self.job_file, current)
        log.info("retraining job %s ended with exit code %s", job["job_id"], exit_code)
        for thread in self.registry.refresh_if_changed(force=True):
            thread.join()

    def wait(self, timeout: float | None = None) -> None:
        """Wait for the runs this process launched, and their reloads (used by tests and CLIs)."""
        for watcher in list(self._watchers):
            watcher.join(timeout)

    def status(self) -> dict[str, Any]:
        """What model-info shows: running, state, progress, message, version, metrics, promoted."""
        running = self.is_running()
        status = _read_json(self.status_file)
        job = _read_json(self.job_file)
        if status is None and job is None:
            return {"running": running, "state": "idle"}
        result: dict[str, Any] = {"running": running, **(status or {})}
        state = result.get("state")
        if job is not None:
            result["job"] = {k: v for k, v in job.items() if k != "command"}
            exit_code = job.get("exit_code")
            if not running and state in (None, "starting", "running"):
                # The child ended without writing a final state (crash, kill, bad arguments).
                result["state"] = "failed"
                result["message"] = (
                    f"the training process ended (exit code {exit_code}) without reporting a "
                    f"result; see {job.get('log')}"
                )
        result.setdefault("state", "unknown")
        return result
