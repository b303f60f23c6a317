"""A small real training run, and run-time retraining as the server launches it (a subprocess)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from inference.engines.sequence import SequenceEngine
from inference.engines.sequence.artifacts import FORMAT, load_bundle
from training.sequences import data
from training.sequences.pipeline import TrainConfig, default_version, train
from training.sequences.retrain import headline, not_worse

DATASETS = data.default_datasets_dir()
REPO = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.skipif(
    not (data.sequences_root(DATASETS) / "viral_nextclade").is_dir(),
    reason="shared sequence datasets not present",
)


@pytest.fixture(scope="module")
def smoke_version(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    out_root = tmp_path_factory.mktemp("seqmodels")
    config = TrainConfig(
        datasets_dir=DATASETS,
        out_root=out_root,
        version="seq-smoke",
        epochs=2,
        batch_size=128,
        n_calibration=300,
        max_records=1500,
    )
    metrics = train(config)
    return out_root, metrics


def test_smoke_training_writes_a_loadable_version(smoke_version: tuple[Path, dict]) -> None:
    out_root, metrics = smoke_version
    version_dir = out_root / "seq-smoke"
    for name in ("manifest.json", "weights.bin", "references.tsv.gz", "metrics.json",
                 "MODEL_CARD.md", "test_ids.txt"):  # fmt: skip
        assert (version_dir / name).exists(), name
    assert (out_root / "CURRENT").read_text().strip() == "seq-smoke"
    card = (version_dir / "MODEL_CARD.md").read_text()
    assert "Not a medical device" in card and "identity group" in card
    assert metrics["training"]["n_test"] > 0
    assert 0.0 <= metrics["task1"]["roc_auc"] <= 1.0
    saved = json.loads((version_dir / "metrics.json").read_text())
    assert saved["training"]["n_train"] == metrics["training"]["n_train"]

    engine = SequenceEngine()
    engine.load(out_root)
    assert engine.loaded and engine.info()["version"] == "seq-smoke"
    test_id = (version_dir / "test_ids.txt").read_text().split()[0]
    protein = next(r.sequence for r in data.load_records(DATASETS) if r.ref_id == test_id)
    result = engine.predict_protein(protein)
    assert result["model_version"] == "seq-smoke"
    assert 0.0 <= result["prediction"]["task1"]["probability"] <= 1.0


def test_promotion_rule_compares_headline_metrics() -> None:
    good = {"task1": {"roc_auc": 0.99}, "task2": {"macro_f1": 0.9},
            "task3": {"classes_with_20_or_more_unique": {"top1_accuracy": 0.95}}}  # fmt: skip
    worse = {"task1": {"roc_auc": 0.95}, "task2": {"macro_f1": 0.9},
             "task3": {"classes_with_20_or_more_unique": {"top1_accuracy": 0.96}}}  # fmt: skip
    assert headline(good)["task3_top1_accuracy"] == 0.95
    assert not_worse(good, None)
    assert not_worse(good, worse) is False  # task3 lower by more than the tolerance
    assert not_worse(worse, good) is False  # task1 lower
    assert not_worse(good, good)


def _retrain(out_root: Path, committed: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    cmd = [
        sys.executable, "-m", "training.sequences.retrain",
        "--training-data-path", str(DATASETS), "--out-root", str(out_root),
        "--committed-root", str(committed), "--epochs", "1", "--batch-size", "128",
        "--max-records", "900", *extra,
    ]  # fmt: skip
    return subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=600)


def test_retrain_subprocess_promotes_then_refuses_a_worse_model(
    tmp_path: Path, smoke_version: tuple[Path, dict]
) -> None:
    out_root = tmp_path / "var"
    empty = tmp_path / "none"
    proc = _retrain(out_root, empty, "--version", "seq-rt1")
    assert proc.returncode == 0, proc.stderr[-2000:]
    status = json.loads((out_root / "retrain_status.json").read_text())
    assert status["state"] == "completed" and status["progress"] == 1.0
    assert status["promoted"] is True and status["version"] == "seq-rt1"
    assert (out_root / "CURRENT").read_text().strip() == "seq-rt1"

    # An active version with perfect held-out metrics cannot be beaten: no promotion.
    perfect = tmp_path / "committed"
    (perfect / "seq-best").mkdir(parents=True)
    (perfect / "CURRENT").write_text("seq-best\n")
    (perfect / "seq-best" / "metrics.json").write_text(json.dumps(
        {"task1": {"roc_auc": 1.0}, "task2": {"macro_f1": 1.0},
         "task3": {"classes_with_20_or_more_unique": {"top1_accuracy": 1.0}}}))  # fmt: skip
    out2 = tmp_path / "var2"
    proc = _retrain(out2, perfect, "--version", "seq-rt2")
    assert proc.returncode == 0, proc.stderr[-2000:]
    status = json.loads((out2 / "retrain_status.json").read_text())
    assert status["state"] == "completed" and status["promoted"] is False
    assert not (out2 / "CURRENT").exists()


def test_retrain_reports_failure_for_a_missing_folder(tmp_path: Path) -> None:
    cmd = [sys.executable, "-m", "training.sequences.retrain", "--training-data-path",
           str(tmp_path / "missing"), "--out-root", str(tmp_path / "var")]  # fmt: skip
    proc = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 1
    status = json.loads((tmp_path / "var" / "retrain_status.json").read_text())
    assert status["state"] == "failed" and "not found" in status["message"]


def test_default_version_never_reuses_a_folder(tmp_path: Path) -> None:
    import datetime as dt

    today = dt.date.today()
    prefix = f"seq-{today.year}.{today.month}."
    assert default_version(tmp_path / "missing") == prefix + "0"
    (tmp_path / (prefix + "1")).mkdir()
    (tmp_path / (prefix + "x")).mkdir()
    assert default_version(tmp_path) == prefix + "2"


def test_orphan_model_feeds_the_task1_stacker(smoke_version: tuple[Path, dict]) -> None:
    out_root, metrics = smoke_version
    training = metrics["training"]
    assert 0 < training["n_orphans_train"] <= training["n_train"]
    assert set(training["task1_auc_no_homolog_calibration"]) == {"general", "orphan"}
    assert set(training["stacker_cv_on_calibration_sample"]) == {
        "without_evidence",
        "with_evidence_without_orphan",
        "with_evidence",
    }
    bundle = load_bundle(out_root / "seq-smoke")
    # Five evidence features after the composition logit, four by origin, the orphan logit.
    assert bundle.models["stack1"].weights.shape == (1, 10)
    assert bundle.models["lr1_orphan"].weights.shape == bundle.models["lr1"].weights.shape


def test_a_bundle_from_an_older_trainer_is_refused_by_name(
    smoke_version: tuple[Path, dict], tmp_path: Path
) -> None:
    """Its classifiers learned other inputs (no orphan model) or other evidence (the reduced
    6-mer search channel); it must be retrained, not silently served."""
    out_root, _metrics = smoke_version
    assert load_bundle(out_root / "seq-smoke").manifest["format"] == FORMAT
    for name, older in (("seq-pre-v3", None), ("seq-v2", "cdss-sequence-bundle-v2")):
        old = tmp_path / name
        shutil.copytree(out_root / "seq-smoke", old)
        manifest = json.loads((old / "manifest.json").read_text())
        del manifest["format"]
        if older:
            manifest["format"] = older
        (old / "manifest.json").write_text(json.dumps(manifest))
        with pytest.raises(ValueError, match=rf"{name} is a {older or 'pre-v3'} bundle.*retrain"):
            load_bundle(old)
