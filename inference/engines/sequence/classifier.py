"""The three sequence tasks, computed from a protein's composition vector and its reference hits.

Each task blends two views: a linear model over 1/2/3-mer composition (works for any protein) and a
vote of the nearest references, weighted by alignment score (precise when a close relative is
known).
A small logistic "stacker", fitted on out-of-group predictions of the training split, turns the two
views into calibrated probabilities. Training (``training.sequences``) and inference share this code
so the features are computed the same way in both.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

EPS = 1e-4


def sigmoid(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.clip(z, -40.0, 40.0)))


def softmax(z: np.ndarray) -> np.ndarray:
    z = z - z.max(axis=-1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=-1, keepdims=True)


def logit(p: np.ndarray) -> np.ndarray:
    p = np.clip(p, EPS, 1.0 - EPS)
    return np.log(p / (1.0 - p))


@dataclass
class Linear:
    """Weights of a fitted linear model: one row per class (a single row means binary)."""

    weights: np.ndarray
    bias: np.ndarray

    def decision(self, x: np.ndarray | sp.spmatrix) -> np.ndarray:
        out = x @ self.weights.T
        return np.asarray(out, dtype=np.float64) + self.bias

    def proba(self, x: np.ndarray | sp.spmatrix) -> np.ndarray:
        z = self.decision(x)
        if self.weights.shape[0] == 1:
            p = sigmoid(z[:, 0])
            return np.stack([1.0 - p, p], axis=1)
        return softmax(z)


@dataclass
class Votes:
    """Score-weighted label distribution of a query's hits for one task."""

    dist: np.ndarray  # (n_classes,)
    top_score: float  # best normalised score among hits that carry a label for this task


def vote(
    ref_labels: np.ndarray,
    n_classes: int,
    hit_refs: np.ndarray,
    hit_norm: np.ndarray,
    tau: float,
    boost: np.ndarray | None = None,
    strength: np.ndarray | None = None,
) -> Votes:
    """Weights exp((s - s_best) / tau) over hits with a label; ``boost`` multiplies some weights.

    ``top_score`` is the best ``strength`` (default: the normalised score) among those hits.
    """
    labels = ref_labels[hit_refs]
    keep = labels >= 0
    dist = np.zeros(n_classes, dtype=np.float64)
    if not keep.any():
        return Votes(dist, 0.0)
    s = hit_norm[keep]
    w = np.exp((s - s.max()) / tau)
    if boost is not None:
        w = w * boost[keep]
    np.add.at(dist, labels[keep], w)
    dist /= dist.sum()
    top = float(strength[keep].max()) if strength is not None else float(s.max())
    return Votes(dist, top)


EVIDENCE_SCALE = 30.0  # -log10 E-value at which alignment evidence counts as saturated


def evidence_feature(evidence: np.ndarray) -> np.ndarray:
    """-log10 E-value of the best hit mapped to 0..1 (0: chance level, 1: E <= 1e-30)."""
    return np.clip(np.asarray(evidence, dtype=np.float64) / EVIDENCE_SCALE, 0.0, 1.0)


def best_by_origin(
    ref_task1: np.ndarray, hit_refs: np.ndarray, hit_norm: np.ndarray, evidence: np.ndarray
) -> np.ndarray:
    """Best normalised score and best E-value evidence (0..1) among the hits of pathogen-origin
    references and among the hits of non-pathogen ones: (pos score, neg score, pos ev, neg ev).

    The vote sees only the winners' labels; a factor whose nearest commensal homolog barely
    outscores its nearest pathogen homolog is told apart from one with no pathogen homolog at all.
    """
    out = np.zeros(4, dtype=np.float64)
    labels = ref_task1[hit_refs]
    e = evidence_feature(evidence)
    for j, origin in enumerate((1, 0)):
        mask = labels == origin
        if mask.any():
            out[j] = float(hit_norm[mask].max())
            out[2 + j] = float(e[mask].max())
    return out


def task1_features(
    p_lr: np.ndarray,
    votes_pos: np.ndarray,
    top: np.ndarray,
    evidence: np.ndarray,
    by_origin: np.ndarray,
) -> np.ndarray:
    """Stacker input for task1: composition logit, signed vote times hit strength (normalised
    score and E-value evidence), the two strengths, ``best_by_origin`` (n x 4), and the orphan
    composition model's logit.

    ``p_lr`` is (n, 2): the composition model trained on every training protein and the one
    trained only on orphans (proteins with no homolog outside their own identity group), the
    regime where composition is all there is to go on.
    """
    e = evidence_feature(evidence)
    signed = 2.0 * votes_pos - 1.0
    return np.column_stack(
        [logit(p_lr[:, 0]), signed * top, top, signed * e, e, by_origin, logit(p_lr[:, 1])]
    )


def task2_features(
    p_lr: np.ndarray, votes: np.ndarray, top: np.ndarray, evidence: np.ndarray
) -> np.ndarray:
    """Per-class stacker input for task2, shape (n, classes, 6).

    The same six weights apply to every class (a conditional-logit model), so a rare class is
    combined as well as a frequent one: log composition probability, vote share, vote share and
    log vote share times the normalised hit score, and the same two times the E-value evidence.
    """
    t = top[:, None]
    e = evidence_feature(evidence)[:, None]
    log_votes = np.log(votes + EPS)
    return np.stack(
        [np.log(p_lr + EPS), votes, votes * t, log_votes * t, votes * e, log_votes * e], axis=2
    )


def task2_proba(features: np.ndarray, model: Linear) -> np.ndarray:
    """Softmax over classes of the shared-weight scores (``model.weights`` is 1 x 6)."""
    z = features @ model.weights[0].astype(np.float64) + model.bias
    return softmax(z)


def task3_domains(labels: list[str], non_pathogen: str) -> np.ndarray:
    """Domain of every task3 label: 0 viral (and others), 1 bacterial virulence factor (``VF:``),
    2 the non-pathogen label. The calibrator learns one offset and slope per domain, because a
    winning share of 0.6 means much more for an influenza lineage than for a VFDB system."""
    return np.array(
        [2 if lab == non_pathogen else 1 if lab.startswith("VF:") else 0 for lab in labels],
        dtype=np.int64,
    )


def task3_features(
    p_top: np.ndarray, top: np.ndarray, evidence: np.ndarray, domain: np.ndarray
) -> np.ndarray:
    """Calibrator input for task3: winning share, hit strengths, their products, and the winning
    label's domain (one-hot, viral as baseline) with its interaction with the share."""
    share = logit(p_top)
    e = evidence_feature(evidence)
    vf = (domain == 1).astype(np.float64)
    npath = (domain == 2).astype(np.float64)
    return np.column_stack(
        [share, top, share * top, e, share * e, vf, npath, share * vf, share * npath]
    )


def task3_mixture(votes: np.ndarray, p_pathogen: float, non_pathogen: int) -> np.ndarray:
    """P(pathogen) * votes + P(not pathogen) * one-hot("Non-pathogen protein")."""
    if non_pathogen < 0:
        return votes
    mixed = votes * p_pathogen
    mixed[non_pathogen] += 1.0 - p_pathogen
    return mixed


def task3_calibrate(
    dist: np.ndarray, top: float, evidence: float, calibrator: Linear, domains: np.ndarray
) -> tuple[np.ndarray, float]:
    """Rescale a vote distribution so its top-1 share becomes a calibrated probability.

    The other labels share the remaining mass in proportion to their votes, each capped at the
    top label's probability: the calibrator speaks for the vote's winner only, so a runner-up never
    overtakes it. When the cap binds the probabilities sum to less than 1, and the shortfall is
    the chance that the answer is none of the listed labels.
    """
    if dist.sum() <= 0:
        return dist, 0.0
    best = int(np.argmax(dist))
    raw = float(dist[best])
    feats = task3_features(
        np.array([raw]), np.array([top]), np.array([evidence]), domains[best : best + 1]
    )
    conf = float(calibrator.proba(feats)[0, 1])
    out = dist.copy()
    rest = 1.0 - raw
    out[best] = conf
    if rest > 0:
        mask = np.arange(dist.size) != best
        # Strictly below the winner, so an exact tie cannot hand argmax to a runner-up.
        out[mask] = np.minimum(dist[mask] * (1.0 - conf) / rest, np.nextafter(conf, 0.0))
    return out, conf
