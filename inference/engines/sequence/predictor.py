"""From a protein to task probabilities: composition models + reference hits + stackers.

task3 labels are only known for pathogen proteins; the task3 distribution is the mixture
P(pathogen) * P(label | pathogen) + P(not pathogen) * [label = "Non-pathogen protein"], whose
top-1 share is then recalibrated.

This is the one code path that both the held-out evaluation (training) and the engine (serving)
run, so the reported metrics describe exactly what is served.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from inference.engines.sequence.artifacts import Bundle
from inference.engines.sequence.classifier import (
    best_by_origin,
    task1_features,
    task2_features,
    task2_proba,
    task3_calibrate,
    task3_domains,
    task3_mixture,
    vote,
)
from inference.engines.sequence.kmers import composition_matrix
from inference.engines.sequence.search import ReferenceSearch, log10_evalue, self_score

UNKNOWN = "unknown"
NON_PATHOGEN = "Non-pathogen protein"


@dataclass
class TaskResult:
    """Probabilities for one protein, before formatting."""

    p_pathogen: float
    task2: np.ndarray
    task3: np.ndarray
    task3_confidence: float
    top_score: float  # best hit strength (raw / query self-score) over all hits (0 when none)
    evidence: float  # -log10 E-value of the best hit (0 when none or E >= 1)
    confidence: str  # "high" | "low" | "unknown"
    hit_refs: np.ndarray
    hit_scores: np.ndarray


class Predictor:
    """Holds the reference index and the fitted weights of one model version."""

    def __init__(self, bundle: Bundle) -> None:
        params = bundle.manifest["params"]
        self.tau = float(params["tau"])
        self.n_vote = int(params["n_vote"])
        self.unknown_score = float(params["unknown_score"])
        self.low_evidence = float(params["low_evidence"])
        self.low_probability = float(params["low_probability"])
        labels = bundle.manifest["labels"]
        self.task2_labels: list[str] = labels["task2"]
        self.task3_labels: list[str] = labels["task3"]
        self.non_pathogen3 = (
            self.task3_labels.index(NON_PATHOGEN) if NON_PATHOGEN in self.task3_labels else -1
        )
        self.task3_domains = task3_domains(self.task3_labels, NON_PATHOGEN)
        refs = bundle.references
        self.ref_task1 = np.array([r.task1 for r in refs], dtype=np.int64)
        self.ref_task2 = np.array([r.task2 for r in refs], dtype=np.int64)
        self.ref_task3 = np.array([r.task3 for r in refs], dtype=np.int64)
        self.ref_organism = [r.organism.lower() for r in refs]
        self.ref_self_scores = np.array([self_score(r.sequence) for r in refs], dtype=np.float64)
        self.models = bundle.models
        self.search = ReferenceSearch(
            [r.sequence for r in refs],
            n_candidates=int(params["n_candidates"]),
            n_seeded=int(params["n_seeded"]),
        )

    def composition(self, proteins: list[str]) -> tuple[np.ndarray, np.ndarray]:
        """Composition-model probabilities: P(pathogen) from the general and the orphan model
        (n x 2) and the task2 distribution."""
        x: sp.csr_matrix = composition_matrix(proteins)
        p1 = np.column_stack(
            [self.models["lr1"].proba(x)[:, 1], self.models["lr1_orphan"].proba(x)[:, 1]]
        )
        return p1, self.models["lr2"].proba(x)

    def hits(
        self, protein: str, prefilter: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Top references: indices, raw scores, vote scores, strengths and -log10 E-values.

        The vote score is raw / sqrt(self-score of query * self-score of reference): a mature
        peptide (HIV-1 p24) matches its own reference better than the polyprotein (gag) that
        contains it at the same raw score, and a fragment still ranks the protein containing it
        first. The strength is raw / the query's self-score (how much of the query the hit
        explains; 1.0 for a fragment found exactly inside a longer reference).
        """
        refs, scores = self.search.search(protein, top_n=self.n_vote, prefilter=prefilter)
        query_self = float(self_score(protein))
        norm = np.clip(scores / np.sqrt(query_self * self.ref_self_scores[refs]), 0.0, 1.0)
        strength = np.clip(scores / query_self, 0.0, 1.0)
        evidence = -log10_evalue(scores, len(protein), self.search.db_residues)
        return refs, scores, norm, strength, np.clip(evidence, 0.0, None)

    def organism_boost(self, refs: np.ndarray, hint: str | None) -> np.ndarray | None:
        """Weight 2 for references whose organism contains every word of the hint."""
        if not hint:
            return None
        words = [w for w in hint.lower().split() if w]
        match = [all(w in self.ref_organism[int(r)] for w in words) for r in refs]
        return np.where(np.array(match, dtype=bool), 2.0, 1.0)

    def combine(
        self,
        p1_lr: np.ndarray,
        p2_lr: np.ndarray,
        refs: np.ndarray,
        raw: np.ndarray,
        norm: np.ndarray,
        strength: np.ndarray,
        evidence: np.ndarray,
        boost: np.ndarray | None = None,
    ) -> TaskResult:
        """Votes + stackers + calibration for one protein (``p1_lr``: a row of ``composition``).

        The stackers see the composition models, the neighbours' label votes, the best hit's
        normalised score and its E-value evidence; "unknown" means no hit is stronger than what
        shuffled proteins reach (by E-value), whatever the classifiers say.
        """
        v1 = vote(self.ref_task1, 2, refs, norm, self.tau, boost, strength)
        v2 = vote(self.ref_task2, len(self.task2_labels), refs, norm, self.tau, boost, strength)
        v3 = vote(self.ref_task3, len(self.task3_labels), refs, norm, self.tau, boost, strength)
        ev = float(evidence.max()) if evidence.size else 0.0
        e1 = np.array([ev])
        origin = best_by_origin(self.ref_task1, refs, norm, evidence)[None, :]
        f1 = task1_features(
            np.asarray(p1_lr)[None, :], np.array([v1.dist[1]]), np.array([v1.top_score]), e1, origin
        )
        p1 = float(self.models["stack1"].proba(f1)[0, 1])
        f2 = task2_features(p2_lr[None, :], v2.dist[None, :], np.array([v2.top_score]), e1)
        p2 = task2_proba(f2, self.models["stack2"])[0]
        p3, conf3 = task3_calibrate(
            task3_mixture(v3.dist, p1, self.non_pathogen3),
            v3.top_score,
            ev,
            self.models["cal3"],
            self.task3_domains,
        )
        top = float(strength.max()) if strength.size else 0.0
        if ev < self.unknown_score:
            confidence = "unknown"
        elif (
            ev < self.low_evidence
            or float(p2.max()) < self.low_probability
            or conf3 < self.low_probability
        ):
            confidence = "low"
        else:
            confidence = "high"
        return TaskResult(p1, p2, p3, conf3, top, ev, confidence, refs, raw)
