"""The ROSMAP AD-vs-control model as served: late fusion of per-omics logistic regressions.

Reads ``rosmap/model.json`` (written by ``training.omics.rosmap``; format v2, which adds each
view's per-feature input bounds: a v1 file is refused by name). The fused logit is
``a + b * mean(view logits over the layers present)``; each feature's contribution
``b * coef * z / n_layers`` is exact: with the intercepts, the contributions add up to the logit.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from inference.engines.omics.layers import (
    InputBounds,
    LayerSpec,
    check_sample,
    coverage,
    parse_layer,
)

FORMAT = "omics-rosmap-late-fusion-v2"
VIEWS = ("mrna", "methylation", "mirna")


def check_format(artifact: dict[str, Any], path: Path, expected: str) -> None:
    """Refuse an artifact of another format, by name (v1 files predate the input bounds)."""
    found = artifact.get("format")
    if found == expected:
        return
    hint = (
        "; it predates per-feature input bounds: rebuild the version with `make train-omics`"
        if isinstance(found, str) and found.endswith("-v1")
        else ""
    )
    raise ValueError(f"{path.parent.name}/{path.name} is format {found!r}, not {expected}{hint}")


class RosmapModel:
    """Loaded ROSMAP artifact; ``predict`` answers one validated sample."""

    def __init__(self, path: Path) -> None:
        artifact = json.loads(Path(path).read_text(encoding="utf-8"))
        check_format(artifact, Path(path), FORMAT)
        rule = str(artifact.get("input_bounds_rule", "learnt from the training data"))
        self.labels = artifact["labels"]
        self.a = float(artifact["fusion"]["a"])
        self.b = float(artifact["fusion"]["b"])
        self.hyperparameters = artifact["hyperparameters"]
        self.input_scale = artifact["input_scale"]
        self.layers: dict[str, LayerSpec] = {}
        self.params: dict[str, dict[str, Any]] = {}
        for view in VIEWS:
            v = artifact["views"][view]
            bounds = InputBounds.from_artifact(
                v.get("input_bounds"), len(v["features"]), rule, f"rosmap view {view}"
            )
            self.layers[view] = LayerSpec(view, list(v["features"]), bounds=bounds)
            self.params[view] = {
                "mean": np.asarray(v["mean"], float),
                "scale": np.asarray(v["scale"], float),
                "coef": np.asarray(v["coef"], float),
                "intercept": float(v["intercept"]),
            }

    def feature_counts(self) -> dict[str, int]:
        return {view: len(spec.features) for view, spec in self.layers.items()}

    def template(self) -> list[tuple[str, Any]]:
        """Every input column, ``<view>:<feature>``, with the training mean as an example."""
        return [
            (f"{view}:{feature}", round(float(mean), 6))
            for view, spec in self.layers.items()
            for feature, mean in zip(spec.features, self.params[view]["mean"], strict=True)
        ]

    def predict(self, sample: Any, *, top_k: int = 10) -> dict[str, Any]:
        present = check_sample(sample, self.layers)
        view_logits: list[float] = []
        contributions: list[tuple[str, str, float, float]] = []
        imputed: dict[str, int] = {}
        unknown: dict[str, int] = {}
        used = [view for view in VIEWS if view in present]
        for view in used:
            parsed = parse_layer(self.layers[view], present[view])
            p = self.params[view]
            raw = np.where(np.isnan(parsed.values), p["mean"], parsed.values)
            z = (raw - p["mean"]) / p["scale"]
            terms = p["coef"] * z
            view_logits.append(float(terms.sum() + p["intercept"]))
            weight = self.b / len(used)
            for name, value, term, missing in zip(
                self.layers[view].features, raw, terms, np.isnan(parsed.values), strict=True
            ):
                if not missing:
                    contributions.append((view, name, float(value), float(term * weight)))
            imputed[view] = parsed.imputed
            unknown[view] = parsed.unknown
        logit = self.a + self.b * float(np.mean(view_logits))
        with np.errstate(over="ignore"):  # a logit far below 0 gives exp overflow, p = 0
            p_ad = float(1.0 / (1.0 + np.exp(-logit)))
        missing_layers, reasons = coverage(self.layers, present, imputed)
        contributions.sort(key=lambda c: abs(c[3]), reverse=True)
        positive, negative = self.labels["positive"], self.labels["negative"]
        return {
            "model": "rosmap",
            "label": positive if p_ad >= 0.5 else negative,
            "probabilities": {positive: p_ad, negative: 1.0 - p_ad},
            "logit": logit,
            "top_features": [
                {
                    "layer": view,
                    "feature": name,
                    "value": value,
                    "contribution": contribution,
                    "towards": positive if contribution > 0 else negative,
                }
                for view, name, value, contribution in contributions[:top_k]
            ],
            "layers_used": used,
            "missing_layers": missing_layers,
            "imputed_features": imputed,
            "unknown_features": unknown,
            "confidence": "low" if reasons else "normal",
            "confidence_reasons": reasons,
        }
