"""Binary-classification metrics: AUC, accuracy, bootstrap CIs and calibration (ECE, Brier)."""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.metrics import roc_auc_score


def accuracy(y: np.ndarray, p: np.ndarray, threshold: float = 0.5) -> float:
    return float(np.mean((p >= threshold).astype(int) == y))


def auc(y: np.ndarray, p: np.ndarray) -> float:
    return float(roc_auc_score(y, p))


def brier(y: np.ndarray, p: np.ndarray) -> float:
    return float(np.mean((p - y) ** 2))


def reliability(y: np.ndarray, p: np.ndarray, n_bins: int = 10) -> list[dict[str, float]]:
    """Equal-width probability bins: count, mean predicted probability, observed mass rate."""
    edges = np.linspace(0.0, 1.0, n_bins + 1)
    idx = np.clip(np.digitize(p, edges[1:-1]), 0, n_bins - 1)
    rows = []
    for b in range(n_bins):
        sel = idx == b
        if sel.any():
            rows.append(
                {
                    "bin_low": float(edges[b]),
                    "bin_high": float(edges[b + 1]),
                    "count": int(sel.sum()),
                    "mean_predicted": float(p[sel].mean()),
                    "observed_rate": float(y[sel].mean()),
                }
            )
    return rows


def ece(y: np.ndarray, p: np.ndarray, n_bins: int = 10) -> float:
    """Expected calibration error over equal-width bins of the positive-class probability."""
    n = len(y)
    return float(
        sum(
            r["count"] / n * abs(r["mean_predicted"] - r["observed_rate"])
            for r in reliability(y, p, n_bins)
        )
    )


def bootstrap_ci(
    y: np.ndarray, p: np.ndarray, *, n_boot: int = 2000, seed: int = 0, alpha: float = 0.05
) -> dict[str, list[float]]:
    """Percentile CIs of AUC, accuracy and Brier by resampling the test cases with replacement."""
    rng = np.random.default_rng(seed)
    n = len(y)
    stats: dict[str, list[float]] = {"auc": [], "acc": [], "brier": []}
    for _ in range(n_boot):
        i = rng.integers(0, n, n)
        if y[i].min() == y[i].max():
            continue
        stats["auc"].append(auc(y[i], p[i]))
        stats["acc"].append(accuracy(y[i], p[i]))
        stats["brier"].append(brier(y[i], p[i]))
    q = [100 * alpha / 2, 100 * (1 - alpha / 2)]
    return {k: [float(v) for v in np.percentile(vals, q)] for k, vals in stats.items()}


def summarize(
    y: np.ndarray, p: np.ndarray, *, with_ci: bool = True, n_boot: int = 2000
) -> dict[str, Any]:
    out: dict[str, Any] = {
        "n": len(y),
        "n_mass": int(y.sum()),
        "auc": auc(y, p),
        "acc": accuracy(y, p),
        "brier": brier(y, p),
        "ece": ece(y, p),
    }
    if with_ci:
        out["ci95"] = bootstrap_ci(y, p, n_boot=n_boot)
    return out
