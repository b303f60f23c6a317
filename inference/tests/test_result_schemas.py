"""Every engine's ``result_schema`` and ``limits`` in model-info, checked against real answers.

The answers come from the real engines and the committed models, through the real routes; each
is validated (``jsonschema``, draft 2020-12) against the schema model-info publishes, not against
a copy held by the test. The published limits are checked against what the routes enforce.
"""

from __future__ import annotations

import copy
import io
import json
import os
import random
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from jsonschema import Draft202012Validator

from inference.app import create_app
from inference.config import REPO_ROOT, InferenceConfig
from inference.engines import ENGINES
from inference.registry import import_engine_class

MODELS = REPO_ROOT / "models"
DATASETS = Path(os.environ.get("CDSS_DATASETS_DIR") or REPO_ROOT.parent / "shared" / "datasets")
CT_EXAMPLE = DATASETS / "imaging" / "totalsegmentator_example_ct"
SEED_PROTEIN = "MFVFLVLLPLVSSQCVNLTTRTQLPPAYTNSFTRGVYYPDKVFRSSVLHS"
SEED_DNA = "ATGGCTGCAGATGGTGCAATGCCA"
_AMINO_ACIDS = "ACDEFGHIKLMNPQRSTVWY"
# Shuffled proteins, far from every reference: most are answered "unknown" (with a best guess).
RANDOM_PROTEINS = [
    "".join(random.Random(seed).choice(_AMINO_ACIDS) for _ in range(400)) for seed in range(4)
]


def _needs_model(kind: str) -> pytest.MarkDecorator:
    return pytest.mark.skipif(
        not (MODELS / kind / "CURRENT").is_file(), reason=f"models/{kind}/CURRENT missing"
    )


@pytest.fixture(scope="module")
def model_info(real_app: Flask) -> dict[str, Any]:
    response = real_app.test_client().get("/api/v1/model-info")
    assert response.status_code == 200
    info: dict[str, Any] = response.get_json()
    return info


def _validator(model_info: dict[str, Any], kind: str) -> Draft202012Validator:
    schema = model_info["engines"][kind]["result_schema"]
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema)


def _valid(validator: Draft202012Validator, answer: Any) -> None:
    errors = sorted(validator.iter_errors(answer), key=lambda e: list(e.absolute_path))
    assert not errors, [f"{list(e.absolute_path)}: {e.message[:300]}" for e in errors[:5]]


def test_model_info_publishes_limits_and_schema_for_every_engine(
    model_info: dict[str, Any],
) -> None:
    assert set(model_info["engines"]) == set(ENGINES)
    assert datetime.fromisoformat(model_info["started_at"]).tzinfo is not None
    for kind, engine in model_info["engines"].items():
        assert engine["result_schema"]["$schema"].endswith("/2020-12/schema"), kind
        assert engine["limits"]["max_body_bytes"] == InferenceConfig().max_body, kind
    sequence = model_info["engines"]["sequence"]["limits"]
    # The seed's top-level block says the same as the sequence engine's limits.
    assert model_info["limits"] == {
        "max_body_bytes": sequence["max_body_bytes"],
        "protein_length": [sequence["min_protein_length"], sequence["max_protein_length"]],
        "max_nucleotide_length": sequence["max_nucleotide_length"],
        "max_batch_items": sequence["max_batch_items"],
    }


def test_an_unloaded_engine_still_publishes_its_limits_and_schema(tmp_path: Path) -> None:
    config = InferenceConfig(
        models_dir=tmp_path / "no-models", runtime_models_dir=tmp_path / "runtime"
    )
    info = create_app(config).test_client().get("/api/v1/model-info").get_json()
    for kind, engine in info["engines"].items():
        assert engine["loaded"] is False and "CURRENT" in engine["error"], kind
        assert engine["limits"] == import_engine_class(kind).limits(config), kind
        Draft202012Validator.check_schema(engine["result_schema"])


@_needs_model("sequence")
def test_sequence_answers_match_the_published_schema(
    model_info: dict[str, Any], real_client: FlaskClient
) -> None:
    validator = _validator(model_info, "sequence")
    bodies: list[dict[str, Any]] = [
        {"sequence": SEED_PROTEIN, "task3_threshold": 0.0, "top_k": 5},
        {"sequence": SEED_DNA, "seq_type": "dna", "frame": 0},
        {"sequence": SEED_DNA, "seq_type": "auto"},
        {"sequence": RANDOM_PROTEINS[0], "organism_hint": "Influenza A virus"},
        {
            "items": [
                {"id": "spike", "sequence": SEED_PROTEIN},
                {"id": 7, "sequence": SEED_DNA, "seq_type": "dna"},
                {"id": None, "sequence": "MKV1LLLL", "seq_type": "protein"},
                "not an object",
                *({"sequence": protein} for protein in RANDOM_PROTEINS),
            ]
        },
    ]
    answers = []
    for body in bodies:
        response = real_client.post("/api/v1/predict", json=body)
        assert response.status_code == 200, response.get_json()
        answers.append(response.get_json())
        _valid(validator, answers[-1])
    batch = answers[-1]
    assert batch["failed"] == 2 and batch["succeeded"] == 2 + len(RANDOM_PROTEINS)
    # The optional parts of the schema were exercised too.
    assert answers[0]["task3_structure"]["uniprot_hits"], "no UniProt hit to check its shape"
    assert any(
        "best_guess" in item["prediction"]["task2"] for item in batch["results"] if item["ok"]
    ), "no 'unknown' answer to check its shape"

    # The schema is not vacuous: a missing field, an undeclared one, a wrong type all fail.
    missing = copy.deepcopy(answers[0])
    del missing["prediction"]
    extra = copy.deepcopy(answers[0])
    extra["prediction"]["task1"]["odds"] = 2.0
    wrong = copy.deepcopy(answers[-1])
    wrong["results"][0]["nearest_references"][0]["identity"] = "high"
    for broken in (missing, extra, wrong):
        assert not validator.is_valid(broken)


@_needs_model("sequence")
def test_sequence_limits_are_the_ones_the_route_enforces(
    model_info: dict[str, Any], real_client: FlaskClient
) -> None:
    limits = model_info["engines"]["sequence"]["limits"]
    for protein, ok in (
        ("M" * limits["min_protein_length"], True),
        ("M" * (limits["min_protein_length"] - 1), False),
        ("M" * (limits["max_protein_length"] + 1), False),
    ):
        status = real_client.post("/api/v1/predict", json={"sequence": protein}).status_code
        assert status == (200 if ok else 400), len(protein)
    too_long_dna = {"sequence": "A" * (limits["max_nucleotide_length"] + 1), "seq_type": "dna"}
    assert real_client.post("/api/v1/predict", json=too_long_dna).status_code == 400
    over_k = {"sequence": SEED_PROTEIN, "top_k": limits["max_top_k"] + 1}
    assert real_client.post("/api/v1/predict", json=over_k).get_json()["field"] == "top_k"
    hint = {
        "sequence": SEED_PROTEIN,
        "organism_hint": "x" * (limits["max_organism_hint_length"] + 1),
    }
    assert real_client.post("/api/v1/predict", json=hint).get_json()["field"] == "organism_hint"
    # Items: one over the limit is refused by count (the JSON of empty items is small).
    items: dict[str, Any] = {"items": [{}] * (limits["max_batch_items"] + 1)}
    response = real_client.post("/api/v1/predict", json=items)
    assert response.status_code == 400 and response.get_json()["field"] == "items"


def _omics_features() -> dict[str, dict[str, Any]]:
    version = (MODELS / "omics" / "CURRENT").read_text().strip()
    folder = MODELS / "omics" / version
    rosmap = json.loads((folder / "rosmap" / "model.json").read_text())
    paad = json.loads((folder / "tcga_paad" / "model.json").read_text())
    return {"rosmap": rosmap["views"], "tcga_paad": paad["blocks"]}


@_needs_model("omics")
def test_omics_answers_match_the_published_schema(
    model_info: dict[str, Any], real_client: FlaskClient
) -> None:
    validator = _validator(model_info, "omics")
    views = _omics_features()["rosmap"]
    rosmap = {view: dict.fromkeys(spec["features"][:20], 0.5) for view, spec in views.items()}
    paad = {"clinical": {"age_years": 70, "pathologic_stage": "stage iib", "sex_male": "female"}}
    mrna = views["mrna"]["features"][:3]
    table = "id," + ",".join(f"mrna:{f}" for f in mrna) + "\ns1,0.1,0.2,0.3\ns2,0.9,,0.7\n"
    requests: list[dict[str, Any]] = [
        {"json": {"model": "rosmap", "sample": rosmap}},
        {"json": {"model": "tcga_paad", "sample": paad}},
        {"json": {"model": "rosmap", "samples": [rosmap, {"mrna": {"bogus": 1}}, {}]}},
        {"json": {"model": "tcga_paad", "samples": [paad, paad]}},
        {
            "data": {"model": "rosmap", "file": (io.BytesIO(table.encode()), "t.csv")},
            "content_type": "multipart/form-data",
        },
    ]
    answers = []
    for request in requests:
        response = real_client.post("/api/v1/omics/predict", **request)
        assert response.status_code == 200, response.get_json()
        answers.append(response.get_json())
        _valid(validator, answers[-1])
    assert answers[2]["failed"] == 2 and [r["id"] for r in answers[4]["results"]] == ["s1", "s2"]
    broken = copy.deepcopy(answers[1])
    broken["risk_group"] = "medium"
    assert not validator.is_valid(broken)


@_needs_model("omics")
def test_omics_limits_are_the_ones_the_route_enforces(
    model_info: dict[str, Any], real_client: FlaskClient
) -> None:
    limits = model_info["engines"]["omics"]["limits"]
    over = {"model": "rosmap", "samples": [{}] * (limits["max_samples"] + 1)}
    response = real_client.post("/api/v1/omics/predict", json=over)
    assert response.status_code == 400 and response.get_json()["field"] == "samples"
    big = b"id\n" + b"x" * limits["max_file_bytes"]
    response = real_client.post(
        "/api/v1/omics/predict",
        data={"model": "rosmap", "file": (io.BytesIO(big), "t.csv")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 413 and response.get_json()["field"] == "file"


@_needs_model("imaging")
@pytest.mark.skipif(not CT_EXAMPLE.is_dir(), reason=f"example CT not found at {CT_EXAMPLE}")
def test_imaging_answers_match_the_published_schema(
    model_info: dict[str, Any], real_client: FlaskClient
) -> None:
    validator = _validator(model_info, "imaging")
    uploads = [
        {
            "volume": (io.BytesIO((CT_EXAMPLE / "example_ct_sm.nii.gz").read_bytes()), "ct"),
            "segmentation": (io.BytesIO((CT_EXAMPLE / "example_seg.nii.gz").read_bytes()), "s"),
        },
        {"volume": (io.BytesIO((CT_EXAMPLE / "example_ct_sm.nii.gz").read_bytes()), "ct")},
    ]
    answers = []
    for data in uploads:
        response = real_client.post(
            "/api/v1/imaging/analyze", data=data, content_type="multipart/form-data"
        )
        assert response.status_code == 200, response.get_json()
        answers.append(response.get_json())
        _valid(validator, answers[-1])
    assert answers[0]["structures"] and len(answers[0]["findings"]) == 2
    assert answers[1]["findings"] == [] and answers[1]["notes"]
    broken = copy.deepcopy(answers[0])
    broken["volume"]["shape"] = [122, 101]
    assert not validator.is_valid(broken)
