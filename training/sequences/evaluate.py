"""Held-out metrics: ROC AUC, macro-F1, top-1 accuracy, expected calibration error, confusions."""

from __future__ import annotations

from collections import Counter
from typing import Any

import numpy as np
from sklearn.metrics import f1_score, roc_auc_score


def ece(confidence: np.ndarray, correct: np.ndarray, n_bins: int = 10) -> float:
    """Expected calibration error of top-1 confidences over equal-width bins."""
    if confidence.size == 0:
        return float("nan")
    bins = np.minimum((confidence * n_bins).astype(int), n_bins - 1)
    total = 0.0
    for b in range(n_bins):
        mask = bins == b
        if mask.any():
            total += mask.mean() * abs(float(confidence[mask].mean()) - float(correct[mask].mean()))
    return float(total)


def binary_metrics(p: np.ndarray, y: np.ndarray) -> dict[str, Any]:
    """Task1: AUC, accuracy at 0.5, confusion counts, ECE of max(p, 1-p)."""
    pred = p >= 0.5
    conf = np.where(pred, p, 1.0 - p)
    return {
        "n": int(y.size),
        "roc_auc": float(roc_auc_score(y, p)) if len(set(y.tolist())) == 2 else None,
        "accuracy": float(np.mean(pred == (y == 1))),
        "confusion": {
            "true_pathogen_pred_pathogen": int(np.sum(pred & (y == 1))),
            "true_pathogen_pred_not": int(np.sum(~pred & (y == 1))),
            "true_not_pred_pathogen": int(np.sum(pred & (y == 0))),
            "true_not_pred_not": int(np.sum(~pred & (y == 0))),
        },
        "ece": ece(conf, pred == (y == 1)),
    }


def top_confusions(y: np.ndarray, pred: np.ndarray, labels: list[str], n: int = 10) -> list[Any]:
    pairs = Counter((int(a), int(b)) for a, b in zip(y, pred, strict=True) if a != b)
    return [[labels[a], labels[b], c] for (a, b), c in pairs.most_common(n)]


def multiclass_metrics(
    proba: np.ndarray, y: np.ndarray, labels: list[str], *, with_f1: bool
) -> dict[str, Any]:
    """Top-1 accuracy, optional macro-F1 over the classes present, ECE of the top-1 confidence."""
    pred = np.argmax(proba, axis=1)
    conf = proba[np.arange(y.size), pred]
    correct = pred == y
    out: dict[str, Any] = {
        "n": int(y.size),
        "n_classes": int(np.unique(y).size),
        "top1_accuracy": float(correct.mean()) if y.size else None,
        "ece": ece(conf, correct),
        "top_confusions": top_confusions(y, pred, labels),
    }
    if with_f1 and y.size:
        present = np.unique(y)
        out["macro_f1"] = float(f1_score(y, pred, labels=present, average="macro"))
        per_class = f1_score(y, pred, labels=present, average=None)
        out["per_class_f1"] = {
            labels[c]: round(float(f), 4) for c, f in zip(present, per_class, strict=True)
        }
    return out
