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

A request may name only a folder that resolves (symlinks followed) inside one of the configured
training data roots (``CDSS_TRAINING_DATA_ROOTS``); any other path gets one and the same 400,
whether it exists or not, and with no roots configured retraining is refused (403). What this
module publishes (``status`` for model-info, ``job_status`` for the retrain-status route) holds
progress and outcome only: no filesystem path, pid, command or log location.
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
from inference.engines.sequence.inputs import (
    DEFAULT_BATCH_SIZE,
    DEFAULT_EPOCHS,
    MAX_BATCH_SIZE,
    MAX_EPOCHS,
)
from inference.errors import InferenceError, InvalidInput, redact_paths
from inference.registry import EngineRegistry

log = logging.getLogger(__name__)

RETRAIN_MODULE = "training.sequences.retrain"
KIND = "sequence"
MAX_PATH_LENGTH = 4096
# What model-info shows of the trainer's status file and of the job record; nothing else.
PUBLIC_STATUS_FIELDS = ("state", "progress", "message", "version", "metrics", "promoted")
PUBLIC_JOB_FIELDS = ("job_id", "epochs", "batch_size", "started_at", "finished_at", "exit_code")
_OUTSIDE_ROOTS = (
    "training_data_path: must be a folder under one of this server's training data roots "
    "(CDSS_TRAINING_DATA_ROOTS)"
)


class RetrainBusy(InferenceError):
    """A retraining run is already in progress (HTTP 409)."""

    status_code = 409


class RetrainDisabled(InferenceError):
    """This server has no training data roots, so it retrains nothing (HTTP 403)."""

    status_code = 403


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


def resolve_training_data_path(raw_path: Any, roots: tuple[Path, ...]) -> Path:
    """The real folder ``raw_path`` names, which must lie inside one of ``roots``.

    Every path outside the roots (existing or not, or leading out through a symlink) gets the
    same answer, so the route cannot be used to learn what exists on the server.
    """
    field = "training_data_path"
    if not roots:
        raise RetrainDisabled(
            "retraining is disabled on this server: CDSS_TRAINING_DATA_ROOTS names no "
            "training data folder"
        )
    if raw_path is None or (isinstance(raw_path, str) and not raw_path.strip()):
        raise InvalidInput("training_data_path: is required", field=field)
    if not isinstance(raw_path, str):
        raise InvalidInput("training_data_path: must be a string", field=field)
    if "\x00" in raw_path or len(raw_path) > MAX_PATH_LENGTH:
        raise InvalidInput(_OUTSIDE_ROOTS, field=field)
    if not Path(raw_path).is_absolute():
        raise InvalidInput("training_data_path: must be an absolute path", field=field)
    real = Path(os.path.realpath(raw_path))
    if not any(real.is_relative_to(os.path.realpath(root)) for root in roots):
        raise InvalidInput(_OUTSIDE_ROOTS, field=field)
    try:
        is_dir = real.is_dir()
    except OSError:
        is_dir = False
    if not is_dir:
        raise InvalidInput(
            "training_data_path: no such folder under the training data roots", field=field
        )
    return real


def parse_retrain_request(body: dict[str, Any], roots: tuple[Path, ...]) -> tuple[Path, int, int]:
    """Validate ``{training_data_path, epochs, batch_size}`` against the configured roots."""
    path = resolve_training_data_path(body.get("training_data_path"), roots)
    epochs = _positive_int(body, "epochs", DEFAULT_EPOCHS, MAX_EPOCHS)
    batch_size = _positive_int(body, "batch_size", DEFAULT_BATCH_SIZE, MAX_BATCH_SIZE)
    return path, epochs, batch_size


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
        """What model-info shows: running, state, progress, message, version, metrics, promoted,
        job id and times. No path, pid, command or log location (clinicians read model-info)."""
        running = self.is_running()
        status = _read_json(self.status_file)
        job = _read_json(self.job_file)
        if status is None and job is None:
            return {"running": running, "state": "idle"}
        status = status or {}
        result: dict[str, Any] = {"running": running}
        result.update({k: status[k] for k in PUBLIC_STATUS_FIELDS if k in status})
        state = result.get("state")
        if job is not None:
            result.update(
                {k: job.get(k) for k in ("job_id", "started_at", "finished_at") if k in job}
            )
            if not running and state in (None, "starting", "running"):
                # The child ended without writing a final state (crash, kill, bad arguments).
                result["state"] = "failed"
                result["message"] = (
                    f"the training process ended (exit code {job.get('exit_code')}) without "
                    "reporting a result; its output is in the retrain log on the inference server"
                )
        if isinstance(result.get("message"), str):
            result["message"] = redact_paths(result["message"])
        result.setdefault("state", "unknown")
        return result

    def job_status(self) -> dict[str, Any]:
        """``status()`` plus the job's arguments and exit code (the retrain-status route)."""
        result = self.status()
        job = _read_json(self.job_file)
        if job is not None:
            result["job"] = {k: job.get(k) for k in PUBLIC_JOB_FIELDS}
        return result
