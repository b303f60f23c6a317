"""The TCGA-PAAD survival risk model as served: one ridge Cox model over three blocks.

Reads ``tcga_paad/model.json`` (written by ``training.omics.tcga_paad``; format v2, with each
block's per-feature input bounds on the encoded scale: a v1 file is refused by name). The risk
score is the
centered linear predictor (log relative hazard vs the average training patient); the risk group
splits at the training median; the group's survival curve is the Kaplan-Meier curve of the
training patients in that group. Clinical values follow the encoding stored in the artifact.
"""

from __future__ import annotations

import bisect
import json
import math
from pathlib import Path
from typing import Any

import numpy as np

from inference.engines.omics.layers import (
    InputBounds,
    LayerSpec,
    check_sample,
    coverage,
    numeric_value,
    parse_layer,
)
from inference.engines.omics.rosmap import check_format
from inference.errors import InvalidInput

FORMAT = "omics-paad-ridge-cox-v2"
BLOCKS = ("mirna", "cnv", "clinical")
NOT_ASSESSABLE = {"mx", "nx", "rx", "unknown", "not available", ""}
HORIZONS_DAYS = (365, 730)


def _step_value(points: list[list[float]], t: float) -> float:
    """Value of a right-continuous step curve [[t, S], ...] at ``t`` (1 before the first step)."""
    times = [p[0] for p in points]
    idx = bisect.bisect_right(times, t) - 1
    return float(points[idx][1]) if idx >= 0 else 1.0


def _survival(baseline: float, risk_score: float) -> float:
    """``baseline ** exp(risk_score)``; exp is capped so a huge risk gives 0, not an overflow."""
    return float(baseline ** math.exp(min(risk_score, 700.0)))


class ClinicalEncoder:
    """Applies the artifact's clinical encoding to one request value."""

    def __init__(self, encoding: list[dict[str, Any]]) -> None:
        self.specs = {spec["name"]: spec for spec in encoding}

    def __call__(self, feature: str, value: Any, field_name: str) -> float:
        spec = self.specs[feature]
        if isinstance(value, str):
            token = value.strip().lower().removeprefix("stage ").strip()
            try:
                number = float(token)
            except ValueError:
                if token in NOT_ASSESSABLE:
                    return math.nan
                mapping: dict[str, float] = spec.get("map", {})
                if token not in mapping:
                    accepted = sorted(mapping) or ["a number"]
                    raise InvalidInput(
                        f"{field_name}: unknown value {value!r}; expected one of {accepted}",
                        field=field_name,
                    ) from None
                return float(mapping[token])
        else:
            number = numeric_value(feature, value, field_name)
        if not math.isfinite(number):
            raise InvalidInput(f"{field_name}: must be a finite number", field=field_name)
        if spec.get("transform") == "log1p":
            if number < 0:
                raise InvalidInput(f"{field_name}: must not be negative", field=field_name)
            return math.log1p(number)
        return number


class PaadModel:
    """Loaded PAAD artifact; ``predict`` answers one validated sample."""

    def __init__(self, path: Path) -> None:
        artifact = json.loads(Path(path).read_text(encoding="utf-8"))
        check_format(artifact, Path(path), FORMAT)
        rule = str(artifact.get("input_bounds_rule", "learnt from the training data"))
        log1p = frozenset(
            spec["name"]
            for spec in artifact["blocks"]["clinical"]["encoding"]
            if spec.get("transform") == "log1p"
        )
        self.layers: dict[str, LayerSpec] = {}
        self.params: dict[str, dict[str, np.ndarray]] = {}
        for block in BLOCKS:
            b = artifact["blocks"][block]
            bounds = InputBounds.from_artifact(
                b.get("input_bounds"),
                len(b["features"]),
                rule,
                f"tcga_paad block {block}",
                log1p if block == "clinical" else frozenset(),
            )
            self.layers[block] = LayerSpec(
                block, list(b["features"]), list(b.get("input_features", [])), bounds
            )
            self.params[block] = {k: np.asarray(b[k], float) for k in ("mean", "scale", "coef")}
        self.encoder = ClinicalEncoder(artifact["blocks"]["clinical"]["encoding"])
        self.encoding = artifact["blocks"]["clinical"]["encoding"]
        self.center = float(artifact["lp_center"])
        self.threshold = float(artifact["risk_threshold"])
        self.train_scores: list[float] = list(artifact["train_risk_scores_sorted"])
        self.groups: dict[str, dict[str, Any]] = artifact["groups"]
        self.baseline: list[list[float]] = artifact["baseline_survival"]
        self.hyperparameters = artifact["hyperparameters"]

    def feature_counts(self) -> dict[str, int]:
        return {block: len(spec.features) for block, spec in self.layers.items()}

    def template(self) -> list[tuple[str, Any]]:
        """Every input column, ``<block>:<feature>``, with an example value: the training mean,
        or for a coded clinical value the category nearest to it, as the caller would write it."""
        columns: list[tuple[str, Any]] = []
        for block in BLOCKS:
            spec, means = self.layers[block], self.params[block]["mean"]
            for feature, mean in zip(spec.features, means, strict=True):
                value: Any = round(float(mean), 6)
                coding = self.encoder.specs.get(feature) if block == "clinical" else None
                if coding and coding.get("map"):
                    value = min(coding["map"], key=lambda k: abs(coding["map"][k] - mean))
                elif coding and coding.get("transform") == "log1p":
                    value = round(math.expm1(mean))
                elif coding:
                    value = round(float(mean), 1)
                columns.append((f"{block}:{feature}", value))
        return columns

    def predict(self, sample: Any, *, top_k: int = 10) -> dict[str, Any]:
        present = check_sample(sample, self.layers)
        lp = -self.center
        contributions: list[tuple[str, str, float, float]] = []
        imputed: dict[str, int] = {}
        unknown: dict[str, int] = {}
        for block in BLOCKS:
            if block not in present:
                continue  # every feature at the training mean: contributes 0
            converter = self.encoder if block == "clinical" else numeric_value
            parsed = parse_layer(self.layers[block], present[block], converter=converter)
            p = self.params[block]
            missing = np.isnan(parsed.values)
            raw = np.where(missing, p["mean"], parsed.values)
            terms = p["coef"] * (raw - p["mean"]) / p["scale"]
            lp += float(terms.sum())
            for name, value, term, absent in zip(
                self.layers[block].features, raw, terms, missing, strict=True
            ):
                if not absent:
                    contributions.append((block, name, float(value), float(term)))
            imputed[block] = parsed.imputed
            unknown[block] = parsed.unknown
        # lp so far is sum(terms) - center, i.e. centered on the average training patient.
        risk_score = lp
        group = "high" if risk_score > self.threshold else "low"
        info = self.groups[group]
        missing_layers, reasons = coverage(self.layers, present, imputed)
        contributions.sort(key=lambda c: abs(c[3]), reverse=True)
        percentile = bisect.bisect_right(self.train_scores, risk_score) / len(self.train_scores)
        return {
            "model": "tcga_paad",
            "risk_score": risk_score,
            "risk_percentile": percentile,
            "risk_group": group,
            "group_survival_curve": info["km"],
            "group_survival_band": info.get("km_band"),
            "group_at_risk": info.get("at_risk"),
            "group_median_survival_days": info["median_survival_days"],
            "group_size": {"patients": info["n"], "deaths": info["events"]},
            "predicted_survival": {
                str(h): _survival(_step_value(self.baseline, h), risk_score) for h in HORIZONS_DAYS
            },
            "top_features": [
                {
                    "layer": block,
                    "feature": name,
                    "value": value,
                    "contribution": contribution,
                    "towards": "higher risk" if contribution > 0 else "lower risk",
                }
                for block, name, value, contribution in contributions[:top_k]
            ],
            "layers_used": [block for block in BLOCKS if block in present],
            "missing_layers": missing_layers,
            "imputed_features": imputed,
            "unknown_features": unknown,
            "confidence": "low" if reasons else "normal",
            "confidence_reasons": reasons,
        }
