"""Tests of the omics training code: the RDS reader, ridge Cox, clinical encoding, a smoke run.

The smoke run is a real ``python -m training.omics --quick`` process writing a version folder to a
temporary directory, which the real ``OmicsEngine`` then loads and answers from. Tests that need
the public data sets skip when ``CDSS_DATASETS_DIR`` (or ``../shared/datasets``) lacks them.
"""

from __future__ import annotations

import gzip
import json
import math
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from inference.engines.omics import OmicsEngine
from inference.engines.omics.paad import ClinicalEncoder
from training.omics import rosmap as rosmap_training
from training.omics.bounds import SPREADS, input_bounds
from training.omics.clinical import CLINICAL_SPEC, encode_clinical, encode_value
from training.omics.cox import fit_ridge_cox, harrell_c, kaplan_meier, score_statistics
from training.omics.data import REPO_ROOT, datasets_dir, load_paad, load_rosmap
from training.omics.rds import RdsFormatError, read_int_vector_list

HAVE_DATA = (datasets_dir() / "omics" / "rosmap_mogonet").is_dir() and (
    datasets_dir() / "omics" / "tcga_paad"
).is_dir()
needs_data = pytest.mark.skipif(not HAVE_DATA, reason="omics data sets not available")


def _survival_data(n: int = 200, seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 3))
    x = (x - x.mean(axis=0)) / x.std(axis=0)
    t = rng.exponential(np.exp(-(x @ np.array([0.8, -0.5, 0.0])))) * 100
    c = rng.exponential(150, size=n)
    return x, np.minimum(t, c), (t < c).astype(int)


def test_ridge_cox_matches_lifelines_without_penalty() -> None:
    from lifelines import CoxPHFitter

    x, t, e = _survival_data()
    frame = pd.DataFrame(x, columns=["a", "b", "c"]).assign(T=t, E=e)
    reference = CoxPHFitter().fit(frame, "T", "E").params_.to_numpy()
    np.testing.assert_allclose(fit_ridge_cox(x, t, e, 0.0), reference, atol=1e-3)


def test_ridge_penalty_shrinks_and_keeps_signs() -> None:
    x, t, e = _survival_data()
    free = fit_ridge_cox(x, t, e, 0.0)
    shrunk = fit_ridge_cox(x, t, e, 1.0)
    assert np.all(np.abs(shrunk) < np.abs(free))
    assert shrunk[0] > 0 > shrunk[1]
    assert harrell_c(x @ shrunk, t, e) > 0.6


def test_score_statistic_ranks_the_informative_feature_first() -> None:
    x, t, e = _survival_data()
    stats = np.abs(score_statistics(x, t, e))
    assert int(np.argmax(stats)) == 0
    assert stats[2] < stats[1]


def test_kaplan_meier_matches_lifelines() -> None:
    from lifelines import KaplanMeierFitter

    _, t, e = _survival_data()
    times, surv = kaplan_meier(t, e)
    reference = KaplanMeierFitter().fit(t, e).survival_function_at_times(times).to_numpy()
    np.testing.assert_allclose(surv, reference, atol=1e-12)
    assert times[0] == 0.0 and surv[0] == 1.0


def test_rds_reader_refuses_other_files(tmp_path: Path) -> None:
    bad = tmp_path / "x.rds"
    bad.write_bytes(gzip.compress(b"not an rds file"))
    with pytest.raises(RdsFormatError):
        read_int_vector_list(bad)


@needs_data
def test_paad_split_is_the_benchmark_split() -> None:
    data = load_paad()
    assert len(data.time) == 145 and (data.time > 0).all()
    assert len(data.train_idx) == 100 and len(data.test_idx) == 45
    assert not set(data.train_idx) & set(data.test_idx)
    assert data.mirna.shape == (145, 339) and data.cnv.shape == (145, 2831)


def test_clinical_encoding_words_numbers_and_missing() -> None:
    stage = CLINICAL_SPEC[1]
    assert encode_value(stage, "Stage IIB") == 2.5
    assert encode_value(stage, "2.5") == 2.5
    assert math.isnan(encode_value(stage, "stage x"))
    nodes = CLINICAL_SPEC[-1]
    assert encode_value(nodes, 3) == pytest.approx(math.log1p(3))


@needs_data
def test_engine_clinical_encoder_agrees_with_training_encoding() -> None:
    data = load_paad()
    expected = encode_clinical(data.clinical)
    encoder = ClinicalEncoder(CLINICAL_SPEC)
    for row, raw in enumerate(data.clinical.itertuples(index=False)):
        for col, spec in enumerate(CLINICAL_SPEC):
            value = getattr(raw, spec["column"])
            if isinstance(value, float) and math.isnan(value):
                assert math.isnan(expected[row, col])
                continue
            if not isinstance(value, str):
                value = float(value)
            got = encoder(spec["name"], value, "f")
            assert (math.isnan(got) and math.isnan(expected[row, col])) or got == expected[row, col]


def _train_quick(out: Path, *extra: str) -> None:
    """``python -m training.omics --quick`` into ``out`` as version t1, as a separate process."""
    proc = subprocess.run(
        [sys.executable, "-m", "training.omics", "--quick", *extra,
         "--out", str(out), "--version", "t1"],
        cwd=REPO_ROOT,
        env={**os.environ, "PYTHONPATH": str(REPO_ROOT)},
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-2000:]


@needs_data
def test_quick_training_run_writes_a_version_the_engine_serves(tmp_path: Path) -> None:
    _train_quick(tmp_path)
    assert (tmp_path / "CURRENT").read_text().strip() == "t1"
    folder = tmp_path / "t1"
    for name in ("MODEL_CARD.md", "EVALUATION.md", "metrics.json", "evaluation.json"):
        assert (folder / name).is_file()
    metrics = json.loads((folder / "metrics.json").read_text())
    assert metrics["quick_smoke_run"] is True
    assert "Not a medical device" in (folder / "MODEL_CARD.md").read_text()

    engine = OmicsEngine()
    engine.load(folder)
    rosmap = load_rosmap()
    names = json.loads((folder / "rosmap" / "model.json").read_text())["views"]
    sample = {
        view: dict(
            zip(
                names[view]["features"],
                rosmap.x_test[view][0][: len(names[view]["features"])].tolist(),
                strict=True,
            )
        )
        for view in names
    }
    result = engine.predict("rosmap", sample)
    assert result["model_version"] == "t1"
    assert abs(sum(result["probabilities"].values()) - 1) < 1e-9

    # --paad-only retrains TCGA-PAAD and keeps the version's ROSMAP model and numbers as they were.
    rosmap_before = (folder / "rosmap" / "model.json").read_text()
    rosmap_eval_before = json.loads((folder / "evaluation.json").read_text())["rosmap"]
    _train_quick(tmp_path, "--paad-only")
    assert (folder / "rosmap" / "model.json").read_text() == rosmap_before
    stored = json.loads((folder / "evaluation.json").read_text())
    assert stored["rosmap"] == rosmap_eval_before
    assert stored["command"].endswith("--quick --paad-only")
    assert (folder / "tcga_paad" / "model.json").is_file()


def _committed_version() -> Path:
    root = REPO_ROOT / "models" / "omics"
    return root / (root / "CURRENT").read_text().strip()


@needs_data
def test_committed_rosmap_model_reproduces_its_reported_test_metrics() -> None:
    folder = _committed_version()
    metrics = json.loads((folder / "metrics.json").read_text())["rosmap"]["shipped_model"]
    engine = OmicsEngine()
    engine.load(folder)
    data = load_rosmap()
    probs, labels = [], []
    for i in range(len(data.y_test)):
        sample = {
            view: dict(zip(data.features[view], data.x_test[view][i].tolist(), strict=True))
            for view in data.features
        }
        result = engine.predict("rosmap", sample)
        assert result["confidence"] == "normal"
        probs.append(result["probabilities"]["AD"])
        labels.append(result["label"])
    p = np.asarray(probs)
    accuracy = float(np.mean((p >= 0.5) == (data.y_test == 1)))
    assert accuracy == pytest.approx(metrics["accuracy"], abs=1e-9)
    assert labels.count("AD") == int((p >= 0.5).sum())
    assert accuracy > 0.815  # MOGONET's published accuracy on the same split


@needs_data
def test_committed_paad_model_reproduces_its_reported_test_cindex() -> None:
    folder = _committed_version()
    reported = json.loads((folder / "metrics.json").read_text())["tcga_paad"]["test_cindex"]
    engine = OmicsEngine()
    engine.load(folder)
    data = load_paad()
    scores = []
    for row in data.test_idx:
        raw = data.clinical.iloc[row]
        clinical = {
            spec["name"]: (v if isinstance(v, str) else float(v))
            for spec in CLINICAL_SPEC
            if not pd.isna(v := raw[spec["column"]])
        }
        sample = {
            "mirna": dict(zip(data.mirna_features, data.mirna[row].tolist(), strict=True)),
            "cnv": dict(zip(data.cnv_features, data.cnv[row].tolist(), strict=True)),
            "clinical": clinical,
        }
        scores.append(engine.predict("tcga_paad", sample)["risk_score"])
    c = harrell_c(np.asarray(scores), data.time[data.test_idx], data.event[data.test_idx])
    assert c == pytest.approx(reported, abs=1e-9)


def test_input_bounds_rule() -> None:
    rng = np.random.default_rng(0)
    x = np.column_stack(
        [
            rng.normal(5.0, 2.0, 400),  # ordinary: about median -/+ 20 SDs
            np.r_[np.zeros(390), rng.normal(0, 3, 10)],  # MAD 0: the SD
            np.full(400, 7.0),  # constant: a scale of 1
            np.r_[rng.normal(0, 1, 399), 1e4],  # an outlier widens the range to include it
            np.r_[np.full(200, np.nan), rng.normal(0, 1, 200)],  # NaN ignored
        ]
    )
    bounds = input_bounds(x)
    low, high = np.asarray(bounds["low"]), np.asarray(bounds["high"])
    assert np.all(low <= np.nanmin(x, axis=0)) and np.all(high >= np.nanmax(x, axis=0))
    assert low[0] == pytest.approx(5.0 - SPREADS * 2.0, abs=3.0)
    assert high[1] == pytest.approx(SPREADS * np.std(x[:, 1]), rel=1e-9)
    assert (low[2], high[2]) == (7.0 - SPREADS, 7.0 + SPREADS)
    assert high[3] == 1e4
    assert np.isfinite(low).all() and np.isfinite(high).all()
    tight = np.column_stack([rng.normal(0.5, 0.01, 300)])
    declared = input_bounds(tight, (0.0, 1.0))
    assert declared["low"][0] == 0.0 and declared["high"][0] == 1.0
    with pytest.raises(ValueError, match="no observed"):
        input_bounds(np.array([[1.0, np.nan], [2.0, np.nan]]))


@needs_data
def test_committed_input_bounds_are_learnt_from_the_training_split() -> None:
    """What ``make train-omics`` writes: the committed bounds are recomputed exactly from the data,
    and no test-split value (a patient the model never saw) falls outside them."""
    folder = _committed_version()
    rosmap_artifact = json.loads((folder / "rosmap" / "model.json").read_text())
    data = load_rosmap()
    rebuilt = rosmap_training.add_input_bounds(json.loads(json.dumps(rosmap_artifact)), data)
    assert rebuilt == rosmap_artifact
    for view, entry in rosmap_artifact["views"].items():
        x = data.x_test[view]
        assert np.all(x >= np.asarray(entry["input_bounds"]["low"]))
        assert np.all(x <= np.asarray(entry["input_bounds"]["high"]))
    paad = json.loads((folder / "tcga_paad" / "model.json").read_text())
    pdata = load_paad()
    raw = {"clinical": encode_clinical(pdata.clinical), "mirna": pdata.mirna, "cnv": pdata.cnv}
    for block, entry in paad["blocks"].items():
        names = {"clinical": [s["name"] for s in CLINICAL_SPEC], "mirna": pdata.mirna_features,
                 "cnv": pdata.cnv_features}[block]  # fmt: skip
        cols = [names.index(f) for f in entry["features"]]
        assert entry["input_bounds"] == input_bounds(raw[block][pdata.train_idx][:, cols])
        test = raw[block][pdata.test_idx][:, cols]
        low, high = (
            np.asarray(entry["input_bounds"]["low"]),
            np.asarray(entry["input_bounds"]["high"]),
        )
        assert np.all(np.isnan(test) | ((test >= low) & (test <= high)))


def test_the_survival_band_matches_lifelines():
    """Our Greenwood log(-log) band and numbers at risk equal lifelines' on the same data."""
    import numpy as np
    from lifelines import KaplanMeierFitter  # type: ignore[import-untyped]

    from training.omics.cox import kaplan_meier_band

    rng = np.random.default_rng(0)
    time = rng.integers(1, 1500, size=60).astype(float)
    event = (rng.random(60) < 0.7).astype(int)
    fitted = KaplanMeierFitter().fit(time, event)
    for t, s, lower, upper, at_risk in kaplan_meier_band(time, event)[1:]:
        assert s == pytest.approx(fitted.survival_function_.loc[t].iloc[0])
        if 0.0 < s < 1.0:
            assert lower == pytest.approx(fitted.confidence_interval_.loc[t].iloc[0])
            assert upper == pytest.approx(fitted.confidence_interval_.loc[t].iloc[1])
        assert at_risk == fitted.event_table.loc[t, "at_risk"]
