"""Routes, response shapes and the error policy of the app factory, with a stand-in sequence engine.

The stand-in (conftest.FakeSequenceEngine) keeps these tests about the HTTP layer: validation,
batch isolation, JSON errors, readiness. The real engine is exercised in test_app_real_engine.py.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from inference.app import create_app
from inference.config import InferenceConfig
from inference.registry import EngineRegistry

SEED_PROTEIN = "MFVFLVLLPLVSSQCVNLTTRTQLPPAYTNSFTRGVYYPDKVFRSSVLHS"
SEED_DNA = "ATGGCTGCAGATGGTGCAATGCCA"


def test_health_is_seed_shaped(fake_client: FlaskClient) -> None:
    response = fake_client.get("/health")
    assert response.status_code == 200
    assert response.get_json() == {"ok": True, "status": "alive", "model_version": "seq-test.0"}


def test_ready_when_every_engine_is_loaded(fake_client: FlaskClient) -> None:
    response = fake_client.get("/ready")
    assert response.status_code == 200
    body = response.get_json()
    assert body["ready"] is True and body["engines"]["sequence"]["loaded"] is True


def test_not_ready_names_the_missing_engine(tmp_path: Path) -> None:
    config = InferenceConfig(
        models_dir=tmp_path / "empty-models",
        runtime_models_dir=tmp_path / "runtime",
        engines=("sequence",),
    )
    app = create_app(config)
    client = app.test_client()
    ready = client.get("/ready")
    assert ready.status_code == 503
    body = ready.get_json()
    assert body["not_loaded"] == ["sequence"]
    assert "sequence" in body["error"] and "CURRENT" in body["error"]
    # Alive but not ready; a predict is a 503 in the JSON error shape.
    assert client.get("/health").status_code == 200
    predict = client.post("/api/v1/predict", json={"sequence": SEED_PROTEIN})
    assert predict.status_code == 503
    assert "sequence" in predict.get_json()["error"]


def test_single_prediction_shape(fake_client: FlaskClient) -> None:
    response = fake_client.post(
        "/api/v1/predict",
        json={
            "doctor_name": "김의사",
            "patient_name": "홍환자",
            "sequence": SEED_PROTEIN,
            "seq_type": "protein",
            "task3_threshold": 0.5,
            "organism_hint": "  Influenza   A virus ",
        },
    )
    assert response.status_code == 200
    body = response.get_json()
    assert body["ok"] is True
    assert body["model_version"] == "seq-test.0" and body["model_name"] == "fake-sequence"
    assert body["translation"] == {
        "protein_sequence": SEED_PROTEIN,
        "info": {"input_type": "protein", "length": 50},
    }
    assert set(body["prediction"]) == {"task1", "task2", "task3"}
    assert set(body["task3_structure"]) >= {"protein_name", "top1_probability", "uniprot_hits"}
    assert "Not a medical device" in body["disclaimer"]


def test_options_reach_the_engine(fake_app: Flask) -> None:
    engine = fake_app.extensions["cdss"].engines["sequence"]
    seen = {}
    original = engine.predict_protein

    def spy(protein: str, **kwargs: object) -> dict[str, object]:
        seen.update(kwargs)
        return original(protein, **kwargs)

    engine.predict_protein = spy
    body = {"sequence": SEED_PROTEIN, "task3_threshold": 1, "organism_hint": " Flu  A ", "top_k": 3}
    assert fake_app.test_client().post("/api/v1/predict", json=body).status_code == 200
    assert seen == {"task3_threshold": 1.0, "organism_hint": "Flu A", "top_k": 3}


def test_dna_prediction_reports_frame(fake_client: FlaskClient) -> None:
    response = fake_client.post(
        "/api/v1/predict", json={"sequence": SEED_DNA, "seq_type": "dna", "frame": 0}
    )
    assert response.status_code == 200
    info = response.get_json()["translation"]["info"]
    assert info["input_type"] == "dna" and info["frame"] == 0 and info["length"] == 8


def test_batch_isolates_bad_items(fake_app: Flask) -> None:
    items = [
        {"id": "sample1", "sequence": SEED_PROTEIN, "seq_type": "protein"},
        {"id": "sample2", "sequence": SEED_DNA, "seq_type": "dna", "frame": 0},
        {"id": "bad-chars", "sequence": "MKV1LLLLLLL", "seq_type": "protein"},
        {"id": "bad-type", "sequence": SEED_PROTEIN, "seq_type": "peptide"},
        "not an object",
        {"id": "bad-frame", "sequence": SEED_DNA, "seq_type": "dna", "frame": 9},
        {"id": 7, "sequence": "MKVLBBAAAAAA"},  # the stand-in engine rejects B
        {"sequence": SEED_PROTEIN},
    ]
    response = fake_app.test_client().post(
        "/api/v1/predict", json={"items": items, "task3_threshold": 0.5}
    )
    assert response.status_code == 200
    body = response.get_json()
    assert body["ok"] is True and body["batch"] is True
    assert body["model_version"] == "seq-test.0"
    results = body["results"]
    assert [r["index"] for r in results] == list(range(len(items)))
    assert [r["ok"] for r in results] == [True, True, False, False, False, False, False, True]
    assert [r["id"] for r in results] == [
        "sample1", "sample2", "bad-chars", "bad-type", None, "bad-frame", 7, None,
    ]  # fmt: skip
    assert results[2]["field"] == "items[2].sequence" and "'1'" in results[2]["error"]
    assert results[3]["field"] == "items[3].seq_type"
    assert results[4]["field"] == "items[4]"
    assert results[5]["field"] == "items[5].frame"
    assert "refuses B" in results[6]["error"]
    assert results[1]["translation"]["info"]["frame"] == 0
    assert (body["count"], body["succeeded"], body["failed"]) == (8, 3, 5)


def test_batch_calls_engine_vectorised(fake_app: Flask) -> None:
    engine = fake_app.extensions["cdss"].engines["sequence"]
    items = [{"id": i, "sequence": SEED_PROTEIN[i:] + "A" * i} for i in range(300)]
    response = fake_app.test_client().post("/api/v1/predict", json={"items": items})
    assert response.status_code == 200
    assert sum(engine.calls) == 300 and len(engine.calls) < 300


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"sequence": ""}, "sequence"),
        ({"seq_type": "protein"}, "sequence"),
        ({"sequence": "MKVJ" * 5}, "sequence"),
        ({"sequence": SEED_PROTEIN, "seq_type": "xna"}, "seq_type"),
        ({"sequence": SEED_DNA, "seq_type": "dna", "frame": 7}, "frame"),
        ({"sequence": SEED_PROTEIN, "task3_threshold": 1.5}, "task3_threshold"),
        ({"sequence": SEED_PROTEIN, "task3_threshold": "high"}, "task3_threshold"),
        ({"sequence": SEED_PROTEIN, "task3_threshold": True}, "task3_threshold"),
        ({"sequence": SEED_PROTEIN, "organism_hint": 3}, "organism_hint"),
        ({"sequence": SEED_PROTEIN, "top_k": 0}, "top_k"),
        ({"items": []}, "items"),
        ({"items": "abc"}, "items"),
        ({"items": [{"sequence": SEED_PROTEIN}], "sequence": SEED_PROTEIN}, "body"),
    ],
)
def test_bad_requests_are_400_naming_the_field(
    fake_client: FlaskClient, body: dict[str, object], field: str
) -> None:
    response = fake_client.post("/api/v1/predict", json=body)
    assert response.status_code == 400
    error = response.get_json()
    assert error["field"] == field
    assert error["error"].startswith(f"{field}: ")


@pytest.mark.parametrize(
    ("data", "fragment"),
    [(b"", "is empty"), (b"{not json", "not valid JSON"), (b"[1, 2]", "must be a JSON object")],
)
def test_body_that_is_not_a_json_object(
    fake_client: FlaskClient, data: bytes, fragment: str
) -> None:
    response = fake_client.post("/api/v1/predict", data=data, content_type="application/json")
    assert response.status_code == 400
    assert response.get_json()["field"] == "body" and fragment in response.get_json()["error"]


def test_too_many_items(fake_client: FlaskClient, fake_app: Flask) -> None:
    fake_app.config["MAX_CONTENT_LENGTH"] = None  # this test is about the item count, not bytes
    response = fake_client.post("/api/v1/predict", json={"items": [{}] * 10_001})
    assert response.status_code == 400
    assert "10001" in response.get_json()["error"]


def test_body_over_the_limit_is_413_json(fake_client: FlaskClient) -> None:
    body = json.dumps({"sequence": "A" * (64 * 1024)})
    response = fake_client.post("/api/v1/predict", data=body, content_type="application/json")
    assert response.status_code == 413
    assert "65536 bytes" in response.get_json()["error"]


def test_unknown_route_and_method_are_json(fake_client: FlaskClient) -> None:
    missing = fake_client.get("/api/v1/nothing-here")
    assert missing.status_code == 404 and "error" in missing.get_json()
    wrong = fake_client.get("/api/v1/predict")
    assert wrong.status_code == 405
    assert wrong.get_json()["allowed_methods"] == ["OPTIONS", "POST"]


def test_unexpected_engine_failure_is_a_500_without_details(fake_app: Flask) -> None:
    engine = fake_app.extensions["cdss"].engines["sequence"]

    def broken(protein: str, **kwargs: object) -> dict[str, object]:
        raise RuntimeError("secret internal detail")

    engine.predict_protein = broken
    response = fake_app.test_client().post("/api/v1/predict", json={"sequence": SEED_PROTEIN})
    assert response.status_code == 500
    request_id = response.headers["X-Request-ID"]
    assert response.get_json() == {"error": "internal server error", "request_id": request_id}


def test_model_info_lists_engines_and_seed_fields(fake_client: FlaskClient) -> None:
    body = fake_client.get("/api/v1/model-info").get_json()
    assert body["model_version"] == "seq-test.0"
    assert body["model_name"] == "fake-sequence"
    assert body["tasks"] and body["metrics"]
    assert set(body["engines"]) == {"sequence"}
    assert body["retrain"] == {"running": False, "state": "idle"}
    assert body["limits"]["max_batch_items"] == 10_000


def test_unknown_structure_is_404(fake_client: FlaskClient) -> None:
    for pdb_id in ("9ZZZ", "not-an-id", "..%2F..%2Fetc"):
        response = fake_client.get(f"/api/v1/structures/{pdb_id}")
        assert response.status_code == 404
        assert "error" in response.get_json()


def test_engine_mapping_raises_not_ready_for_unconfigured(fake_app: Flask) -> None:
    engines = fake_app.extensions["cdss"].engines
    assert "omics" not in engines and list(engines) == ["sequence"]
    response = fake_app.test_client().post("/api/v1/omics/predict", json={"model": "rosmap"})
    assert response.status_code in (400, 404, 503)
    assert "error" in response.get_json()


def test_registry_reloads_when_current_changes(
    fake_config: InferenceConfig, fake_engine_class: type
) -> None:
    registry = EngineRegistry(fake_config, factories={"sequence": fake_engine_class})
    registry.load_all()
    assert registry.get("sequence").info()["version"] == "seq-test.0"
    runtime = fake_config.runtime_models_dir / "sequence"
    (runtime / "seq-test.1").mkdir(parents=True)
    (runtime / "CURRENT").write_text("seq-test.1\n")
    for thread in registry.refresh_if_changed(force=True):
        thread.join()
    assert registry.version("sequence") == "seq-test.1"
    assert registry.get("sequence").info()["version"] == "seq-test.1"
    # A CURRENT that names a missing version keeps the loaded engine serving.
    (runtime / "CURRENT").write_text("seq-test.9\n")
    assert registry.refresh_if_changed(force=True) == []
    assert registry.version("sequence") == "seq-test.1"
