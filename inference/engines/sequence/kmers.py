"""Amino-acid encoding, k-mer ids and the k-mer composition vector shared by training and inference.

Only the 20 standard residues are encoded; anything else (X, B, Z, U, O, *) breaks the k-mers
that span it.
The composition vector is 1-, 2- and 3-mer frequencies of the whole protein, then the residues of
its ends (N-terminal 30: single residues and Murphy-10 reduced pairs, where signal peptides and
type III secretion signals sit; C-terminal 30: single residues) and a one-hot log-length bin. Every
block is scaled to unit L2 norm, so the blocks weigh alike whatever the protein length.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

AMINO_ACIDS = "ACDEFGHIKLMNPQRSTVWY"
ALPHABET_SIZE = len(AMINO_ACIDS)
FEATURE_BLOCKS = (1, 2, 3)
TERMINUS = 30  # residues at each end with their own composition blocks
# Murphy et al.'s 10-letter reduced alphabet (LVIM, C, A, G, ST, P, FYW, EDNQ, KR, H).
REDUCED_GROUPS = ("LVIM", "C", "A", "G", "ST", "P", "FYW", "EDNQ", "KR", "H")
LENGTH_BINS = np.array([50, 100, 150, 200, 300, 400, 600, 800, 1200, 2000, 4000])
# Kyte-Doolittle hydropathy (same order as AMINO_ACIDS) and the binned profile features over it:
# the N-terminal h-region (signal peptides), transmembrane-like segments, net charge, cysteines.
KYTE_DOOLITTLE = np.array(
    [1.8, 2.5, -3.5, -3.5, 2.8, -0.4, -3.2, 4.5, -3.9, 3.8,
     1.9, -3.5, -1.6, -3.5, -4.5, -0.8, -0.7, 4.2, -0.9, -1.3],
)  # fmt: skip
SIGNAL_BINS = np.array([0.0, 1.0, 1.5, 2.0, 2.5, 3.0])  # max 8-residue mean in the first 30
TM_BINS = np.array([1, 2, 3, 5, 8])  # 19-residue windows with mean > 1.6, counted as segments
CHARGE_BINS = np.array([-0.1, -0.05, -0.02, 0.0, 0.02, 0.05, 0.1])  # (K + R - D - E) / length
CYS_BINS = np.array([0.001, 0.01, 0.02, 0.04, 0.08])  # cysteine fraction
PROFILE_BINS = (SIGNAL_BINS, TM_BINS, CHARGE_BINS, CYS_BINS)
END_FEATURES = (
    ALPHABET_SIZE
    + len(REDUCED_GROUPS) ** 2
    + ALPHABET_SIZE
    + LENGTH_BINS.size
    + 1
    + sum(b.size + 1 for b in PROFILE_BINS)
)
N_FEATURES = sum(ALPHABET_SIZE**k for k in FEATURE_BLOCKS) + END_FEATURES

_LOOKUP = np.full(256, -1, dtype=np.int16)
for _i, _a in enumerate(AMINO_ACIDS):
    _LOOKUP[ord(_a)] = _i
    _LOOKUP[ord(_a.lower())] = _i


REDUCE = np.full(ALPHABET_SIZE + 1, -1, dtype=np.int16)  # index -1 (non-standard) stays -1
for _group_id, _group in enumerate(REDUCED_GROUPS):
    for _aa in _group:
        REDUCE[AMINO_ACIDS.index(_aa)] = _group_id


def encode(sequence: str) -> np.ndarray:
    """Residue codes 0..19, -1 for a non-standard residue."""
    raw = np.frombuffer(sequence.encode("ascii", "replace"), dtype=np.uint8)
    return _LOOKUP[raw]


def kmer_ids(codes: np.ndarray, k: int, alphabet_size: int = ALPHABET_SIZE) -> np.ndarray:
    """Id of every k-mer made only of standard residues (sequence order, repeats kept)."""
    n = codes.shape[0] - k + 1
    if n <= 0:
        return np.zeros(0, dtype=np.int64)
    ids = np.zeros(n, dtype=np.int64)
    valid = np.ones(n, dtype=bool)
    for j in range(k):
        window = codes[j : j + n].astype(np.int64)
        valid &= window >= 0
        ids = ids * alphabet_size + window
    return ids[valid]


_POSITIVE = [AMINO_ACIDS.index(a) for a in "KR"]
_NEGATIVE = [AMINO_ACIDS.index(a) for a in "DE"]
_CYS = AMINO_ACIDS.index("C")


def _window_means(values: np.ndarray, width: int) -> np.ndarray:
    if values.size < width:
        return values.mean(keepdims=True) if values.size else np.zeros(1)
    sums = np.cumsum(np.concatenate([[0.0], values]))
    return (sums[width:] - sums[:-width]) / width


def profile_bins(codes: np.ndarray) -> list[int]:
    """Bin of each profile feature: N-terminal hydrophobic peak, TM-like segments, net charge,
    cysteine fraction (non-standard residues count as hydropathy 0)."""
    kd = np.where(codes >= 0, KYTE_DOOLITTLE[np.maximum(codes, 0)], 0.0)
    signal = float(_window_means(kd[:TERMINUS], 8).max())
    above = _window_means(kd, 19) > 1.6
    segments = int(np.sum(above[1:] & ~above[:-1]) + (1 if above.size and above[0] else 0))
    n = max(codes.size, 1)
    counts = np.bincount(codes[codes >= 0], minlength=ALPHABET_SIZE)
    charge = float(counts[_POSITIVE].sum() - counts[_NEGATIVE].sum()) / n
    values = (signal, segments, charge, float(counts[_CYS]) / n)
    return [
        int(np.searchsorted(b, v, side="right")) for b, v in zip(PROFILE_BINS, values, strict=True)
    ]


def composition_row(sequence: str) -> tuple[np.ndarray, np.ndarray]:
    """Column indices and values of one protein's composition vector (sparse)."""
    codes = encode(sequence)
    n_reduced = len(REDUCED_GROUPS)
    blocks = [(kmer_ids(codes, k), ALPHABET_SIZE**k) for k in FEATURE_BLOCKS]
    blocks += [
        (kmer_ids(codes[:TERMINUS], 1), ALPHABET_SIZE),
        (kmer_ids(REDUCE[codes[:TERMINUS]], 2, n_reduced), n_reduced**2),
        (kmer_ids(codes[-TERMINUS:], 1), ALPHABET_SIZE),
        (np.searchsorted(LENGTH_BINS, [len(sequence)]), LENGTH_BINS.size + 1),
    ]
    blocks += [
        (np.array([b]), bins.size + 1)
        for b, bins in zip(profile_bins(codes), PROFILE_BINS, strict=True)
    ]
    cols: list[np.ndarray] = []
    vals: list[np.ndarray] = []
    offset = 0
    for ids, width in blocks:
        if ids.size:
            uniq, counts = np.unique(ids, return_counts=True)
            weights = counts.astype(np.float32)
            weights /= float(np.sqrt(np.sum(weights * weights)))
            cols.append(uniq + offset)
            vals.append(weights)
        offset += width
    if not cols:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
    return np.concatenate(cols), np.concatenate(vals)


def composition_matrix(sequences: list[str]) -> sp.csr_matrix:
    """Composition vectors of many proteins as a CSR matrix (n x N_FEATURES, float32)."""
    indptr = [0]
    cols: list[np.ndarray] = []
    vals: list[np.ndarray] = []
    for seq in sequences:
        c, v = composition_row(seq)
        cols.append(c)
        vals.append(v)
        indptr.append(indptr[-1] + c.size)
    data = np.concatenate(vals) if vals else np.zeros(0, dtype=np.float32)
    indices = np.concatenate(cols) if cols else np.zeros(0, dtype=np.int64)
    return sp.csr_matrix(
        (data.astype(np.float32), indices.astype(np.int32), np.asarray(indptr, dtype=np.int64)),
        shape=(len(sequences), N_FEATURES),
    )
