"""The ROSMAP AD-vs-control classifier: per-omics L2 logistic regression, late fusion, Platt.

Model: for each view v (mRNA, methylation, miRNA) a logistic regression on standardized features
gives a logit s_v. The fused logit is ``a + b * mean(s_v over the views present)``, where (a, b)
are fitted on out-of-fold logits (Platt scaling). Everything is linear, so each feature's
contribution ``b * w_vj * z_vj / n_views`` to the fused logit is exact, and a sample missing a view
is scored from the views it has. The one hyper-parameter C (shared by the views) is chosen per seed
by stratified 5-fold CV AUC on the training split only; the test split is scored once per seed.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import combinations
from typing import Any

import numpy as np
from sklearn.linear_model import LogisticRegression  # type: ignore[import-untyped]
from sklearn.model_selection import StratifiedKFold  # type: ignore[import-untyped]

from training.omics.bounds import describe as describe_bounds
from training.omics.bounds import input_bounds
from training.omics.data import ROSMAP_LABELS, ROSMAP_VIEWS, RosmapData
from training.omics.metrics import (
    binary_metrics,
    bootstrap_ci,
    calibration_table,
    expected_calibration_error,
    mean_sd,
    roc_auc,
)

FORMAT = "omics-rosmap-late-fusion-v2"
# MOGONET's preprocessing min-max scales every feature to [0, 1]: always an accepted input.
INPUT_SCALE = (0.0, 1.0)
C_GRID = tuple(float(c) for c in np.logspace(-3, 0, 13))
QUICK_C_GRID = (0.01, 0.1)
CV_FOLDS = 5


@dataclass(frozen=True)
class ViewModel:
    mean: np.ndarray
    scale: np.ndarray
    coef: np.ndarray
    intercept: float

    def logit(self, x: np.ndarray) -> np.ndarray:
        return np.asarray(((x - self.mean) / self.scale) @ self.coef + self.intercept)


def fit_view(x: np.ndarray, y: np.ndarray, c: float) -> ViewModel:
    mean = x.mean(axis=0)
    scale = x.std(axis=0)
    scale = np.where(scale > 1e-12, scale, 1.0)
    clf = LogisticRegression(C=c, max_iter=5000).fit((x - mean) / scale, y)
    return ViewModel(mean, scale, clf.coef_[0].copy(), float(clf.intercept_[0]))


def oof_logits(data: RosmapData, c: float, seed: int) -> np.ndarray:
    """Out-of-fold view logits on the training split, shape (n_views, n_train)."""
    out = np.zeros((len(ROSMAP_VIEWS), len(data.y_train)))
    folds = StratifiedKFold(CV_FOLDS, shuffle=True, random_state=seed)
    for fit_idx, val_idx in folds.split(data.x_train[ROSMAP_VIEWS[0]], data.y_train):
        for v, view in enumerate(ROSMAP_VIEWS):
            model = fit_view(data.x_train[view][fit_idx], data.y_train[fit_idx], c)
            out[v, val_idx] = model.logit(data.x_train[view][val_idx])
    return out


@dataclass(frozen=True)
class FusedModel:
    views: dict[str, ViewModel]
    platt_a: float
    platt_b: float
    c: float

    def proba(self, x: dict[str, np.ndarray]) -> np.ndarray:
        """P(AD) from whichever views are in ``x`` (at least one)."""
        logits = [self.views[v].logit(x[v]) for v in ROSMAP_VIEWS if v in x]
        z = self.platt_a + self.platt_b * np.mean(logits, axis=0)
        return np.asarray(1.0 / (1.0 + np.exp(-z)))


def fit_fused(data: RosmapData, c: float, oof: np.ndarray) -> FusedModel:
    platt = LogisticRegression(C=1e6, max_iter=1000).fit(oof.mean(axis=0)[:, None], data.y_train)
    views = {v: fit_view(data.x_train[v], data.y_train, c) for v in ROSMAP_VIEWS}
    return FusedModel(views, float(platt.intercept_[0]), float(platt.coef_[0, 0]), c)


def select_c(
    data: RosmapData, seed: int, c_grid: tuple[float, ...] = C_GRID
) -> tuple[float, np.ndarray, list[dict[str, float]]]:
    """The C with the best fused out-of-fold AUC, its OOF logits, and the whole CV table."""
    table, best = [], (-1.0, c_grid[0], np.empty(0))
    for c in c_grid:
        oof = oof_logits(data, c, seed)
        auc = roc_auc(data.y_train, oof.mean(axis=0))
        view_aucs = {v: roc_auc(data.y_train, oof[i]) for i, v in enumerate(ROSMAP_VIEWS)}
        table.append(
            {"C": c, "cv_auc_fused": auc, **{f"cv_auc_{v}": a for v, a in view_aucs.items()}}
        )
        if auc > best[0]:
            best = (auc, c, oof)
    return best[1], best[2], table


def model_to_artifact(model: FusedModel, data: RosmapData) -> dict[str, Any]:
    """The JSON-serializable artifact the inference engine reads (v2: with input bounds)."""
    artifact = {
        "format": FORMAT,
        "labels": {"positive": ROSMAP_LABELS[1], "negative": ROSMAP_LABELS[0]},
        "views": {
            v: {
                "features": data.features[v],
                "mean": model.views[v].mean.tolist(),
                "scale": model.views[v].scale.tolist(),
                "coef": model.views[v].coef.tolist(),
                "intercept": model.views[v].intercept,
            }
            for v in ROSMAP_VIEWS
        },
        "fusion": {"rule": "platt(mean of view logits)", "a": model.platt_a, "b": model.platt_b},
        "hyperparameters": {"C": model.c, "penalty": "l2", "cv_folds": CV_FOLDS},
        "input_scale": "MOGONET-preprocessed values (each feature min-max scaled to [0, 1])",
    }
    return add_input_bounds(artifact, data)


def add_input_bounds(artifact: dict[str, Any], data: RosmapData) -> dict[str, Any]:
    """The artifact with each view's per-feature input bounds, learnt on the training split.

    Also upgrades a v1 artifact (same weights, no bounds) to the current format.
    """
    for view in ROSMAP_VIEWS:
        entry = artifact["views"][view]
        column = {name: i for i, name in enumerate(data.features[view])}
        missing = [name for name in entry["features"] if name not in column]
        if missing:
            raise ValueError(f"ROSMAP view {view}: features {missing[:3]} are not in the data")
        columns = [column[name] for name in entry["features"]]
        entry["input_bounds"] = input_bounds(data.x_train[view][:, columns], INPUT_SCALE)
    artifact["format"] = FORMAT
    artifact["input_bounds_rule"] = describe_bounds(INPUT_SCALE)
    return artifact


def run(
    data: RosmapData,
    seeds: tuple[int, ...],
    c_grid: tuple[float, ...] = C_GRID,
    bootstrap_rounds: int = 2000,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Train and evaluate for every seed; return (artifact of the first seed, evaluation)."""
    per_seed, shipped, shipped_cv = [], None, None
    for seed in seeds:
        c, oof, cv_table = select_c(data, seed, c_grid)
        model = fit_fused(data, c, oof)
        p = model.proba(data.x_test)
        per_seed.append({"seed": seed, "C": c, **binary_metrics(data.y_test, p)})
        if shipped is None:
            shipped, shipped_cv = model, cv_table
    assert shipped is not None and shipped_cv is not None
    y, p = data.y_test, shipped.proba(data.x_test)

    missing: dict[str, dict[str, float]] = {}
    for k in (1, 2):
        for present in combinations(ROSMAP_VIEWS, k):
            key = "+".join(present)
            missing[key] = binary_metrics(y, shipped.proba({v: data.x_test[v] for v in present}))
    evaluation = {
        "task": "ROSMAP Alzheimer's disease (1) vs normal control (0)",
        "n_train": len(data.y_train),
        "n_test": len(y),
        "seeds": list(seeds),
        "per_seed": per_seed,
        "summary": {
            m: mean_sd([r[m] for r in per_seed]) for m in ("accuracy", "f1", "roc_auc", "brier")
        },
        "shipped_seed": seeds[0],
        "shipped_test": binary_metrics(y, p),
        "shipped_test_ci95": bootstrap_ci(
            lambda i: binary_metrics(y[i], p[i]), len(y), strata=y, rounds=bootstrap_rounds
        ),
        "calibration_test": calibration_table(y, p),
        "ece_test": expected_calibration_error(y, p),
        "cv_table_shipped_seed": shipped_cv,
        "views_present_test": missing,
        "published_mogonet": {"accuracy": 0.815, "f1": 0.821, "roc_auc": 0.874},
    }
    return model_to_artifact(shipped, data), evaluation


def quick_subset(data: RosmapData, n_features: int = 30) -> RosmapData:
    """The first ``n_features`` of each view: for smoke runs and tests only."""
    return RosmapData(
        {v: x[:, :n_features] for v, x in data.x_train.items()},
        {v: x[:, :n_features] for v, x in data.x_test.items()},
        {v: f[:n_features] for v, f in data.features.items()},
        data.y_train,
        data.y_test,
        data.source,
    )
