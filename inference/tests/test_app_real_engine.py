"""The app with the REAL engines and the committed artifacts in models/.

Inputs are real proteins from the shared datasets (the SARS-CoV-2 spike reference, influenza
GenBank segments); DNA inputs are made by back-translating them with random synonymous codons, so
the translated protein and its prediction must equal the protein's own.
"""

from __future__ import annotations

import os
import random
import re
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient

from inference.config import REPO_ROOT
from inference.engines.sequence.inputs import CODON_TABLE, reverse_complement

DATASETS_DIR = Path(os.environ.get("CDSS_DATASETS_DIR") or REPO_ROOT.parent / "shared" / "datasets")
REFERENCES = DATASETS_DIR / "sequences" / "viral_nextclade" / "reference_proteins.fasta"
MODELS = REPO_ROOT / "models"

pytestmark = [
    pytest.mark.skipif(
        not (MODELS / "sequence" / "CURRENT").is_file(),
        reason="the sequence model is not trained yet (models/sequence/CURRENT missing)",
    ),
    pytest.mark.skipif(not REFERENCES.is_file(), reason=f"shared datasets not at {DATASETS_DIR}"),
]


def reference(label_prefix: str) -> tuple[str, str]:
    """(header, protein) of the first reference whose id starts with ``label_prefix``."""
    header, found = "", False
    chunks: list[str] = []
    for line in REFERENCES.read_text().splitlines():
        if line.startswith(">"):
            if found:
                break
            header, chunks = line[1:], []
            found = header.startswith(label_prefix)
        elif found:
            chunks.append(line.strip())
    assert found, f"no reference {label_prefix} in {REFERENCES}"
    return header, "".join(chunks)


def back_translate(protein: str, seed: int) -> str:
    rng = random.Random(seed)
    codons: dict[str, list[str]] = {}
    for codon, amino in CODON_TABLE.items():
        codons.setdefault(amino, []).append(codon)
    return "".join(rng.choice(codons[a]) for a in protein) + "TAA"


def predict(client: FlaskClient, **body: Any) -> dict[str, Any]:
    response = client.post("/api/v1/predict", json=body)
    assert response.status_code == 200, response.get_json()
    result: dict[str, Any] = response.get_json()
    return result


def test_model_info_is_seed_compatible_and_lists_every_engine(real_client: FlaskClient) -> None:
    info = real_client.get("/api/v1/model-info").get_json()
    current = (MODELS / "sequence" / "CURRENT").read_text().strip()
    assert info["model_version"] == current
    assert info["model_name"]
    assert info["tasks"] and info["metrics"]
    assert set(info["engines"]) == {"sequence", "omics", "imaging"}
    for kind, engine in info["engines"].items():
        committed = (MODELS / kind / "CURRENT").is_file()
        assert engine["loaded"] is committed, (kind, engine)


def test_ready_matches_the_committed_models(real_client: FlaskClient) -> None:
    missing = [
        k for k in ("sequence", "omics", "imaging") if not (MODELS / k / "CURRENT").is_file()
    ]
    response = real_client.get("/ready")
    assert response.status_code == (503 if missing else 200)
    if missing:
        assert response.get_json()["not_loaded"] == missing


def test_spike_protein_prediction(real_client: FlaskClient) -> None:
    _, spike = reference("Spike_SARS-CoV-2")
    result = predict(real_client, sequence=spike, seq_type="protein", task3_threshold=0.0)
    assert result["ok"] is True
    assert result["translation"]["info"] == {"input_type": "protein", "length": len(spike)}
    assert result["model_version"] == (MODELS / "sequence" / "CURRENT").read_text().strip()
    assert "Not a medical device" in result["disclaimer"]
    prediction = result["prediction"]
    assert prediction["task1"]["is_pathogen"] is True
    assert re.search("spike", prediction["task2"]["protein_type"], re.I)
    assert prediction["task3"]["top_predictions"][0][0] == "Spike_SARS-CoV-2"
    # The reference itself is in the reference set: the best hit is identical to the query.
    best = result["nearest_references"][0]
    assert best["identity"] >= 0.999 and best["coverage"] >= 0.999


def test_dna_of_the_protein_gives_the_same_prediction(real_client: FlaskClient) -> None:
    _, spike = reference("Spike_SARS-CoV-2")
    protein = predict(real_client, sequence=spike)
    dna = back_translate(spike, seed=11)
    forward = predict(real_client, sequence=dna, seq_type="dna")
    assert forward["translation"]["protein_sequence"] == spike
    assert forward["translation"]["info"]["frame"] == 0
    assert forward["translation"]["info"]["length"] == len(spike)
    assert forward["prediction"] == protein["prediction"]

    reverse = predict(real_client, sequence="G" + reverse_complement(dna), seq_type="auto")
    info = reverse["translation"]["info"]
    assert info["input_type"] == "dna" and info["strand"] == "-"
    assert reverse["translation"]["protein_sequence"] == spike
    assert reverse["prediction"] == protein["prediction"]


def test_batch_equals_single_predictions(real_client: FlaskClient) -> None:
    proteins = [reference(label)[1] for label in ("Spike_SARS-CoV-2", "HA_H3N2", "E_DENV1")]
    items = [{"id": f"p{i}", "sequence": p, "seq_type": "protein"} for i, p in enumerate(proteins)]
    items.insert(1, {"id": "bad", "sequence": "ZZZ!", "seq_type": "protein"})
    batch = predict(real_client, items=items, task3_threshold=0.1)
    assert batch["batch"] is True and len(batch["results"]) == 4
    assert batch["results"][1]["ok"] is False and batch["results"][1]["id"] == "bad"
    singles = [predict(real_client, sequence=p, task3_threshold=0.1) for p in proteins]
    batch_ok = [r for r in batch["results"] if r["ok"]]
    for from_batch, single in zip(batch_ok, singles, strict=True):
        assert from_batch["prediction"] == single["prediction"]
        assert from_batch["model_version"] == single["model_version"] == batch["model_version"]


def test_staged_structure_is_served(real_client: FlaskClient) -> None:
    _, spike = reference("Spike_SARS-CoV-2")
    result = predict(real_client, sequence=spike)
    staged = [
        ref["structure"]["id"]
        for ref in result["nearest_references"]
        if (ref.get("structure") or {}).get("local_file")
    ]
    assert staged, "the spike's nearest references name no staged structure"
    response = real_client.get(f"/api/v1/structures/{staged[0]}")
    assert response.status_code == 200
    assert response.mimetype == "chemical/x-pdb"
    text = response.get_data(as_text=True)
    assert re.search(r"^(ATOM|HETATM) ", text, flags=re.M)
    assert real_client.get("/api/v1/structures/1ABC").status_code == 404
