"""The adrenal classifier's training code and the committed artifacts it produced."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from inference.engines.imaging.adrenal import AdrenalClassifier
from training.imaging.data import DATASET_REL, REPO_ROOT, Split, datasets_dir, load_adrenal
from training.imaging.metrics import auc, bootstrap_ci, ece, reliability, summarize
from training.imaging.pipeline import run

NPZ = datasets_dir() / DATASET_REL
needs_data = pytest.mark.skipif(
    not NPZ.is_file(), reason=f"AdrenalMNIST3D not found at {NPZ} (set CDSS_DATASETS_DIR)"
)
MODELS = REPO_ROOT / "models" / "imaging"


@pytest.fixture(scope="module")
def splits() -> dict[str, Split]:
    return load_adrenal(NPZ)


def _committed() -> Path:
    return MODELS / (MODELS / "CURRENT").read_text().strip()


def test_calibration_and_bootstrap_metrics() -> None:
    rng = np.random.default_rng(0)
    p = rng.uniform(size=4000)
    y = (rng.uniform(size=p.size) < p).astype(int)  # calibrated by construction
    assert ece(y, p) < 0.03
    assert ece(y, np.clip(p + 0.3, 0, 1)) > 0.2
    assert sum(r["count"] for r in reliability(y, p)) == p.size
    ci = bootstrap_ci(y[:300], p[:300], n_boot=300)
    point = summarize(y[:300], p[:300], with_ci=False)
    for key in ("auc", "acc", "brier"):
        assert ci[key][0] <= point[key] <= ci[key][1]


@needs_data
def test_smoke_training_writes_a_loadable_version(tmp_path: Path, splits: dict[str, Split]) -> None:
    metrics = run(
        version="img-smoke",
        out_root=tmp_path,
        sizes=[28],
        seeds={28: [0]},
        epochs=1,
        width=4,
        limit_train=32,
        limit_eval=40,
        n_boot=50,
        splits=splits,
    )
    out = tmp_path / "img-smoke"
    assert (tmp_path / "CURRENT").read_text().strip() == "img-smoke"
    for name in ("MODEL_CARD.md", "EVALUATION.md", "metrics.json", "adrenal_config.json"):
        assert (out / name).is_file(), name
    assert "Not a medical device" in (out / "MODEL_CARD.md").read_text()
    assert metrics["dataset"]["counts"]["test"]["n"] == 40
    assert len(splits["test"].labels) == 298 and int(splits["test"].labels.sum()) == 69
    assert metrics["headline"]["input_size"] == 28
    clf = AdrenalClassifier.load(out)
    cube = np.zeros((1, 64, 64, 64), np.uint8)
    cube[0, 25:40, 20:45, 22:42] = 1
    p = clf.predict_cubes(cube)
    assert p.shape == (1,) and 0.0 <= p[0] <= 1.0


@needs_data
def test_committed_metrics_reproduce_from_saved_predictions(splits: dict[str, Split]) -> None:
    version = _committed()
    metrics = json.loads((version / "metrics.json").read_text())
    y_test = splits["test"].labels
    for size, block in metrics["sizes"].items():
        probs = []
        for r in block["runs"]:
            saved = json.loads(
                (version / "runs" / f"adrenal_{size}_seed{r['seed']}.json").read_text()
            )
            p = np.asarray(saved["p_test"])
            assert auc(y_test, p) == pytest.approx(r["test"]["auc"], abs=1e-4)
            probs.append(p)
        assert auc(y_test, np.mean(probs, axis=0)) == pytest.approx(
            block["ensemble_test"]["auc"], abs=1e-4
        )


@needs_data
def test_engine_classifier_reproduces_the_committed_test_predictions(
    splits: dict[str, Split],
) -> None:
    version = _committed()
    clf = AdrenalClassifier.load(version)
    size = clf.input_size
    saved = [
        np.asarray(json.loads((version / "runs" / f"{Path(m).stem}.json").read_text())["p_test"])
        for m in clf.info["members"]
    ]
    test = splits["test"]
    p = clf.predict_cubes(test.images[:24])
    np.testing.assert_allclose(p, np.mean(saved, axis=0)[:24], atol=1e-4)
    assert size in (28, 64)
    total = sum(f.stat().st_size for f in version.rglob("*") if f.is_file())
    assert total < 10 * 1024 * 1024
