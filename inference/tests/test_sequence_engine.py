"""SequenceEngine on the committed model artifacts (models/sequence/CURRENT)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from inference.engines.base import DISCLAIMER, Engine
from inference.engines.sequence import SequenceEngine
from inference.errors import InvalidInput, NotReady
from training.sequences import data

REPO = Path(__file__).resolve().parents[2]
MODEL_ROOT = REPO / "models" / "sequence"
DATASETS = data.default_datasets_dir()
needs_data = pytest.mark.skipif(
    not (data.sequences_root(DATASETS) / "viral_nextclade").is_dir(),
    reason="shared sequence datasets not present",
)


@pytest.fixture(scope="module")
def engine() -> SequenceEngine:
    eng = SequenceEngine()
    eng.load(MODEL_ROOT)
    return eng


@pytest.fixture(scope="module")
def held_out(engine: SequenceEngine) -> list[data.Record]:
    """Test-split proteins of the committed version (never seen in training)."""
    if not (data.sequences_root(DATASETS) / "viral_nextclade").is_dir():
        pytest.skip("shared sequence datasets not present")
    assert engine.version_dir is not None
    ids = set((engine.version_dir / "test_ids.txt").read_text().split())
    return [r for r in data.load_records(DATASETS) if r.ref_id in ids]


def test_engine_protocol_and_info(engine: SequenceEngine) -> None:
    assert isinstance(engine, Engine)
    info = engine.info()
    assert info["name"] == "sequence" and info["loaded"] is True
    assert info["version"] == (MODEL_ROOT / "CURRENT").read_text().strip()
    assert "Spike glycoprotein" in info["tasks"]["task2"]["labels"]
    assert "HA_H1N1pdm" in info["tasks"]["task3"]["labels"]
    assert info["metrics"]["task1"]["roc_auc"] > 0.5


def test_unloaded_engine_is_not_ready() -> None:
    eng = SequenceEngine()
    assert eng.loaded is False and eng.info()["loaded"] is False
    with pytest.raises(NotReady):
        eng.predict_protein("MKTAYIAKQR")


def test_invalid_input_is_rejected(engine: SequenceEngine) -> None:
    with pytest.raises(InvalidInput):
        engine.predict_protein("")
    with pytest.raises(InvalidInput):
        engine.predict_protein("MKT1AY")
    with pytest.raises(InvalidInput):
        engine.predict_protein("MKTAYIAKQRQISFVKSHFSRQ", task3_threshold=1.5)


@needs_data
def test_held_out_proteins_are_mostly_right(
    engine: SequenceEngine, held_out: list[data.Record]
) -> None:
    rng = np.random.default_rng(11)
    sample = [held_out[i] for i in rng.choice(len(held_out), size=60, replace=False)]
    results = engine.predict_proteins([r.sequence for r in sample])
    t1 = [r.task1 == int(res["prediction"]["task1"]["is_pathogen"])
          for r, res in zip(sample, results, strict=True) if r.task1 >= 0]  # fmt: skip
    # A protein far from every reference reports "unknown" and keeps its best guess aside.
    t2 = [r.task2 == res["prediction"]["task2"].get("best_guess",
                                                    res["prediction"]["task2"]["protein_type"])
          for r, res in zip(sample, results, strict=True) if r.task2]  # fmt: skip
    assert np.mean(t1) >= 0.85
    assert np.mean(t2) >= 0.75
    for res in results:
        assert res["disclaimer"] == DISCLAIMER and res["model_name"] and res["model_version"]
        json.dumps(res)  # plain JSON types only


@needs_data
def test_mutated_spike_gets_type_label_references_and_a_local_pdb(engine: SequenceEngine) -> None:
    # Spike lineages are near-identical, so no spike is held out; mutate 2% of a dataset spike.
    spike = next(r for r in data.load_records(DATASETS) if r.task3 == "Spike_SARS-CoV-2")
    residues = list(spike.sequence)
    rng = np.random.default_rng(1)
    for i in rng.choice(len(residues), size=len(residues) // 50, replace=False):
        residues[i] = "W" if residues[i] != "W" else "A"
    res = engine.predict_protein("".join(residues), top_k=3)
    pred = res["prediction"]
    assert pred["task1"]["is_pathogen"] is True
    assert pred["task2"]["protein_type"] == "Spike glycoprotein"
    assert pred["task3"]["top_predictions"][0][0] == "Spike_SARS-CoV-2"
    assert res["confidence"] == "high"
    refs = res["nearest_references"]
    assert 1 <= len(refs) <= 3
    assert 0.9 < refs[0]["identity"] < 1.0 and refs[0]["coverage"] > 0.9
    assert [r["score"] for r in refs] == sorted((r["score"] for r in refs), reverse=True)
    assert refs[0]["structure"]["source"] == "pdb"
    hits = res["task3_structure"]["uniprot_hits"]
    assert hits and hits[0]["uniprot_id"] == "P0DTC2"
    assert hits[0]["preferred_3d"]["id"] == "6VXX"
    path = engine.structure_path(hits[0]["preferred_3d"]["id"])
    assert path is not None and "ATOM" in path.read_text()


SPIKE_FRAGMENT = "MFVFLVLLPLVSSQCVNLTTRTQLPPAYTNSFTRGVYYPDKVFRSSVLHS"
HCV_CORE = (
    "MSTNPKPQRKTKRNTNRRPQDVKFPGGGQIVGGVYLLPRRGPRLGVRATRKTSERSQPRGRRQPIPKARRPEGRTWAQPGYPWPLYGN"
    "EGCGWAGWLLSPRGSRPSWGPTDPRRRSRNLGKVIDTLTCGFADLMGYIPLVGAPLGGAARALAHGVRVLEDGVNYATGNLPGCSFSI"
    "FLLALLSCLTVPASA"
)


def test_spike_fragment_takes_the_label_of_the_reference_it_aligns_to(
    engine: SequenceEngine,
) -> None:
    # 50 residues of the spike N-terminus: aligns at identity 1.0 / coverage 1.0 to the spike.
    res = engine.predict_protein(SPIKE_FRAGMENT, top_k=3)
    refs = res["nearest_references"]
    assert refs[0]["identity"] == 1.0 and refs[0]["coverage"] == 1.0
    assert res["confidence"] != "unknown"
    assert res["prediction"]["task1"]["is_pathogen"] is True
    assert res["prediction"]["task2"]["protein_type"] == "Spike glycoprotein"
    assert res["prediction"]["task3"]["top_predictions"][0][0] == "Spike_SARS-CoV-2"
    assert res["task3_structure"]["protein_name"] == "Spike_SARS-CoV-2"
    # Structure hits come only from the predicted protein, never from unrelated references.
    hits = res["task3_structure"]["uniprot_hits"]
    assert hits and hits[0]["uniprot_id"] == "P0DTC2"
    assert all("yeast" not in (h["organism"] or "").lower() for h in hits)


def test_hcv_core_protein_outside_the_reference_data_is_not_forced(
    engine: SequenceEngine,
) -> None:
    # No hepatitis C virus protein is in the shared datasets (so none among the references):
    # the core protein must not be forced into a type or specific-protein label.
    info = engine.info()
    assert info["loaded"]
    res = engine.predict_protein(HCV_CORE, top_k=3)
    assert all("hepatitis c" not in r["organism"].lower() for r in res["nearest_references"])
    assert res["confidence"] in ("unknown", "low")
    if res["confidence"] == "unknown":
        assert res["prediction"]["task2"]["protein_type"] == "unknown"
        assert res["prediction"]["task3"]["top_predictions"] == []
        assert res["task3_structure"]["uniprot_hits"] == []


@needs_data
def test_human_proteins_are_mostly_not_pathogen_and_link_to_alphafold(
    engine: SequenceEngine, held_out: list[data.Record]
) -> None:
    human = [r for r in held_out if r.source == "swissprot_human"][:20]
    results = engine.predict_proteins([r.sequence for r in human])
    not_pathogen = [res["prediction"]["task1"]["is_pathogen"] is False for res in results]
    assert np.mean(not_pathogen) >= 0.7
    structures = [
        ref["structure"] for res in results for ref in res["nearest_references"]
        if ref["structure"]["source"] == "alphafold"
    ]  # fmt: skip
    assert structures
    for s in structures:
        assert s["url"] == f"https://alphafold.ebi.ac.uk/entry/{s['id']}"


def test_shuffled_protein_is_not_forced_into_a_label(engine: SequenceEngine) -> None:
    rng = np.random.default_rng(5)
    aa = np.array(list("ACDEFGHIKLMNPQRSTVWY"))
    flagged = 0
    for _ in range(10):
        res = engine.predict_protein("".join(rng.choice(aa, 400)))
        if res["confidence"] == "unknown":
            flagged += 1
            assert res["prediction"]["task2"]["protein_type"] == "unknown"
            assert res["prediction"]["task3"]["top_predictions"] == []
            assert res["task3_structure"]["protein_name"] == "unknown"
        assert res["confidence"] in ("unknown", "low")
    assert flagged >= 8


@needs_data
def test_threshold_hint_and_batch_match_single(
    engine: SequenceEngine, held_out: list[data.Record]
) -> None:
    ha = [r for r in held_out if r.task3 == "HA_H3N2"][:2]
    single = [engine.predict_protein(r.sequence) for r in ha]
    batch = engine.predict_proteins([r.sequence for r in ha])
    assert single == batch
    res = engine.predict_protein(ha[0].sequence, task3_threshold=0.2, top_k=10)
    assert all(p >= 0.2 for _label, p in res["prediction"]["task3"]["top_predictions"])
    hinted = engine.predict_protein(ha[0].sequence, organism_hint="Influenza A virus")
    assert "influenza" in hinted["nearest_references"][0]["organism"].lower()


def test_structure_path_only_serves_staged_entries(engine: SequenceEngine) -> None:
    assert engine.structure_path("../../etc/passwd") is None
    assert engine.structure_path("1ABC") is None
    path = engine.structure_path("3lzg")
    assert path is not None and "ATOM" in path.read_text()


def test_task3_calibration_keeps_the_vote_winner_on_top() -> None:
    """A calibrator that doubts the winner must not hand the answer to the runner-up."""
    from inference.engines.sequence.classifier import Linear, task3_calibrate, task3_domains

    domains = task3_domains(["HA_H3N2", "VF:TTSS", "Non-pathogen protein"], "Non-pathogen protein")
    assert domains.tolist() == [0, 1, 2]
    # A constant calibrator: P(winner correct) = sigmoid(-2.2) ~ 0.10, whatever the features.
    doubtful = Linear(np.zeros((1, 9), np.float32), np.array([-2.2]))
    out, conf = task3_calibrate(np.array([0.5, 0.4, 0.1]), 0.3, 5.0, doubtful, domains)
    assert conf == pytest.approx(0.0998, abs=1e-3)
    assert int(np.argmax(out)) == 0 and out[0] == conf
    assert (out[1:] < conf).all() and out.sum() < 1.0
    # A confident calibrator spreads the rest in proportion to the votes (sums to 1).
    sure = Linear(np.zeros((1, 9), np.float32), np.array([2.2]))
    out, conf = task3_calibrate(np.array([0.5, 0.4, 0.1]), 0.3, 5.0, sure, domains)
    assert out.sum() == pytest.approx(1.0)
    assert out[1] / out[2] == pytest.approx(4.0)


def test_best_by_origin_separates_pathogen_and_commensal_neighbours() -> None:
    from inference.engines.sequence.classifier import best_by_origin

    ref_task1 = np.array([1, 0, 0, -1])
    got = best_by_origin(ref_task1, np.array([1, 0, 3, 2]), np.array([0.9, 0.4, 0.95, 0.2]),
                         np.array([45.0, 6.0, 50.0, 3.0]))  # fmt: skip
    assert got.tolist() == pytest.approx([0.4, 0.9, 0.2, 1.0])
    assert best_by_origin(ref_task1, np.array([3]), np.array([0.5]), np.array([9.0])).tolist() == [
        0.0, 0.0, 0.0, 0.0,
    ]  # fmt: skip
