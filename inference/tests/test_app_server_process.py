"""The server as a real separate process over HTTP: dev server, gunicorn, misbehaving modes.

Uses ``inference.testing.start_server``, the same helper the Django test suites use, with the real
committed sequence model.
"""

from __future__ import annotations

import http.client
import json
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from inference.config import REPO_ROOT
from inference.testing import GARBAGE_BODY, ServerHandle, ServerStartError, start_server

SEED_PROTEIN = "MFVFLVLLPLVSSQCVNLTTRTQLPPAYTNSFTRGVYYPDKVFRSSVLHS"
BODY_LIMIT = 256 * 1024
needs_models = pytest.mark.skipif(
    not (REPO_ROOT / "models" / "sequence" / "CURRENT").is_file(),
    reason="the sequence model is not trained yet (models/sequence/CURRENT missing)",
)


def call(
    handle: ServerHandle,
    method: str,
    path: str,
    body: Any = None,
    *,
    raw: bytes | None = None,
    timeout: float = 30.0,
) -> tuple[int, bytes]:
    connection = http.client.HTTPConnection(handle.host, handle.port, timeout=timeout)
    try:
        data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
        headers = {"Content-Type": "application/json"} if data is not None else {}
        connection.request(method, path, body=data, headers=headers)
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


def server_env(tmp: Path, **extra: str) -> dict[str, str]:
    return {
        "CDSS_INFERENCE_ENGINES": "sequence",
        "CDSS_RUNTIME_MODELS_DIR": str(tmp / "runtime"),
        "CDSS_INFERENCE_MAX_BODY": str(BODY_LIMIT),
        **extra,
    }


@pytest.fixture(scope="module")
def dev_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerHandle]:
    with start_server(env=server_env(tmp_path_factory.mktemp("dev"))) as handle:
        yield handle


@needs_models
def test_health_ready_and_model_info(dev_server: ServerHandle) -> None:
    status, body = call(dev_server, "GET", "/health")
    assert status == 200
    health = json.loads(body)
    assert health["ok"] is True and health["status"] == "alive"
    current = (REPO_ROOT / "models" / "sequence" / "CURRENT").read_text().strip()
    assert health["model_version"] == current

    status, body = call(dev_server, "GET", "/ready")
    assert status == 200 and json.loads(body)["ready"] is True

    status, body = call(dev_server, "GET", "/api/v1/model-info")
    info = json.loads(body)
    assert status == 200 and info["model_version"] == current
    assert info["engines"]["sequence"]["loaded"] is True


@needs_models
def test_predict_single_and_batch_over_http(dev_server: ServerHandle) -> None:
    status, body = call(
        dev_server, "POST", "/api/v1/predict", {"sequence": SEED_PROTEIN, "seq_type": "protein"}
    )
    assert status == 200
    single = json.loads(body)
    assert single["ok"] is True and single["translation"]["info"]["length"] == 50
    assert 0.0 <= single["prediction"]["task1"]["probability"] <= 1.0

    items = [
        {"id": "sample1", "sequence": SEED_PROTEIN, "seq_type": "protein"},
        {"id": "sample2", "sequence": "ATGGCTGCAGATGGTGCAATGCCA", "seq_type": "dna", "frame": 0},
        {"id": "bad", "sequence": "NOT A SEQUENCE 123", "seq_type": "protein"},
    ]
    status, body = call(dev_server, "POST", "/api/v1/predict", {"items": items})
    batch = json.loads(body)
    assert status == 200 and batch["batch"] is True
    assert [r["ok"] for r in batch["results"]] == [True, True, False]
    # The batch answer for an item equals the single answer for the same input.
    assert batch["results"][0]["prediction"] == single["prediction"]


@needs_models
def test_errors_are_json_over_http(dev_server: ServerHandle) -> None:
    status, body = call(dev_server, "POST", "/api/v1/predict", {"sequence": "MKV", "seq_type": "x"})
    assert status == 400 and json.loads(body)["field"] == "seq_type"

    status, body = call(dev_server, "POST", "/api/v1/predict", raw=b"{broken")
    assert status == 400 and json.loads(body)["field"] == "body"

    status, body = call(dev_server, "DELETE", "/health")
    assert status == 405 and "error" in json.loads(body)

    too_big = json.dumps({"sequence": "M" * (BODY_LIMIT + 1)}).encode()
    status, body = call(dev_server, "POST", "/api/v1/predict", raw=too_big)
    assert status == 413 and str(BODY_LIMIT) in json.loads(body)["error"]


@needs_models
def test_gunicorn_serves_the_same_app(tmp_path: Path) -> None:
    env = server_env(tmp_path, CDSS_INFERENCE_WORKERS="1")
    with start_server(env=env, gunicorn=True) as handle:
        status, body = call(handle, "POST", "/api/v1/predict", {"sequence": SEED_PROTEIN})
        assert status == 200 and json.loads(body)["ok"] is True
        status, _ = call(handle, "GET", "/ready")
        assert status == 200


def test_start_failure_reports_the_log(tmp_path: Path) -> None:
    with pytest.raises(ServerStartError) as caught:
        start_server(env={"CDSS_INFERENCE_PORT": "not-a-port"}, startup_timeout=60)
    assert "CDSS_INFERENCE_PORT must be an integer" in str(caught.value)


def test_garbage_mode_answers_non_json() -> None:
    with start_server(mode="garbage") as handle:
        for method, path in (("GET", "/health"), ("POST", "/api/v1/predict")):
            status, body = call(handle, method, path, {"sequence": SEED_PROTEIN})
            assert status == 200 and body == GARBAGE_BODY
            with pytest.raises(ValueError):
                json.loads(body)


def test_slow_mode_answers_late() -> None:
    with start_server(mode="slow", delay=30) as handle:
        with pytest.raises(socket.timeout):
            call(handle, "GET", "/health", timeout=0.5)
        status, _ = call(handle, "GET", "/__testing__/ping", timeout=5)
        assert status == 200
