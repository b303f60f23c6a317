"""POST /api/v1/retrain: a real child process, one run at a time (409), progress, reload.

The trainer here is a small stand-in script written by the test (the real
``training.sequences.retrain`` takes minutes); it speaks the same CLI and status-file contract, and
waits for a "go" file so the test controls when it finishes without sleeping.
"""

from __future__ import annotations

import dataclasses
import json
import os
import textwrap
from pathlib import Path

import pytest
from flask import Flask

from inference.app import create_app
from inference.config import REPO_ROOT, InferenceConfig
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
def data_root(tmp_path: Path) -> Path:
    """The one configured training data root."""
    path = tmp_path / "datasets"
    path.mkdir()
    return path


def _retrain_app(
    tmp_path: Path,
    config: InferenceConfig,
    engine_class: type,
    monkeypatch: pytest.MonkeyPatch,
) -> Flask:
    stub_dir = tmp_path / "stubs"
    stub_dir.mkdir(exist_ok=True)
    (stub_dir / "stub_trainer.py").write_text(STUB_TRAINER)
    monkeypatch.setenv("PYTHONPATH", str(stub_dir))
    registry = EngineRegistry(config, factories={"sequence": engine_class})
    registry.load_all()
    return create_app(config, registry=registry, retrain_module="stub_trainer")


@pytest.fixture
def retrain_app(
    tmp_path: Path,
    data_root: Path,
    fake_config: InferenceConfig,
    fake_engine_class: type,
    monkeypatch: pytest.MonkeyPatch,
) -> Flask:
    config = dataclasses.replace(fake_config, training_data_roots=(data_root,))
    return _retrain_app(tmp_path, config, fake_engine_class, monkeypatch)


@pytest.fixture
def data_dir(data_root: Path) -> Path:
    path = data_root / "training-data"
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
    manager = retrain_app.extensions["cdss"].retrain
    body = {"training_data_path": str(data_dir), "epochs": 2, "batch_size": 8}

    started = client.post("/api/v1/retrain", json=body)
    assert started.status_code == 200
    assert started.get_json()["status"] == "started"

    progress = client.get("/api/v1/model-info").get_json()["retrain"]
    assert progress["running"] is True
    assert progress["state"] in ("starting", "running")
    assert client.get("/api/v1/retrain/status").get_json()["job"]["epochs"] == 2

    busy = client.post("/api/v1/retrain", json=body)
    assert busy.status_code == 409
    assert "already in progress" in busy.get_json()["error"]

    (data_dir / "go").touch()
    manager.wait(timeout=60)

    info = client.get("/api/v1/model-info").get_json()
    assert info["retrain"]["running"] is False
    assert info["retrain"]["state"] == "completed" and info["retrain"]["promoted"] is True
    assert client.get("/api/v1/retrain/status").get_json()["job"]["exit_code"] == 0
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
    retrain_app.extensions["cdss"].retrain.wait(timeout=60)
    status = client.get("/api/v1/model-info").get_json()["retrain"]
    assert status["running"] is False
    assert status["state"] == "failed"
    assert "exit code 3" in status["message"]
    assert client.get("/health").get_json()["model_version"] == "seq-test.0"


def test_paths_outside_the_roots_get_one_answer_whether_they_exist_or_not(
    retrain_app: Flask, tmp_path: Path, data_root: Path
) -> None:
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    (data_root / "escape").symlink_to(outside, target_is_directory=True)
    probes = [
        str(outside),  # exists
        str(tmp_path / "no-such-folder"),  # does not
        "/etc",
        "/",
        "/no/such/path/at/all",
        str(data_root / ".." / "elsewhere"),
        str(data_root / "escape"),  # a symlink inside the root that leads out of it
        str(data_root / "escape" / "sub"),
        str(data_root) + "-sibling",  # a prefix of the root is not inside it
    ]
    client = retrain_app.test_client()
    answers = set()
    for path in probes:
        response = client.post("/api/v1/retrain", json={"training_data_path": path})
        assert response.status_code == 400, path
        body = response.get_json()
        assert body["field"] == "training_data_path"
        assert str(tmp_path) not in body["error"] and "exist" not in body["error"]
        answers.add(json.dumps(body, sort_keys=True))
    assert len(answers) == 1


def test_relative_paths_and_missing_folders_inside_the_root(
    retrain_app: Flask, data_root: Path
) -> None:
    client = retrain_app.test_client()
    relative = client.post("/api/v1/retrain", json={"training_data_path": "datasets"})
    assert relative.status_code == 400 and "absolute" in relative.get_json()["error"]
    missing = client.post(
        "/api/v1/retrain", json={"training_data_path": str(data_root / "not-there")}
    )
    assert missing.status_code == 400
    assert missing.get_json()["field"] == "training_data_path"
    assert str(data_root) not in missing.get_json()["error"]


def test_retraining_is_disabled_without_roots(
    tmp_path: Path,
    data_dir: Path,
    fake_config: InferenceConfig,
    fake_engine_class: type,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    config = dataclasses.replace(fake_config, training_data_roots=())
    app = _retrain_app(tmp_path, config, fake_engine_class, monkeypatch)
    response = app.test_client().post("/api/v1/retrain", json={"training_data_path": str(data_dir)})
    assert response.status_code == 403
    assert "CDSS_TRAINING_DATA_ROOTS" in response.get_json()["error"]
    assert not (config.runtime_models_dir / "sequence" / "retrain_job.json").exists()


def _leaks(text: str, tmp_path: Path) -> list[str]:
    words = ["pid", '"log"', "command", "training_data_path", str(tmp_path), str(REPO_ROOT)]
    return [word for word in words if word in text]


def test_model_info_and_retrain_status_publish_no_paths_or_pids(
    retrain_app: Flask, data_dir: Path, tmp_path: Path
) -> None:
    client = retrain_app.test_client()
    body = {"training_data_path": str(data_dir), "epochs": 2, "batch_size": 8}
    started = client.post("/api/v1/retrain", json=body)
    assert started.status_code == 200
    assert _leaks(json.dumps({k: v for k, v in started.get_json().items()}), tmp_path) in (
        [],
        ["training_data_path", str(tmp_path)],  # the caller's own input, echoed as sent
    )
    running_info = client.get("/api/v1/model-info").get_data(as_text=True)
    running_status = client.get("/api/v1/retrain/status")
    assert running_status.status_code == 200
    assert running_status.get_json()["job"]["epochs"] == 2
    (data_dir / "go").touch()
    retrain_app.extensions["cdss"].retrain.wait(timeout=60)
    done_info = client.get("/api/v1/model-info").get_data(as_text=True)
    done_status = client.get("/api/v1/retrain/status")
    assert done_status.get_json()["job"]["exit_code"] == 0
    for text in (running_info, done_info, running_status.get_data(as_text=True)):
        assert _leaks(text, tmp_path) == [], text
    assert _leaks(done_status.get_data(as_text=True), tmp_path) == []


def test_a_failure_message_names_no_path(
    retrain_app: Flask, data_dir: Path, tmp_path: Path
) -> None:
    client = retrain_app.test_client()
    (data_dir / "go").touch()
    assert (
        client.post(
            "/api/v1/retrain", json={"training_data_path": str(data_dir), "epochs": 13}
        ).status_code
        == 200
    )
    retrain_app.extensions["cdss"].retrain.wait(timeout=60)
    status = client.get("/api/v1/model-info").get_json()["retrain"]
    assert status["state"] == "failed" and "exit code 3" in status["message"]
    assert _leaks(json.dumps(status), tmp_path) == []


def test_training_data_roots_from_the_environment(tmp_path: Path) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    parsed = InferenceConfig.from_env({"CDSS_TRAINING_DATA_ROOTS": f"{a},{b}{os.pathsep} "})
    assert parsed.training_data_roots == (a, b)
    assert InferenceConfig.from_env({"CDSS_TRAINING_DATA_ROOTS": " "}).training_data_roots == ()
    default = InferenceConfig.from_env({"CDSS_DATASETS_DIR": str(tmp_path / "ds")})
    assert default.training_data_roots == (tmp_path / "ds",)
    fallback = InferenceConfig.from_env({})
    assert fallback.training_data_roots == ((REPO_ROOT.parent / "shared" / "datasets").resolve(),)
