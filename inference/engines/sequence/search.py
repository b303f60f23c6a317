"""Nearest-reference search: a 4-mer inverted index picks candidates, Smith-Waterman ranks them.

The index holds, for every 4-mer, the references that contain it. A query's candidates are the
references sharing the most distinct 4-mers beyond what chance predicts for their lengths; those are
aligned with striped SIMD Smith-Waterman (parasail; BLOSUM62, gap cost 11 + length, as BLASTP) and
ranked by raw score. Only the hits that are shown get alignment statistics (identity, coverage).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import parasail  # type: ignore[import-untyped]  # no type information shipped
import scipy.sparse as sp

from inference.engines.sequence.kmers import ALPHABET_SIZE, encode, kmer_ids

MATRIX = parasail.blosum62
# parasail charges ``open`` for a gap's first residue and ``extend`` for each further one;
# BLASTP's default 11/1 charges 11 + length, so the first residue costs 12.
GAP_OPEN = 12
GAP_EXTEND = 1
INDEX_K = 4
N_KMERS = ALPHABET_SIZE**INDEX_K

_BLOSUM_DIAG = np.zeros(256, dtype=np.int32)
_B62 = {
    "A": 4, "R": 5, "N": 6, "D": 6, "C": 9, "Q": 5, "E": 5, "G": 6, "H": 8, "I": 4,
    "L": 4, "K": 5, "M": 5, "F": 6, "P": 7, "S": 4, "T": 5, "W": 11, "Y": 7, "V": 4,
    "B": 4, "Z": 4, "X": -1,
}  # fmt: skip
for _aa, _v in _B62.items():
    _BLOSUM_DIAG[ord(_aa)] = _v


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


def self_score(sequence: str) -> int:
    """The query's alignment score against itself: the scale for normalised scores."""
    raw = np.frombuffer(sequence.encode("ascii", "replace"), dtype=np.uint8)
    return max(int(_BLOSUM_DIAG[raw].sum()), 1)


def distinct_kmers(sequence: str) -> np.ndarray:
    """Sorted distinct index k-mer ids of a protein."""
    return np.unique(kmer_ids(encode(sequence), INDEX_K))


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


class ReferenceSearch:
    """Candidate selection over a fixed reference set plus SIMD Smith-Waterman scoring."""

    def __init__(self, sequences: list[str], *, n_candidates: int = 16) -> None:
        self.sequences = sequences
        self.n_candidates = n_candidates
        rows: list[np.ndarray] = []
        cols: list[np.ndarray] = []
        sizes = np.zeros(len(sequences), dtype=np.float32)
        for i, seq in enumerate(sequences):
            kmers = distinct_kmers(seq)
            sizes[i] = kmers.size
            rows.append(kmers)
            cols.append(np.full(kmers.size, i, dtype=np.int32))
        row = np.concatenate(rows) if rows else np.zeros(0, dtype=np.int64)
        col = np.concatenate(cols) if cols else np.zeros(0, dtype=np.int32)
        data = np.ones(row.size, dtype=np.float32)
        # kmer -> references (CSR): a query reads only the rows of its own 4-mers.
        self.postings = sp.csr_matrix((data, (row, col)), shape=(N_KMERS, len(sequences)))
        self.postings.sort_indices()
        self.ref_sizes = sizes
        self._indptr = self.postings.indptr
        self._indices = self.postings.indices

    def __len__(self) -> int:
        return len(self.sequences)

    def shared_kmer_scores(self, query: str) -> np.ndarray:
        """Distinct 4-mers shared with every reference, less the count expected by chance."""
        kmers = distinct_kmers(query)
        starts = self._indptr[kmers]
        lengths = self._indptr[kmers + 1] - starts
        total = int(lengths.sum())
        if total == 0:
            return np.zeros(len(self), dtype=np.float32)
        offsets = np.repeat(starts - np.cumsum(lengths) + lengths, lengths) + np.arange(total)
        shared = np.bincount(self._indices[offsets], minlength=len(self)).astype(np.float32)
        return shared - kmers.size * self.ref_sizes / N_KMERS

    def shared_kmer_scores_batch(self, queries: list[str]) -> np.ndarray:
        """``shared_kmer_scores`` for many queries at once (dense, queries x references)."""
        rows: list[np.ndarray] = []
        cols: list[np.ndarray] = []
        sizes = np.zeros(len(queries), dtype=np.float32)
        for i, q in enumerate(queries):
            kmers = distinct_kmers(q)
            sizes[i] = kmers.size
            cols.append(kmers)
            rows.append(np.full(kmers.size, i, dtype=np.int32))
        row = np.concatenate(rows)
        col = np.concatenate(cols)
        qmat = sp.csr_matrix(
            (np.ones(row.size, dtype=np.float32), (row, col)), shape=(len(queries), N_KMERS)
        )
        shared = (qmat @ self.postings).toarray()
        return shared - np.outer(sizes, self.ref_sizes) / N_KMERS

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

    def top_candidates(self, prefilter: np.ndarray, n: int | None = None) -> np.ndarray:
        """Indices of the ``n`` best prefilter scores, best first (ignores -inf entries)."""
        n = min(n or self.n_candidates, prefilter.size)
        if n <= 0:
            return np.zeros(0, dtype=np.int64)
        part = np.argpartition(-prefilter, n - 1)[:n]
        part = part[np.isfinite(prefilter[part])]
        return part[np.argsort(-prefilter[part], kind="stable")]

    def search(
        self, query: str, *, top_n: int = 10, prefilter: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """References ranked by alignment score: (reference indices, raw scores), best first."""
        if prefilter is None:
            prefilter = self.shared_kmer_scores(query)
        candidates = self.top_candidates(prefilter)
        if candidates.size == 0:
            return candidates, np.zeros(0, dtype=np.int32)
        scores = self.align_candidates(query, candidates)
        order = np.lexsort((candidates, -scores))[:top_n]
        return candidates[order], scores[order]
