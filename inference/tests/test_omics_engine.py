"""Tests of the omics engine on the committed model version (``models/omics/CURRENT``).

Samples are built from the artifact itself (feature names, training means), so these tests need
no data set; the reproduction of the reported test metrics lives in training/tests.
"""

from __future__ import annotations

import itertools
import json
import math
from pathlib import Path
from typing import Any

import pytest

from inference.config import REPO_ROOT
from inference.engines.base import DISCLAIMER, Engine
from inference.engines.omics import OmicsEngine
from inference.errors import InvalidInput

ROOT = REPO_ROOT / "models" / "omics"


def _version_dir() -> Path:
    return ROOT / (ROOT / "CURRENT").read_text(encoding="utf-8").strip()


@pytest.fixture(scope="module")
def engine() -> OmicsEngine:
    e = OmicsEngine()
    e.load(_version_dir())
    return e


@pytest.fixture(scope="module")
def rosmap_artifact() -> dict[str, Any]:
    return json.loads((_version_dir() / "rosmap" / "model.json").read_text())


@pytest.fixture(scope="module")
def paad_artifact() -> dict[str, Any]:
    return json.loads((_version_dir() / "tcga_paad" / "model.json").read_text())


def _shifted_sample(
    artifact: dict[str, Any], layers: list[str], n: int, shift: float
) -> dict[str, Any]:
    """First ``n`` features of each layer, each moved ``shift`` scales towards AD."""
    sample = {}
    for view in layers:
        v = artifact["views"][view]
        sample[view] = {
            f: m + shift * s * (1 if c > 0 else -1)
            for f, m, s, c in list(
                zip(v["features"], v["mean"], v["scale"], v["coef"], strict=True)
            )[:n]
        }
    return sample


def test_engine_implements_the_protocol(engine: OmicsEngine) -> None:
    assert isinstance(engine, Engine)
    assert engine.loaded and engine.name == "omics"
    info = engine.info()
    assert set(info["models"]) == {"rosmap", "tcga_paad"}
    assert info["models"]["rosmap"]["layers"] == {"mrna": 200, "methylation": 200, "mirna": 200}
    assert info["models"]["tcga_paad"]["layers"]["mirna"] == 339
    assert info["models"]["tcga_paad"]["layers"]["clinical"] == 9
    assert info["metrics"]["rosmap"]["roc_auc_mean"] > 0.874
    assert info["version"] == _version_dir().name


def test_rosmap_contributions_are_exact(
    engine: OmicsEngine, rosmap_artifact: dict[str, Any]
) -> None:
    # 3 features per layer: every contribution is listed (top 10), the rest are imputed (0).
    sample = _shifted_sample(rosmap_artifact, ["mrna", "methylation", "mirna"], 3, 1.5)
    result = engine.predict("rosmap", sample)
    fusion = rosmap_artifact["fusion"]
    intercepts = [
        rosmap_artifact["views"][v]["intercept"] for v in ("mrna", "methylation", "mirna")
    ]
    expected_logit = (
        fusion["a"]
        + fusion["b"] * sum(intercepts) / 3
        + sum(f["contribution"] for f in result["top_features"])
    )
    assert len(result["top_features"]) == 9
    assert result["logit"] == pytest.approx(expected_logit, abs=1e-9)
    assert result["probabilities"]["AD"] == pytest.approx(1 / (1 + math.exp(-result["logit"])))
    assert all(f["contribution"] > 0 and f["towards"] == "AD" for f in result["top_features"])
    assert result["imputed_features"] == {"mrna": 197, "methylation": 197, "mirna": 197}
    assert result["confidence"] == "low"  # most features imputed
    assert result["model_version"] == _version_dir().name
    assert result["disclaimer"] == DISCLAIMER


def test_rosmap_full_sample_is_normal_confidence(
    engine: OmicsEngine, rosmap_artifact: dict[str, Any]
) -> None:
    towards_ad = engine.predict(
        "rosmap", _shifted_sample(rosmap_artifact, ["mrna", "methylation", "mirna"], 200, 0.5)
    )
    towards_control = engine.predict(
        "rosmap", _shifted_sample(rosmap_artifact, ["mrna", "methylation", "mirna"], 200, -0.5)
    )
    assert towards_ad["confidence"] == "normal" and towards_ad["missing_layers"] == []
    assert towards_ad["label"] == "AD" and towards_control["label"] == "control"
    assert len(towards_ad["top_features"]) == 10
    top = [abs(f["contribution"]) for f in towards_ad["top_features"]]
    assert top == sorted(top, reverse=True)


def test_rosmap_missing_layer_still_answers_flagged(
    engine: OmicsEngine, rosmap_artifact: dict[str, Any]
) -> None:
    result = engine.predict("rosmap", _shifted_sample(rosmap_artifact, ["mrna"], 200, 0.5))
    assert result["missing_layers"] == ["methylation", "mirna"]
    assert result["confidence"] == "low"
    assert "layer methylation missing" in result["confidence_reasons"]
    assert result["label"] == "AD"


def test_rosmap_accepts_ensembl_ids_without_version(
    engine: OmicsEngine, rosmap_artifact: dict[str, Any]
) -> None:
    full = _shifted_sample(rosmap_artifact, ["mrna"], 200, 0.5)
    bare = {"mrna": {name.split(".")[0]: value for name, value in full["mrna"].items()}}
    a, b = engine.predict("rosmap", full), engine.predict("rosmap", bare)
    assert a["probabilities"] == b["probabilities"]


@pytest.mark.parametrize(
    ("model", "sample", "field"),
    [
        ("rosmap", {}, "sample"),
        ("rosmap", {"proteome": {"x": 1.0}}, "sample.proteome"),
        ("rosmap", {"mrna": {"nonsense_gene": 1.0}}, "sample.mrna"),
        ("rosmap", {"mrna": {}}, "sample.mrna"),
        ("rosmap", {"mrna": [1, 2]}, "sample.mrna"),
        ("rosmap", [1, 2], "sample"),
        ("tcga_paad", {"mirna": {"hsa-let-7b": "high"}}, "sample.mirna.hsa-let-7b"),
        ("tcga_paad", {"mirna": {"hsa-let-7b": float("nan")}}, "sample.mirna.hsa-let-7b"),
        ("tcga_paad", {"mirna": {"hsa-let-7b": float("inf")}}, "sample.mirna.hsa-let-7b"),
        ("tcga_paad", {"mirna": {"hsa-let-7b": True}}, "sample.mirna.hsa-let-7b"),
        (
            "tcga_paad",
            {"clinical": {"pathologic_stage": "stage ix"}},
            "sample.clinical.pathologic_stage",
        ),
        (
            "tcga_paad",
            {"clinical": {"lymph_nodes_positive": -2}},
            "sample.clinical.lymph_nodes_positive",
        ),
        ("nope", {"mrna": {"x": 1.0}}, "model"),
    ],
)
def test_bad_input_names_the_field(
    engine: OmicsEngine, model: str, sample: Any, field: str
) -> None:
    with pytest.raises(InvalidInput) as info:
        engine.predict(model, sample)
    assert info.value.field == field
    assert field.split(".")[-1] in info.value.message


def test_paad_risk_group_curve_and_contributions(
    engine: OmicsEngine, paad_artifact: dict[str, Any]
) -> None:
    clinical = {
        "age_years": 80,
        "pathologic_stage": "Stage IIB",
        "t_stage": "t3",
        "n_stage": "n1",
        "m_stage": "mx",
        "sex_male": "male",
        "radiation_therapy": "no",
        "residual_tumor": "r1",
        "lymph_nodes_positive": 6,
    }
    result = engine.predict("tcga_paad", {"clinical": clinical})
    assert result["missing_layers"] == ["mirna", "cnv"] and result["confidence"] == "low"
    assert result["imputed_features"] == {"clinical": 1}  # m_stage "mx" is not assessable
    expected = sum(f["contribution"] for f in result["top_features"])
    assert result["risk_score"] == pytest.approx(expected - paad_artifact["lp_center"], abs=1e-9)
    assert result["risk_group"] == (
        "high" if result["risk_score"] > paad_artifact["risk_threshold"] else "low"
    )
    curve = result["group_survival_curve"]
    assert curve[0] == [0.0, 1.0]
    assert all(b[0] > a[0] and b[1] <= a[1] for a, b in itertools.pairwise(curve))
    assert curve == paad_artifact["groups"][result["risk_group"]]["km"]
    s = result["predicted_survival"]
    assert 1 >= s["365"] >= s["730"] >= 0
    assert 0 <= result["risk_percentile"] <= 1


def test_paad_higher_stage_and_age_raise_risk_consistently(
    engine: OmicsEngine, paad_artifact: dict[str, Any]
) -> None:
    coef = dict(
        zip(
            paad_artifact["blocks"]["clinical"]["features"],
            paad_artifact["blocks"]["clinical"]["coef"],
            strict=True,
        )
    )
    young = engine.predict("tcga_paad", {"clinical": {"age_years": 50}})
    old = engine.predict("tcga_paad", {"clinical": {"age_years": 85}})
    assert (old["risk_score"] > young["risk_score"]) == (coef["age_years"] > 0)


def test_paad_ignores_unscreened_copy_number_genes_but_counts_unknown(
    engine: OmicsEngine, paad_artifact: dict[str, Any]
) -> None:
    cnv = paad_artifact["blocks"]["cnv"]
    used = set(cnv["features"])
    unused = next(name for name in cnv["input_features"] if name not in used)
    result = engine.predict(
        "tcga_paad", {"cnv": {unused: 1.0, cnv["features"][0]: 1.0, "NOT_A_GENE": 2.0}}
    )
    assert result["unknown_features"]["cnv"] == 1
    assert result["imputed_features"]["cnv"] == len(cnv["features"]) - 1


def test_predict_batch_fails_items_alone(
    engine: OmicsEngine, rosmap_artifact: dict[str, Any]
) -> None:
    good = _shifted_sample(rosmap_artifact, ["mrna"], 10, 0.5)
    results = engine.predict_batch("rosmap", [good, {"mrna": {"x": "y"}}, good])
    assert [r["ok"] for r in results] == [True, False, True]
    assert results[1]["index"] == 1 and "field" in results[1]
    assert results[0]["probabilities"] == results[2]["probabilities"]


@pytest.mark.parametrize(("model", "fmt"), [("rosmap", "omics-rosmap-late-fusion-v1"),
                                            ("tcga_paad", "omics-paad-ridge-cox-v1")])  # fmt: skip
def test_a_v1_artifact_without_input_bounds_is_refused_by_name(
    tmp_path: Path, model: str, fmt: str
) -> None:
    import shutil

    folder = tmp_path / _version_dir().name
    shutil.copytree(_version_dir(), folder)
    path = folder / model / "model.json"
    artifact = json.loads(path.read_text())
    artifact["format"] = fmt
    for entry in (artifact.get("views") or artifact["blocks"]).values():
        entry.pop("input_bounds", None)
    path.write_text(json.dumps(artifact))
    with pytest.raises(ValueError, match=fmt) as info:
        OmicsEngine().load(folder)
    assert "make train-omics" in str(info.value)


def test_absurd_and_non_finite_values_are_refused_naming_the_feature(
    engine: OmicsEngine, rosmap_artifact: dict[str, Any], paad_artifact: dict[str, Any]
) -> None:
    mrna = rosmap_artifact["views"]["mrna"]["features"][3]
    for value in (1e308, -1e308, 10**400, 50.0):
        with pytest.raises(InvalidInput) as info:
            engine.predict("rosmap", {"mrna": {mrna: value}})
        assert info.value.field == f"sample.mrna.{mrna}", value
    # A log1p clinical count is shown on the caller's scale.
    with pytest.raises(InvalidInput, match=r"1e\+300 is outside the accepted range \[0,"):
        engine.predict("tcga_paad", {"clinical": {"lymph_nodes_positive": 1e300}})
    ages: tuple[object, ...] = ("1e999", "inf", 1e300, -5e3)
    for age in ages:
        with pytest.raises(InvalidInput) as info:
            engine.predict("tcga_paad", {"clinical": {"age_years": age}})
        assert info.value.field == "sample.clinical.age_years", age


def test_extreme_values_within_the_bounds_still_give_finite_answers(
    engine: OmicsEngine, paad_artifact: dict[str, Any]
) -> None:
    sample: dict[str, dict[str, float]] = {}
    for block in ("mirna", "cnv"):
        b = paad_artifact["blocks"][block]
        bounds = b["input_bounds"]
        sample[block] = {
            f: (hi if c > 0 else lo)
            for f, c, lo, hi in zip(
                b["features"], b["coef"], bounds["low"], bounds["high"], strict=True
            )
        }
    result = engine.predict("tcga_paad", sample)
    assert result["risk_group"] == "high" and math.isfinite(result["risk_score"])
    assert all(math.isfinite(v) for v in result["predicted_survival"].values())
    json.dumps(result, allow_nan=False)
