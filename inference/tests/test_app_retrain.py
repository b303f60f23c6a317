"""POST /api/v1/retrain: a real child process, one run at a time (409), progress, reload.

The trainer here is a small stand-in script written by the test (the real
``training.sequences.retrain`` takes minutes); it speaks the same CLI and status-file contract, and
waits for a "go" file so the test controls when it finishes without sleeping.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from flask import Flask

from inference.app import create_app
from inference.config import InferenceConfig
from inference.registry import EngineRegistry

STUB_TRAINER = textwrap.dedent(
    '''
    """Stand-in trainer with the CLI and status contract of training.sequences.retrain."""
    import argparse, json, os, sys, time
    from pathlib import Path

    parser = argparse.ArgumentParser()
    for flag in ("--training-data-path", "--out-root", "--committed-root", "--epochs",
                 "--batch-size"):
        parser.add_argument(flag, required=True)
    args = parser.parse_args()
    out = Path(args.out_root)

    def status(**fields):
        tmp = out / "retrain_status.json.tmp"
        tmp.write_text(json.dumps(fields))
        os.replace(tmp, out / "retrain_status.json")

    status(state="running", progress=0.5, message="training", promoted=None)
    data = Path(args.training_data_path)
    while not (data / "go").exists():
        time.sleep(0.02)
    if args.epochs == "13":
        sys.exit(3)  # a crash without a final status
    version = "seq-test.1"
    (out / version).mkdir(parents=True, exist_ok=True)
    status(state="completed", progress=1.0, message="done", version=version, promoted=True,
           metrics={"task1": {"roc_auc": 0.9}}, epochs=int(args.epochs))
    (out / "CURRENT").write_text(version + "\\n")
    '''
)


@pytest.fixture
def retrain_app(
    tmp_path: Path,
    fake_config: InferenceConfig,
    fake_engine_class: type,
    monkeypatch: pytest.MonkeyPatch,
) -> Flask:
    stub_dir = tmp_path / "stubs"
    stub_dir.mkdir()
    (stub_dir / "stub_trainer.py").write_text(STUB_TRAINER)
    monkeypatch.setenv("PYTHONPATH", str(stub_dir))
    registry = EngineRegistry(fake_config, factories={"sequence": fake_engine_class})
    registry.load_all()
    return create_app(fake_config, registry=registry, retrain_module="stub_trainer")


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    path = tmp_path / "training-data"
    path.mkdir()
    return path


def test_retrain_validates_its_fields(retrain_app: Flask, data_dir: Path) -> None:
    client = retrain_app.test_client()
    cases = [
        ({}, "training_data_path"),
        ({"training_data_path": 5}, "training_data_path"),
        ({"training_data_path": str(data_dir / "missing")}, "training_data_path"),
        ({"training_data_path": str(data_dir), "epochs": 0}, "epochs"),
        ({"training_data_path": str(data_dir), "epochs": "ten"}, "epochs"),
        ({"training_data_path": str(data_dir), "batch_size": 2.5}, "batch_size"),
        ({"training_data_path": str(data_dir), "batch_size": 10**6}, "batch_size"),
    ]
    for body, field in cases:
        response = client.post("/api/v1/retrain", json=body)
        assert response.status_code == 400, body
        assert response.get_json()["field"] == field


def test_retrain_runs_once_reports_progress_and_promotes(
    retrain_app: Flask, data_dir: Path
) -> None:
    client = retrain_app.test_client()
    manager = retrain_app.extensions["cdss"]["retrain"]
    body = {"training_data_path": str(data_dir), "epochs": 2, "batch_size": 8}

    started = client.post("/api/v1/retrain", json=body)
    assert started.status_code == 200
    assert started.get_json()["status"] == "started"

    progress = client.get("/api/v1/model-info").get_json()["retrain"]
    assert progress["running"] is True
    assert progress["state"] in ("starting", "running")
    assert progress["job"]["epochs"] == 2

    busy = client.post("/api/v1/retrain", json=body)
    assert busy.status_code == 409
    assert "already in progress" in busy.get_json()["error"]

    (data_dir / "go").touch()
    manager.wait(timeout=60)

    info = client.get("/api/v1/model-info").get_json()
    assert info["retrain"]["running"] is False
    assert info["retrain"]["state"] == "completed" and info["retrain"]["promoted"] is True
    assert info["retrain"]["job"]["exit_code"] == 0
    assert info["model_version"] == "seq-test.1"
    assert client.get("/health").get_json()["model_version"] == "seq-test.1"
    predicted = client.post("/api/v1/predict", json={"sequence": "MKVLAAGLLLAAA"})
    assert predicted.get_json()["model_version"] == "seq-test.1"

    # The lock is free again: a second run may start.
    again = client.post("/api/v1/retrain", json=body)
    assert again.status_code == 200
    manager.wait(timeout=60)


def test_a_crashed_run_is_reported_failed(retrain_app: Flask, data_dir: Path) -> None:
    client = retrain_app.test_client()
    (data_dir / "go").touch()
    body = {"training_data_path": str(data_dir), "epochs": 13}
    assert client.post("/api/v1/retrain", json=body).status_code == 200
    retrain_app.extensions["cdss"]["retrain"].wait(timeout=60)
    status = client.get("/api/v1/model-info").get_json()["retrain"]
    assert status["running"] is False
    assert status["state"] == "failed"
    assert "exit code 3" in status["message"]
    assert client.get("/health").get_json()["model_version"] == "seq-test.0"
