"""Nearest-reference search: two seed channels pick candidates, Smith-Waterman ranks them.

The first channel is an inverted index of exact 4-mers: the references whose count of shared
distinct 4-mers is furthest above chance (a z-score) are the close homologs. The second
(``seeds.SeedIndex``) finds distant homologs by reduced-alphabet spaced seeds and BLAST's two-hit
rule. The candidates of both are aligned with striped SIMD Smith-Waterman (parasail; BLOSUM62, gap
cost 11 + length, as BLASTP) and ranked by raw score. Only the hits that are shown get alignment
statistics (identity, coverage).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import parasail  # type: ignore[import-untyped]  # no type information shipped
import scipy.sparse as sp

from inference.engines.sequence.kmers import ALPHABET_SIZE, encode, kmer_ids
from inference.engines.sequence.seeds import BLOSUM62_ORDER, SeedIndex

MATRIX = parasail.blosum62
# parasail charges ``open`` for a gap's first residue and ``extend`` for each further one;
# BLASTP's default 11/1 charges 11 + length, so the first residue costs 12.
GAP_OPEN = 12
GAP_EXTEND = 1
INDEX_KS = (4,)
# Karlin-Altschul parameters of gapped BLOSUM62 with gap cost 11 + length (as BLASTP reports them).
KA_LAMBDA = 0.267
KA_K = 0.041

# Each residue letter's BLOSUM62 score against itself (the stop '*' never reaches a query).
_BLOSUM_DIAG = np.zeros(256, dtype=np.int32)
for _i, _aa in enumerate(BLOSUM62_ORDER[:-1]):
    _BLOSUM_DIAG[ord(_aa)] = MATRIX.matrix[_i, _i]


@dataclass(frozen=True)
class Alignment:
    """Identity and coverage of one query-reference local alignment."""

    score: int
    identity: float
    coverage: float
    query_start: int
    query_end: int
    ref_start: int
    ref_end: int


def log10_evalue(score: np.ndarray, query_length: int, db_residues: int) -> np.ndarray:
    """log10 of the Karlin-Altschul E-value m * n * K * exp(-lambda * S) of raw SW scores."""
    s = np.asarray(score, dtype=np.float64)
    ln_e = np.log(max(query_length, 1) * max(db_residues, 1) * KA_K) - KA_LAMBDA * s
    return ln_e / np.log(10.0)


def self_score(sequence: str) -> int:
    """The query's alignment score against itself: the scale for normalised scores."""
    raw = np.frombuffer(sequence.encode("ascii", "replace"), dtype=np.uint8)
    return max(int(_BLOSUM_DIAG[raw].sum()), 1)


def distinct_kmers(sequence: str, k: int) -> np.ndarray:
    """Sorted distinct k-mer ids of a protein."""
    return np.unique(kmer_ids(encode(sequence), k))


def align_detail(query: str, reference: str) -> Alignment:
    """Local alignment statistics: score, identity over the aligned columns, query coverage.

    parasail's stats kernel gives score, matches, alignment length and end points; the start
    points come from re-aligning the reversed prefixes that end there (its traceback CIGAR can
    open with spurious gap runs, which would dilute identity and inflate coverage).
    """
    stats = parasail.sw_stats_striped_sat(query, reference, GAP_OPEN, GAP_EXTEND, MATRIX)
    if stats.score <= 0 or stats.length <= 0:
        return Alignment(0, 0.0, 0.0, 0, -1, 0, -1)
    q_end, r_end = int(stats.end_query), int(stats.end_ref)
    back = parasail.sw_striped_sat(
        query[: q_end + 1][::-1], reference[: r_end + 1][::-1], GAP_OPEN, GAP_EXTEND, MATRIX
    )
    q_start, r_start = q_end - int(back.end_query), r_end - int(back.end_ref)
    identity = int(stats.matches) / int(stats.length)
    coverage = (q_end - q_start + 1) / max(len(query), 1)
    return Alignment(int(stats.score), identity, coverage, q_start, q_end, r_start, r_end)


class KmerIndex:
    """Inverted index of distinct k-mers: for each k-mer, the references that contain it."""

    def __init__(self, sequences: list[str], k: int) -> None:
        self.k = k
        self.n_kmers = ALPHABET_SIZE**k
        rows: list[np.ndarray] = []
        cols: list[np.ndarray] = []
        sizes = np.zeros(len(sequences), dtype=np.float32)
        for i, seq in enumerate(sequences):
            kmers = distinct_kmers(seq, k)
            sizes[i] = kmers.size
            rows.append(kmers)
            cols.append(np.full(kmers.size, i, dtype=np.int32))
        row = np.concatenate(rows) if rows else np.zeros(0, dtype=np.int64)
        col = np.concatenate(cols) if cols else np.zeros(0, dtype=np.int32)
        data = np.ones(row.size, dtype=np.float32)
        # kmer -> references (CSR): a query reads only the rows of its own k-mers.
        self.postings = sp.csr_matrix((data, (row, col)), shape=(self.n_kmers, len(sequences)))
        self.postings.sort_indices()
        self.ref_sizes = sizes
        self._indptr = self.postings.indptr
        self._indices = self.postings.indices

    def zscores(self, query: str) -> np.ndarray:
        """Distinct k-mers shared with every reference as a z-score against chance.

        (shared - expected) / sqrt(expected + 1): a long reference shares many k-mers with anything,
        so a plain difference lets long unrelated references crowd out distant homologs.
        """
        kmers = distinct_kmers(query, self.k)
        starts = self._indptr[kmers]
        lengths = self._indptr[kmers + 1] - starts
        total = int(lengths.sum())
        if total == 0:
            return np.zeros(self.ref_sizes.size, dtype=np.float32)
        offsets = np.repeat(starts - np.cumsum(lengths) + lengths, lengths) + np.arange(total)
        shared = np.bincount(self._indices[offsets], minlength=self.ref_sizes.size)
        expected = kmers.size * self.ref_sizes / self.n_kmers
        return (shared.astype(np.float32) - expected) / np.sqrt(expected + 1.0)

    def zscores_batch(self, queries: list[str]) -> np.ndarray:
        """``zscores`` for many queries at once (dense, queries x references)."""
        rows: list[np.ndarray] = []
        cols: list[np.ndarray] = []
        sizes = np.zeros(len(queries), dtype=np.float32)
        for i, q in enumerate(queries):
            kmers = distinct_kmers(q, self.k)
            sizes[i] = kmers.size
            cols.append(kmers)
            rows.append(np.full(kmers.size, i, dtype=np.int32))
        qmat = sp.csr_matrix(
            (np.ones(sum(c.size for c in cols), dtype=np.float32),
             (np.concatenate(rows), np.concatenate(cols))),
            shape=(len(queries), self.n_kmers),
        )  # fmt: skip
        shared = (qmat @ self.postings).toarray()
        expected = np.outer(sizes, self.ref_sizes) / self.n_kmers
        return (shared - expected) / np.sqrt(expected + 1.0)


class ReferenceSearch:
    """Candidate selection over a fixed reference set plus SIMD Smith-Waterman scoring.

    Two seed channels pick candidates: the ``n_candidates`` best z-scores over exact 4-mers, plus
    the ``n_seeded`` best (not already picked) two-hit scores of the spaced-seed channel, which
    finds distant (25-40% identity) homologs. A prefilter is therefore an array of shape
    (channels, references); ``-inf`` excludes a reference.
    """

    def __init__(self, sequences: list[str], *, n_candidates: int = 16, n_seeded: int = 0) -> None:
        self.sequences = sequences
        self.n_candidates = n_candidates
        self.n_seeded = n_seeded
        self.db_residues = int(sum(len(s) for s in sequences))
        self.indexes = [KmerIndex(sequences, k) for k in INDEX_KS]
        self.seeds = SeedIndex(sequences) if n_seeded > 0 else None

    def __len__(self) -> int:
        return len(self.sequences)

    def prefilter(self, query: str) -> np.ndarray:
        """Prefilter scores of every reference for one query, one row per seed channel."""
        rows = [index.zscores(query) for index in self.indexes]
        if self.seeds is not None:
            rows.append(self.seeds.scores(query))
        return np.stack(rows)

    def prefilter_batch(self, queries: list[str]) -> np.ndarray:
        """``prefilter`` for many queries at once (queries x channels x references)."""
        channels = [index.zscores_batch(queries) for index in self.indexes]
        if self.seeds is not None:
            channels.append(np.stack([self.seeds.scores(q) for q in queries]))
        return np.stack(channels, axis=1)

    def align_candidates(self, query: str, candidates: np.ndarray) -> np.ndarray:
        """Smith-Waterman scores of the query against the given references."""
        # "sat": 8-bit lanes first (most candidates score low), 16/32-bit only on overflow.
        profile = parasail.profile_create_sat(query, MATRIX)
        scores = np.zeros(candidates.size, dtype=np.int32)
        for j, ref in enumerate(candidates):
            result = parasail.sw_striped_profile_sat(
                profile, self.sequences[int(ref)], GAP_OPEN, GAP_EXTEND
            )
            scores[j] = result.score
        return scores

    @staticmethod
    def _best(scores: np.ndarray, n: int) -> np.ndarray:
        n = min(n, scores.size)
        if n <= 0:
            return np.zeros(0, dtype=np.int64)
        part = np.argpartition(-scores, n - 1)[:n]
        part = part[np.isfinite(scores[part])]
        return part[np.argsort(-scores[part], kind="stable")]

    def top_candidates(self, prefilter: np.ndarray, n: int | None = None) -> np.ndarray:
        """Candidates: best ``n`` of the 4-mer channel, then the seed channel's best new ones."""
        pre = np.atleast_2d(prefilter)
        picked = self._best(pre[0], n or self.n_candidates)
        seeded = len(self.indexes)  # the seed channel's row follows the k-mer indexes' rows
        if pre.shape[0] > seeded and self.n_seeded > 0:
            extra = self._best(pre[seeded], self.n_seeded + picked.size)
            extra = extra[~np.isin(extra, picked)][: self.n_seeded]
            picked = np.concatenate([picked, extra])
        return picked

    def search(
        self, query: str, *, top_n: int = 10, prefilter: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """References ranked by alignment score: (reference indices, raw scores), best first."""
        if prefilter is None:
            prefilter = self.prefilter(query)
        candidates = self.top_candidates(prefilter)
        if candidates.size == 0:
            return candidates, np.zeros(0, dtype=np.int32)
        scores = self.align_candidates(query, candidates)
        order = np.lexsort((candidates, -scores))[:top_n]
        return candidates[order], scores[order]
