"""Composition (1/2/3-mer) linear models: softmax regression trained by mini-batch Adam.

``--epochs`` and ``--batch-size`` drive this optimiser. The L2 strength is chosen by group-wise
cross-validation on the training split only (mean log-loss over the folds).
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from inference.engines.sequence.classifier import Linear

ALPHAS = (1e-5, 1e-4, 1e-3)


def fit_sgd(
    x: sp.csr_matrix,
    y: np.ndarray,
    classes: np.ndarray,
    *,
    alpha: float,
    epochs: int,
    batch_size: int,
    seed: int,
    learning_rate: float = 0.05,
) -> Linear:
    """Softmax regression by mini-batch Adam for ``epochs`` shuffled passes (L2 ``alpha``).

    Two classes give one row (the logit of class 1), as ``Linear`` expects for binary models.
    """
    rng = np.random.default_rng(seed)
    n, d = x.shape
    c = classes.size
    w = np.zeros((d, c), dtype=np.float64)
    b = np.zeros(c, dtype=np.float64)
    onehot = np.zeros((n, c), dtype=np.float64)
    onehot[np.arange(n), y] = 1.0
    m_w, v_w = np.zeros_like(w), np.zeros_like(w)
    m_b, v_b = np.zeros_like(b), np.zeros_like(b)
    beta1, beta2, eps = 0.9, 0.999, 1e-8
    step = 0
    for _ in range(max(epochs, 1)):
        order = rng.permutation(n)
        for start in range(0, n, batch_size):
            idx = order[start : start + batch_size]
            xb = x[idx]
            z = np.asarray(xb @ w) + b
            z -= z.max(axis=1, keepdims=True)
            p = np.exp(z)
            p /= p.sum(axis=1, keepdims=True)
            err = (p - onehot[idx]) / idx.size
            g_w = np.asarray(xb.T @ err) + alpha * w
            g_b = err.sum(axis=0)
            step += 1
            m_w = beta1 * m_w + (1 - beta1) * g_w
            v_w = beta2 * v_w + (1 - beta2) * g_w * g_w
            m_b = beta1 * m_b + (1 - beta1) * g_b
            v_b = beta2 * v_b + (1 - beta2) * g_b * g_b
            corr1, corr2 = 1 - beta1**step, 1 - beta2**step
            w -= learning_rate * (m_w / corr1) / (np.sqrt(v_w / corr2) + eps)
            b -= learning_rate * (m_b / corr1) / (np.sqrt(v_b / corr2) + eps)
    if c == 2:
        return Linear((w[:, 1] - w[:, 0])[None, :].astype(np.float32), np.array([b[1] - b[0]]))
    return Linear(w.T.astype(np.float32), b)


def log_loss(proba: np.ndarray, y: np.ndarray) -> float:
    p = np.clip(proba[np.arange(y.size), y], 1e-6, 1.0)
    return float(-np.mean(np.log(p)))


def cross_validate(
    x: sp.csr_matrix,
    y: np.ndarray,
    n_classes: int,
    folds: np.ndarray,
    *,
    epochs: int,
    batch_size: int,
    seed: int,
    alphas: tuple[float, ...] = ALPHAS,
) -> tuple[float, np.ndarray, dict[str, float]]:
    """Best alpha, its out-of-fold probabilities (rows outside every fold stay 0), CV losses."""
    classes = np.arange(n_classes)
    losses: dict[str, float] = {}
    best: tuple[float, float, np.ndarray] | None = None
    labelled = y >= 0
    for alpha in alphas:
        oof = np.zeros((x.shape[0], n_classes if n_classes > 2 else 2))
        for fold in np.unique(folds[folds >= 0]):
            tr = labelled & (folds != fold)
            te = labelled & (folds == fold)
            model = fit_sgd(
                x[tr], y[tr], classes, alpha=alpha, epochs=epochs, batch_size=batch_size, seed=seed
            )
            oof[te] = model.proba(x[te])
        scored = labelled & (folds >= 0)
        loss = log_loss(oof[scored], y[scored])
        losses[str(alpha)] = loss
        if best is None or loss < best[0]:
            best = (loss, alpha, oof)
    assert best is not None
    return best[1], best[2], losses
