"""Evaluation helpers shared by both models: binary metrics, bootstrap CIs, calibration tables."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from scipy.stats import rankdata


def roc_auc(y: np.ndarray, p: np.ndarray) -> float:
    """Mann-Whitney AUC (ties count one half); ValueError when only one class is present."""
    n_pos = int(y.sum())
    n_neg = len(y) - n_pos
    if n_pos == 0 or n_neg == 0:
        raise ValueError("ROC AUC needs both classes")
    ranks = rankdata(p)
    return float((ranks[y == 1].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def binary_metrics(y: np.ndarray, p: np.ndarray) -> dict[str, float]:
    """ACC and F1 at 0.5 (positive = AD), ROC AUC and Brier score (numpy; the bootstrap calls it
    thousands of times)."""
    pred = p >= 0.5
    truth = y == 1
    tp = float(np.sum(pred & truth))
    fp = float(np.sum(pred & ~truth))
    fn = float(np.sum(~pred & truth))
    return {
        "accuracy": float(np.mean(pred == truth)),
        "f1": 2 * tp / (2 * tp + fp + fn) if tp + fp + fn > 0 else 0.0,
        "roc_auc": roc_auc(y, p),
        "brier": float(np.mean((p - y) ** 2)),
    }


def bootstrap_ci(
    statistic: Callable[[np.ndarray], dict[str, float]],
    n: int,
    *,
    strata: np.ndarray | None = None,
    rounds: int = 2000,
    seed: int = 0,
) -> dict[str, tuple[float, float]]:
    """Percentile 95% CIs of each value of ``statistic(indices)`` over resamples of ``range(n)``.

    With ``strata`` the resampling is stratified (keeps both classes / some events in each draw).
    Resamples on which the statistic is undefined (it raises ValueError) are skipped.
    """
    rng = np.random.default_rng(seed)
    groups = (
        [np.arange(n)]
        if strata is None
        else [np.flatnonzero(strata == s) for s in np.unique(strata)]
    )
    values: list[dict[str, float]] = []
    for _ in range(rounds):
        idx = np.concatenate([rng.choice(g, size=len(g), replace=True) for g in groups])
        try:
            values.append(statistic(idx))
        except ValueError:
            continue
    cis = {}
    for key in values[0]:
        low, high = np.percentile([v[key] for v in values], [2.5, 97.5])
        cis[key] = (float(low), float(high))
    return cis


def calibration_table(y: np.ndarray, p: np.ndarray, bins: int = 5) -> list[dict[str, Any]]:
    """Equal-width probability bins: count, mean predicted P(AD), observed AD rate."""
    edges = np.linspace(0.0, 1.0, bins + 1)
    which = np.clip(np.digitize(p, edges[1:-1]), 0, bins - 1)
    rows: list[dict[str, Any]] = []
    for b in range(bins):
        mask = which == b
        if not mask.any():
            continue
        rows.append(
            {
                "bin": f"{edges[b]:.1f}-{edges[b + 1]:.1f}",
                "n": int(mask.sum()),
                "mean_predicted": float(p[mask].mean()),
                "observed_rate": float(y[mask].mean()),
            }
        )
    return rows


def expected_calibration_error(y: np.ndarray, p: np.ndarray, bins: int = 5) -> float:
    rows = calibration_table(y, p, bins)
    return float(sum(r["n"] * abs(r["mean_predicted"] - r["observed_rate"]) for r in rows) / len(y))


def mean_sd(values: list[float]) -> dict[str, float]:
    arr = np.asarray(values, dtype=float)
    return {"mean": float(arr.mean()), "sd": float(arr.std(ddof=1)) if len(arr) > 1 else 0.0}
