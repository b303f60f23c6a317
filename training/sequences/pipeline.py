"""End-to-end training of one sequence-model version, from the shared datasets to artifacts.

Order: load and merge sources -> harmonise influenza labels -> identity groups -> split by group ->
reference set (training representatives) -> composition models (alpha by group CV) -> out-of-group
search of a calibration sample -> stackers and calibrator -> one evaluation on the test split ->
``models/sequence/<version>/`` with manifest, weights, references, metrics and model card.
"""

from __future__ import annotations

import datetime as dt
import json
import time
import warnings
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from scipy.optimize import minimize
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression

from inference.engines.sequence.artifacts import Bundle, Reference, save_bundle
from inference.engines.sequence.classifier import (
    Linear,
    best_by_origin,
    task1_features,
    task2_features,
    task2_proba,
    task3_domains,
    task3_features,
    task3_mixture,
    vote,
)
from inference.engines.sequence.kmers import composition_matrix
from inference.engines.sequence.predictor import NON_PATHOGEN, Predictor
from inference.engines.sequence.search import ReferenceSearch, self_score
from training.sequences import data, evaluate, linear, split
from training.sequences.card import write_model_card
from training.sequences.structures import build_structure_map, stage_pdb_files

MODEL_NAME = "cdss-pathogen-sequence"
TAUS = (0.01, 0.02, 0.05, 0.15)
N_VOTE = 10
N_CANDIDATES = 16
N_SEEDED = 8
N_FOLDS = 3
# Calibration proteins come from strata with at least this many training identity groups.
MIN_STRATUM_GROUPS = 3
HARMONISE_SCORE = 0.85
LOW_EVIDENCE = 10.0  # -log10 E-value below which a label is at most "low" confidence
LOW_PROBABILITY = 0.5
MIN_UNIQUE_TASK3 = 20
# Orphans: training proteins whose best hit outside their own identity group has a -log10
# E-value below this (E > 1e-3). The orphan composition model is fitted on them alone.
ORPHAN_EVIDENCE = 3.0
MIN_ORPHANS = 50  # fewer (small smoke runs): the orphan model is fitted on every protein
# Orphans are few and hard: the L2 grid reaches further than the general models' one.
ORPHAN_ALPHAS = (1e-3, 3e-3, 1e-2, 3e-2)

ProgressFn = Callable[[float, str], None]
# (reference indices, raw scores, vote scores, strengths, -log10 E-values) of one query
Hits = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]


@dataclass
class TrainConfig:
    """Command-line options of ``python -m training.sequences``."""

    datasets_dir: Path
    out_root: Path
    version: str
    epochs: int = 8
    batch_size: int = 256
    seed: int = 13
    n_calibration: int = 6000
    max_records: int | None = None  # smoke runs only
    update_current: bool = True
    extra: dict[str, Any] = field(default_factory=dict)


def _noop(_fraction: float, _message: str) -> None:
    return None


def harmonise_flu_labels(records: list[data.Record]) -> int:
    """Give FluTile/GenoFLU proteins the Nextclade lineage label of a near-identical protein.

    FluTile labels by subtype file (HA_H1); Nextclade by lineage (HA_H1N1pdm). A FluTile protein
    whose best Nextclade hit scores at least ``HARMONISE_SCORE`` of its self-score, for the same
    gene,
    takes the lineage label, so one sequence family does not carry two task3 labels.
    """
    nextclade = [r for r in records if r.source in ("nextclade", "nextclade_reference")]
    flu = [r for r in records if r.source in ("flutile", "genoflu")]
    if not nextclade or not flu:
        return 0
    search = ReferenceSearch([r.sequence for r in nextclade], n_candidates=8)
    changed = 0
    for rec in flu:
        refs, scores = search.search(rec.sequence, top_n=1)
        if refs.size == 0 or scores[0] < HARMONISE_SCORE * self_score(rec.sequence):
            continue
        target = nextclade[int(refs[0])].task3
        if target.split("_")[0] == rec.task3.split("_")[0] and target != rec.task3:
            rec.extra["original_task3"] = rec.task3
            rec.task3 = target
            changed += 1
    return changed


def _search_many(
    predictor: Predictor,
    sequences: list[str],
    groups: np.ndarray | None,
    ref_groups: np.ndarray,
    chunk: int = 256,
) -> list[Hits]:
    """Hits for many queries; a query never sees references of its own identity group."""
    out = []
    for start in range(0, len(sequences), chunk):
        block = sequences[start : start + chunk]
        pre = predictor.search.prefilter_batch(block)
        if groups is not None:
            same = ref_groups[None, :] == groups[start : start + chunk, None]
            pre[np.broadcast_to(same[:, None, :], pre.shape)] = -np.inf
        for i, seq in enumerate(block):
            out.append(predictor.hits(seq, prefilter=pre[i]))
    return out


def _fit_logistic(x: np.ndarray, y: np.ndarray, n_classes: int, c: float = 1.0) -> Linear:
    """Logistic regression on standardised inputs, folded back into weights on the raw inputs."""
    mean = x.mean(axis=0)
    scale = x.std(axis=0)
    scale[scale < 1e-9] = 1.0
    model = LogisticRegression(C=c, max_iter=500)
    with warnings.catch_warnings():
        # A stacker that has not fully converged is still a fine calibrator; it is scored on test.
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit((x - mean) / scale, y)
    coef = np.asarray(model.coef_, dtype=np.float64) / scale
    bias = np.asarray(model.intercept_, dtype=np.float64) - coef @ mean
    weights = coef.astype(np.float32)
    if n_classes > 2 and weights.shape[0] != n_classes:
        full_w = np.zeros((n_classes, weights.shape[1]), dtype=np.float32)
        full_b = np.full(n_classes, -30.0)
        full_w[model.classes_] = weights
        full_b[model.classes_] = bias
        weights, bias = full_w, full_b
    return Linear(weights, bias)


def _fit_shared_softmax(features: np.ndarray, y: np.ndarray, l2: float = 1e-2) -> Linear:
    """Conditional-logit stacker: class score = features[c] @ w + b[c] (L-BFGS, L2 on w and b)."""
    n, c, k = features.shape

    def loss(theta: np.ndarray) -> tuple[float, np.ndarray]:
        w, b = theta[:k], theta[k:]
        z = features @ w + b
        z = z - z.max(axis=1, keepdims=True)
        p = np.exp(z)
        p /= p.sum(axis=1, keepdims=True)
        nll = -np.mean(np.log(np.clip(p[np.arange(n), y], 1e-12, 1.0)))
        err = p.copy()
        err[np.arange(n), y] -= 1.0
        err /= n
        g_w = np.einsum("nc,nck->k", err, features) + l2 * w
        g_b = err.sum(axis=0) + l2 * b
        return nll + 0.5 * l2 * float(theta @ theta), np.concatenate([g_w, g_b])

    theta0 = np.zeros(k + c)
    theta0[:k] = [1.0, 1.0, 1.0] + [0.0] * (k - 3)
    res = minimize(loss, theta0, jac=True, method="L-BFGS-B", options={"maxiter": 500})
    return Linear(res.x[:k][None, :].astype(np.float32), res.x[k:].astype(np.float64))


def _stacker_cv(
    f1: np.ndarray, y1: np.ndarray, f2: np.ndarray, y2: np.ndarray, seed: int
) -> dict[str, dict[str, float]]:
    """3-fold CV of the stackers on the calibration sample (training split only).

    Compares the stackers without the E-value evidence features (the first three task1 and first
    four task2 features), with them but without the orphan model's logit (task1's last feature),
    and with everything, so the choice of features rests on training data.
    """
    rng = np.random.default_rng(seed)
    out: dict[str, dict[str, float]] = {}
    fold1 = rng.permutation(y1.size) % N_FOLDS
    fold2 = rng.permutation(y2.size) % N_FOLDS
    n_cls = f2.shape[1]
    all1 = f1.shape[1]
    for name, k1, k2 in (
        ("without_evidence", [0, 1, 2], 4),
        ("with_evidence_without_orphan", list(range(all1 - 1)), f2.shape[2]),
        ("with_evidence", list(range(all1)), f2.shape[2]),
    ):
        p1 = np.zeros(y1.size)
        p2 = np.zeros((y2.size, n_cls))
        for f in range(N_FOLDS):
            tr, te = fold1 != f, fold1 == f
            p1[te] = _fit_logistic(f1[tr][:, k1], y1[tr], 2).proba(f1[te][:, k1])[:, 1]
            tr, te = fold2 != f, fold2 == f
            model = _fit_shared_softmax(f2[tr][:, :, :k2], y2[tr])
            p2[te] = task2_proba(f2[te][:, :, :k2], model)
        m1 = evaluate.binary_metrics(p1, y1)
        m2 = evaluate.multiclass_metrics(p2, y2, [str(i) for i in range(n_cls)], with_f1=True)
        out[name] = {
            "task1_roc_auc": round(float(m1["roc_auc"]), 4),
            "task1_ece": round(float(m1["ece"]), 4),
            "task2_macro_f1": round(float(m2["macro_f1"]), 4),
            "task2_ece": round(float(m2["ece"]), 4),
        }
    return out


def _shuffled(seq: str, rng: np.random.Generator) -> str:
    chars = np.array(list(seq))
    rng.shuffle(chars)
    return "".join(chars.tolist())


def train(config: TrainConfig, report: ProgressFn = _noop) -> dict[str, Any]:
    """Train, evaluate once on the test split, write the version; returns its metrics."""
    t0 = time.time()
    rng = np.random.default_rng(config.seed)

    def progress(fraction: float, message: str) -> None:
        report(fraction, f"{message} (t={time.time() - t0:.0f}s)")

    seq_root = data.sequences_root(config.datasets_dir)
    progress(0.02, "loading datasets")
    records = data.load_records(config.datasets_dir)
    if config.max_records and len(records) > config.max_records:
        pick = rng.choice(len(records), size=config.max_records, replace=False)
        records = [records[i] for i in sorted(pick.tolist())]
    if not records:
        raise ValueError(f"no sequence records under {config.datasets_dir}")
    progress(0.05, f"{len(records)} unique proteins; harmonising influenza labels")
    relabelled = harmonise_flu_labels(records)
    seqs = [r.sequence for r in records]
    n = len(records)

    task2_labels = sorted({r.task2 for r in records if r.task2})
    task3_labels = sorted({r.task3 for r in records if r.task3} | {NON_PATHOGEN})
    t2_index = {lab: i for i, lab in enumerate(task2_labels)}
    t3_index = {lab: i for i, lab in enumerate(task3_labels)}
    y1 = np.array([r.task1 for r in records], dtype=np.int64)
    y2 = np.array([t2_index.get(r.task2, -1) for r in records], dtype=np.int64)
    y3 = np.array([t3_index.get(r.task3, -1) for r in records], dtype=np.int64)

    progress(0.10, "identity groups (5-mer containment)")
    kmat = split.kmer_matrix(seqs)
    left, right = split.near_copy_pairs(kmat)
    del kmat
    lengths = np.array([len(s) for s in seqs])
    group = split.greedy_groups(lengths, left, right)
    strata = [records[g].task3 or records[g].task2 or records[g].source for g in range(n)]
    forced = np.array([r.named_reference for r in records], dtype=bool)
    sp_ = split.split_by_group(group, strata, forced, left, right, seed=config.seed)
    train_idx = np.flatnonzero(sp_.train)
    test_idx = np.flatnonzero(sp_.test)

    is_rep = group == np.arange(n)
    ref_idx = np.flatnonzero(sp_.train & (is_rep | forced))
    references = [
        Reference(
            id=records[i].ref_id,
            name=records[i].name,
            organism=records[i].organism,
            source=records[i].source,
            uniprot=records[i].uniprot,
            task1=int(y1[i]),
            task2=int(y2[i]),
            task3=int(y3[i]),
            sequence=records[i].sequence,
        )
        for i in ref_idx.tolist()
    ]
    ref_groups = group[ref_idx]

    progress(0.18, "composition features")
    x = composition_matrix(seqs)
    uniq_groups = np.unique(group[train_idx])
    fold_of_group = dict(
        zip(
            uniq_groups.tolist(),
            (rng.permutation(uniq_groups.size) % N_FOLDS).tolist(),
            strict=True,
        )
    )
    folds = np.full(n, -1, dtype=np.int64)
    folds[train_idx] = [fold_of_group[g] for g in group[train_idx].tolist()]

    progress(0.22, "task1 composition model: cross-validating the L2 strength")
    y1_train = np.where(sp_.train, y1, -1)
    alpha1, oof1, cv1 = linear.cross_validate(
        x, y1_train, 2, folds, epochs=config.epochs, batch_size=config.batch_size, seed=config.seed
    )
    progress(0.32, "task2 composition model: cross-validating the L2 strength")
    y2_train = np.where(sp_.train, y2, -1)
    alpha2, oof2, cv2 = linear.cross_validate(
        x,
        y2_train,
        len(task2_labels),
        folds,
        epochs=config.epochs,
        batch_size=config.batch_size,
        seed=config.seed,
    )

    progress(0.45, "final composition models on the whole training split")
    lab1 = sp_.train & (y1 >= 0)
    lr1 = linear.fit_sgd(
        x[lab1], y1[lab1], np.arange(2), alpha=alpha1, epochs=config.epochs,
        batch_size=config.batch_size, seed=config.seed,
    )  # fmt: skip
    lab2 = sp_.train & (y2 >= 0)
    lr2 = linear.fit_sgd(
        x[lab2], y2[lab2], np.arange(len(task2_labels)), alpha=alpha2, epochs=config.epochs,
        batch_size=config.batch_size, seed=config.seed,
    )  # fmt: skip

    # Placeholder stackers let the predictor run while collecting the calibration sample.
    params = {
        "tau": TAUS[1],
        "n_vote": N_VOTE,
        "n_candidates": N_CANDIDATES,
        "n_seeded": N_SEEDED,
        "unknown_score": 0.0,
        "low_evidence": LOW_EVIDENCE,
        "low_probability": LOW_PROBABILITY,
    }
    manifest: dict[str, Any] = {
        "model_name": MODEL_NAME,
        "version": config.version,
        "labels": {
            "task1": ["not_pathogen", "pathogen"],
            "task2": task2_labels,
            "task3": task3_labels,
        },
        "params": params,
    }
    ident = Linear(np.zeros((1, 1), np.float32), np.zeros(1))
    models = {
        "lr1": lr1,
        "lr1_orphan": ident,
        "lr2": lr2,
        "stack1": ident,
        "stack2": ident,
        "cal3": ident,
    }
    predictor = Predictor(Bundle(manifest, models, references))

    progress(0.50, "out-of-group reference search for the calibration sample")
    # Like a test protein, a calibration protein must have no near-copy outside its own group
    # (split_by_group drops such test proteins); otherwise the sample is easier than the test.
    cross_group = group[left] != group[right]
    has_outside_copy = np.zeros(n, dtype=bool)
    has_outside_copy[left[cross_group & sp_.train[right]]] = True
    has_outside_copy[right[cross_group & sp_.train[left]]] = True
    # And, like a test protein, it must come from a stratum with at least two other training
    # groups left once its own is set aside (the split draws no test group from smaller strata).
    train_groups_per_stratum = Counter(strata[g] for g in np.unique(group[train_idx]).tolist())
    rich_stratum = np.array(
        [train_groups_per_stratum[strata[g]] >= MIN_STRATUM_GROUPS for g in group.tolist()]
    )
    labelled = (y1 >= 0) | (y2 >= 0) | (y3 >= 0)
    pool = labelled & ~has_outside_copy & rich_stratum
    train_labelled = train_idx[pool[train_idx]]
    n_cal = min(config.n_calibration, train_labelled.size)
    cal_idx = np.sort(rng.choice(train_labelled, size=n_cal, replace=False))
    cal_hits = _search_many(predictor, [seqs[i] for i in cal_idx], group[cal_idx], ref_groups)

    progress(0.56, "out-of-group search of the other training proteins: the orphans")
    # Orphans come from rich strata only (below), so proteins of small strata are not searched.
    rest_idx = np.setdiff1d(train_idx[rich_stratum[train_idx]], cal_idx)
    rest_hits = _search_many(predictor, [seqs[i] for i in rest_idx], group[rest_idx], ref_groups)
    best_evidence = np.full(n, np.inf)
    for idx, hits in ((cal_idx, cal_hits), (rest_idx, rest_hits)):
        best_evidence[idx] = [h[4].max() if h[4].size else 0.0 for h in hits]
    del rest_hits
    # Drawn like the test split, as the calibration sample: from strata with enough groups.
    orphan = sp_.train & (best_evidence < ORPHAN_EVIDENCE) & rich_stratum
    if np.unique(y1[orphan & (y1 >= 0)]).size < 2 or (orphan & (y1 >= 0)).sum() < MIN_ORPHANS:
        orphan = sp_.train.copy()
    progress(0.62, f"orphan composition model on {int(orphan.sum())} orphans")
    y1_orphan = np.where(orphan, y1, -1)
    alpha1o, oof1o, cv1o = linear.cross_validate(
        x, y1_orphan, 2, folds, epochs=config.epochs, batch_size=config.batch_size,
        seed=config.seed, alphas=ORPHAN_ALPHAS,
    )  # fmt: skip
    lab1o = orphan & (y1 >= 0)
    lr1_orphan = linear.fit_sgd(
        x[lab1o], y1[lab1o], np.arange(2), alpha=alpha1o, epochs=config.epochs,
        batch_size=config.batch_size, seed=config.seed,
    )  # fmt: skip
    # An orphan of the calibration sample gets its out-of-fold prediction; any other protein
    # never trained the orphan model, so the final model predicts it.
    p_orphan_cal = np.where(orphan[cal_idx], oof1o[cal_idx, 1], lr1_orphan.proba(x[cal_idx])[:, 1])

    progress(0.65, "choosing the vote temperature; fitting stackers and calibrator")

    def votes_for(hits: list[Hits], tau: float) -> tuple[np.ndarray, ...]:
        v1p = np.zeros(len(hits))
        v1t = np.zeros(len(hits))
        v2 = np.zeros((len(hits), len(task2_labels)))
        v2t = np.zeros(len(hits))
        v3 = np.zeros((len(hits), len(task3_labels)))
        v3t = np.zeros(len(hits))
        for i, (refs, _raw, norm, strength, _ev) in enumerate(hits):
            a = vote(predictor.ref_task1, 2, refs, norm, tau, None, strength)
            b = vote(predictor.ref_task2, len(task2_labels), refs, norm, tau, None, strength)
            c = vote(predictor.ref_task3, len(task3_labels), refs, norm, tau, None, strength)
            v1p[i], v1t[i] = a.dist[1], a.top_score
            v2[i], v2t[i] = b.dist, b.top_score
            v3[i], v3t[i] = c.dist, c.top_score
        return v1p, v1t, v2, v2t, v3, v3t

    tau_scores: dict[str, float] = {}
    best_tau, best_acc = TAUS[0], -1.0
    y3_cal = y3[cal_idx]
    has3 = y3_cal >= 0
    for tau in TAUS:
        v = votes_for(cal_hits, tau)
        acc = float(np.mean(np.argmax(v[4][has3], axis=1) == y3_cal[has3])) if has3.any() else 0.0
        tau_scores[str(tau)] = acc
        if acc > best_acc + 1e-9:
            best_tau, best_acc = tau, acc
    v1p, v1t, v2, v2t, v3, v3t = votes_for(cal_hits, best_tau)
    ev_cal = np.array([h[4].max() if h[4].size else 0.0 for h in cal_hits])

    m1 = y1[cal_idx] >= 0
    origin_cal = np.array(
        [best_by_origin(predictor.ref_task1, h[0], h[2], h[4]) for h in cal_hits]
    ).reshape(-1, 4)  # (n, 4), also when the sample is empty
    f1 = task1_features(
        np.column_stack([oof1[cal_idx, 1], p_orphan_cal]), v1p, v1t, ev_cal, origin_cal
    )
    # How the two composition models rank the calibration proteins that have no homolog.
    no_homolog = m1 & (ev_cal < ORPHAN_EVIDENCE)
    y_no_homolog = y1[cal_idx][no_homolog]
    orphan_cal_auc = {
        name: evaluate.binary_metrics(p[no_homolog], y_no_homolog)["roc_auc"]
        for name, p in (("general", oof1[cal_idx, 1]), ("orphan", p_orphan_cal))
    }
    m2 = y2[cal_idx] >= 0
    f2 = task2_features(oof2[cal_idx], v2, v2t, ev_cal)
    progress(0.68, "cross-validating the stackers with and without alignment evidence")
    stacker_cv = _stacker_cv(f1[m1], y1[cal_idx][m1], f2[m2], y2[cal_idx][m2], config.seed)
    stack1 = _fit_logistic(f1[m1], y1[cal_idx][m1], 2)
    stack2 = _fit_shared_softmax(f2[m2], y2[cal_idx][m2])
    # The calibrator sees what is served: the mixture with the stacked P(pathogen).
    p1_cal = stack1.proba(f1)[:, 1]
    non_pathogen3 = task3_labels.index(NON_PATHOGEN)
    mixed3 = np.stack(
        [task3_mixture(v3[i], float(p1_cal[i]), non_pathogen3) for i in range(len(cal_hits))]
    )
    top3 = mixed3.max(axis=1)
    correct3 = (np.argmax(mixed3, axis=1) == y3_cal).astype(int)
    domains3 = task3_domains(task3_labels, NON_PATHOGEN)
    f3 = task3_features(
        np.clip(top3[has3], 1e-4, 1.0),
        v3t[has3],
        ev_cal[has3],
        domains3[np.argmax(mixed3[has3], axis=1)],
    )
    cal3 = _fit_logistic(f3, correct3[has3], 2)

    progress(0.72, "unknown threshold from shuffled proteins")
    shuffle_idx = cal_idx[: min(400, cal_idx.size)]
    shuffled = [_shuffled(seqs[i], rng) for i in shuffle_idx]
    shuf_hits = _search_many(predictor, shuffled, None, ref_groups)
    # "unknown" threshold on the best hit's -log10 E-value: above 99% of shuffled proteins.
    shuf_top = np.array([h[4].max() if h[4].size else 0.0 for h in shuf_hits])
    unknown_score = float(np.quantile(shuf_top, 0.99)) + 0.5 if shuf_top.size else 3.0

    params.update({"tau": best_tau, "unknown_score": unknown_score})
    models.update(
        {
            "lr1_orphan": lr1_orphan,
            "stack1": stack1,
            "stack2": stack2,
            "cal3": cal3,
        }
    )
    predictor = Predictor(Bundle(manifest, models, references))

    progress(0.75, f"evaluating once on {test_idx.size} held-out proteins")
    test_seqs = [seqs[i] for i in test_idx]
    p1_lr, p2_lr = predictor.composition(test_seqs) if test_seqs else (np.zeros(0), np.zeros(0))
    test_hits = _search_many(predictor, test_seqs, None, ref_groups)
    results = [predictor.combine(p1_lr[i], p2_lr[i], *test_hits[i]) for i in range(len(test_seqs))]
    shuf_test = [_shuffled(s, rng) for s in test_seqs[:300]]
    shuf_test_hits = _search_many(predictor, shuf_test, None, ref_groups)
    p1s, p2s = predictor.composition(shuf_test) if shuf_test else (np.zeros(0), np.zeros(0))
    shuf_results = [
        predictor.combine(p1s[i], p2s[i], *shuf_test_hits[i]) for i in range(len(shuf_test))
    ]

    metrics = _metrics(
        records, test_idx, y1, y2, y3, task2_labels, task3_labels, results, shuf_results
    )
    metrics["training"] = {
        "n_unique_proteins": n,
        "n_groups": int(np.unique(group).size),
        "n_train": int(train_idx.size),
        "n_test": int(test_idx.size),
        "n_test_dropped_near_copies": sp_.dropped_near_copies,
        "n_references": len(references),
        "n_calibration": int(n_cal),
        "n_calibration_pool_dropped_near_copies": int(has_outside_copy[train_idx].sum()),
        "n_calibration_pool_dropped_small_strata": int((~rich_stratum[train_idx]).sum()),
        "flu_labels_harmonised": relabelled,
        "alpha_task1": alpha1,
        "alpha_task2": alpha2,
        "cv_logloss_task1": cv1,
        "cv_logloss_task2": cv2,
        "orphan_evidence": ORPHAN_EVIDENCE,
        "n_orphans_train": int(lab1o.sum()),
        "alpha_task1_orphan": alpha1o,
        "cv_logloss_task1_orphan": cv1o,
        "n_calibration_no_homolog": int(no_homolog.sum()),
        "task1_auc_no_homolog_calibration": orphan_cal_auc,
        "tau_cv_task3_accuracy": tau_scores,
        "tau": best_tau,
        "stacker_cv_on_calibration_sample": stacker_cv,
        "unknown_score": unknown_score,
        "epochs": config.epochs,
        "batch_size": config.batch_size,
        "seed": config.seed,
        "sources": dict(Counter(r.source for r in records)),
        "seconds": round(time.time() - t0, 1),
    }
    manifest["created"] = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    progress(0.92, "writing artifacts")
    out_dir = config.out_root / config.version
    structures = build_structure_map(seq_root)
    staged = stage_pdb_files(seq_root, out_dir / "structures")
    structures["staged"] = {k: v for k, v in structures["staged"].items() if k in staged}
    manifest["structures"] = structures
    save_bundle(out_dir, Bundle(manifest, models, references, metrics))
    test_ids = "\n".join(records[i].ref_id for i in test_idx)
    (out_dir / "test_ids.txt").write_text(test_ids + "\n")
    write_model_card(out_dir / "MODEL_CARD.md", manifest, metrics)
    if config.update_current:
        (config.out_root / "CURRENT").write_text(config.version + "\n")
    progress(1.0, "done")
    return metrics


def _metrics(
    records: list[data.Record],
    test_idx: np.ndarray,
    y1: np.ndarray,
    y2: np.ndarray,
    y3: np.ndarray,
    task2_labels: list[str],
    task3_labels: list[str],
    results: list[Any],
    shuffled: list[Any],
) -> dict[str, Any]:
    """Held-out metrics of the three tasks (computed once, on the test split)."""
    out: dict[str, Any] = {}
    if not results:
        return out
    p1 = np.array([r.p_pathogen for r in results])
    t1 = y1[test_idx]
    m1 = t1 >= 0
    if m1.any():
        out["task1"] = evaluate.binary_metrics(p1[m1], t1[m1])
        sources = np.array([records[i].source for i in test_idx])
        pos, neg = m1 & (t1 == 1), m1 & (t1 == 0)
        out["task1"]["roc_auc_positive_source_vs_all_negatives"] = _auc_per_source(
            p1, t1, sources, pos, neg
        )
        out["task1"]["roc_auc_negative_source_vs_all_positives"] = _auc_per_source(
            p1, t1, sources, neg, pos
        )
        out["task1"]["by_best_hit_evidence"] = _task1_by_evidence(
            p1[m1], t1[m1], np.array([r.evidence for r in results])[m1], sources[m1]
        )
    p2 = np.stack([r.task2 for r in results])
    t2 = y2[test_idx]
    m2 = t2 >= 0
    sources = np.array([records[i].source for i in test_idx])
    viral_sources = ("nextclade", "nextclade_reference", "flutile", "genoflu", "flu_reference")
    viral = np.isin(sources, viral_sources)
    bacterial = np.isin(sources, ("vfdb", "effectivet3", "toxinpred2", "spaan")) & (t1 == 1)
    if m2.any():
        out["task2"] = evaluate.multiclass_metrics(p2[m2], t2[m2], task2_labels, with_f1=True)
        by_domain = {}
        for name, mask in (
            ("viral", viral),
            ("bacterial_and_toxin", bacterial),
            ("negatives", t1 == 0),
        ):
            sel = m2 & mask
            if sel.any():
                sub = evaluate.multiclass_metrics(p2[sel], t2[sel], task2_labels, with_f1=True)
                by_domain[name] = {
                    k: sub[k] for k in ("n", "n_classes", "top1_accuracy", "macro_f1")
                }
        out["task2"]["by_domain"] = by_domain
    p3 = np.stack([r.task3 for r in results])
    t3 = y3[test_idx]
    unique_counts = Counter(r.task3 for r in records if r.task3)
    big = np.array(
        [unique_counts[task3_labels[c]] >= MIN_UNIQUE_TASK3 if c >= 0 else False for c in t3]
    )
    task3: dict[str, Any] = {}
    for name, mask in (
        ("classes_with_20_or_more_unique", (t3 >= 0) & big),
        ("viral_classes_with_20_or_more_unique", (t3 >= 0) & big & viral),
        ("all_classes", t3 >= 0),
    ):
        if mask.any():
            task3[name] = evaluate.multiclass_metrics(
                p3[mask], t3[mask], task3_labels, with_f1=False
            )
    out["task3"] = task3
    confidences = Counter(r.confidence for r in results)
    out["confidence_on_test"] = dict(confidences)
    out["shuffled_controls"] = {
        "n": len(shuffled),
        "flagged_unknown": int(sum(r.confidence == "unknown" for r in shuffled)),
        "flagged_low_or_unknown": int(sum(r.confidence != "high" for r in shuffled)),
    }
    high = np.array([r.confidence == "high" for r in results])
    if m2.any():
        pred2 = np.argmax(p2, axis=1)
        out["task2"]["accuracy_when_confidence_high"] = (
            float(np.mean(pred2[m2 & high] == t2[m2 & high])) if (m2 & high).any() else None
        )
    return out


def _auc_per_source(
    p: np.ndarray, y: np.ndarray, sources: np.ndarray, side: np.ndarray, others: np.ndarray
) -> dict[str, float]:
    """ROC AUC of each source on one side (pathogen or not) against all of the other side."""
    out: dict[str, float] = {}
    for src in sorted(set(sources[side].tolist())):
        mask = ((sources == src) & side) | others
        if len(set(y[mask].tolist())) == 2:
            out[src] = round(float(evaluate.roc_auc_score(y[mask], p[mask])), 4)
    return out


# Bands of the best hit's -log10 E-value: no homolog, a weak one, a clear one.
EVIDENCE_BANDS = ((0.0, 3.0), (3.0, 10.0), (10.0, float("inf")))


def _task1_by_evidence(
    p: np.ndarray, y: np.ndarray, evidence: np.ndarray, sources: np.ndarray
) -> list[dict[str, Any]]:
    """task1 on the test split per band of alignment evidence: how much of the error comes from
    proteins with no homolog among the references (where only composition speaks)."""
    rows = []
    for low, high in EVIDENCE_BANDS:
        sel = (evidence >= low) & (evidence < high)
        pos, neg = sel & (y == 1), sel & (y == 0)
        rows.append(
            {
                "neg_log10_evalue": [low, None if np.isinf(high) else high],
                "n": int(sel.sum()),
                "pathogen": int(pos.sum()),
                "not_pathogen": int(neg.sum()),
                "missed_pathogen_at_0.5": int((pos & (p < 0.5)).sum()),
                "false_pathogen_at_0.5": int((neg & (p >= 0.5)).sum()),
                "roc_auc": (
                    round(float(evaluate.roc_auc_score(y[sel], p[sel])), 4)
                    if pos.any() and neg.any()
                    else None
                ),
                "pathogen_by_source": dict(Counter(sources[pos].tolist()).most_common()),
            }
        )
    return rows


def default_version(out_root: Path) -> str:
    """``seq-<year>.<month>.<n>``, ``n`` one above this month's highest under ``out_root``, so a
    run without ``--version`` never overwrites a version (``make train-sequences`` names the
    shipped one to reproduce it)."""
    today = dt.date.today()
    prefix = f"seq-{today.year}.{today.month}."
    used = [
        int(p.name.removeprefix(prefix))
        for p in (out_root.iterdir() if out_root.is_dir() else [])
        if p.name.startswith(prefix) and p.name.removeprefix(prefix).isdigit()
    ]
    return f"{prefix}{max(used) + 1 if used else 0}"


def write_json(path: Path, payload: dict[str, Any]) -> None:
    path.write_text(json.dumps(payload, indent=1, sort_keys=True))
