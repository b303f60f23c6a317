"""The sensitive seed channel of the reference search: spaced seeds and BLAST's two-hit rule.

Exact 4-mers find close homologs; a distant one (25-40% identity) shares few of them. This channel
matches spaced seeds over Murphy et al.'s 10-letter reduced alphabet (``kmers.REDUCED_GROUPS``): a
seed reads the residues at the ``1`` positions of a shape such as ``11011011``, so a homolog
matches it despite substitutions between similar residues and at the ``0`` positions. A single
seed hit is usually chance; as in BLASTP's two-hit method, a hit counts only when another hit
lies on the same diagonal (same query-minus-reference offset) within ``WINDOW`` query residues.
Such a hit is scored by the best ungapped BLOSUM62 segment in a window around it, and each
reference keeps its best score. The references with the best scores become alignment candidates.

Seeds more common than ``MAX_POSTINGS`` in the references (low-complexity words) are skipped. The
two loops that visit every seed hit are in C (``_seeds.c``, built with the package by ``pip
install``): no JIT compiler in the inference workers, and no memory for one.
"""

from __future__ import annotations

import numpy as np
import parasail  # type: ignore[import-untyped]  # no type information shipped

from inference.engines.sequence import _seeds  # type: ignore[attr-defined]  # C extension
from inference.engines.sequence.kmers import AMINO_ACIDS, REDUCE, REDUCED_GROUPS, encode

# Weight-6 shapes (six read positions) with different gap patterns, so that one homologous
# segment matches at least one of them at many offsets.
SHAPES = ("11011011", "111010011", "1101100011", "1110001101")
MAX_POSTINGS = 200  # a seed found more often than this in the references is not used
WINDOW = 40  # two hits on one diagonal at most this many query residues apart
FLANK = 16  # residues scored on each side of a firing seed
_TABLE_BITS = 16  # the diagonal table of the two-hit rule: 2^16 slots, about 0.8 MB, in cache
_OTHER = 20  # code of a non-standard residue
_SEPARATOR = 21  # between two references in the concatenated database
_SEED_ALPHABET = len(REDUCED_GROUPS)

BLOSUM62_ORDER = "ARNDCQEGHILKMFPSTWYVBZX*"  # the rows of parasail's BLOSUM62 (NCBI order)
_ORDER = [BLOSUM62_ORDER.index(a) for a in AMINO_ACIDS]
SCORES = np.full((22, 22), -4, dtype=np.int32)
SCORES[:20, :20] = parasail.blosum62.matrix[np.ix_(_ORDER, _ORDER)]
SCORES[_OTHER, :_SEPARATOR] = -1
SCORES[:_SEPARATOR, _OTHER] = -1
SCORES[_SEPARATOR, :] = -100  # nothing extends across the end of a reference
SCORES[:, _SEPARATOR] = -100
_REDUCED = np.zeros(22, dtype=np.int64)
_REDUCED[:20] = REDUCE[:20]


def _codes(sequence: str) -> np.ndarray:
    """Residue codes as int8, the C loops' type: 0..19, ``_OTHER`` for a non-standard one."""
    codes = encode(sequence).astype(np.int8)
    codes[codes < 0] = _OTHER
    return codes


def _offsets(shape: str) -> np.ndarray:
    return np.array([j for j, c in enumerate(shape) if c == "1"], dtype=np.int64)


def _seed_keys(codes: np.ndarray, offsets: np.ndarray) -> np.ndarray:
    """The seed at every start position (-1 where it reads a non-standard residue or spans the
    end of a reference); a seed is its reduced letters read as a base-10 number."""
    span = int(offsets[-1]) + 1
    n = codes.size - span + 1
    if n <= 0:
        return np.zeros(0, dtype=np.int64)
    keys = np.zeros(n, dtype=np.int64)
    bad = np.zeros(n, dtype=bool)
    for o in offsets:
        window = codes[o : o + n]
        bad |= window >= _OTHER
        keys = keys * _SEED_ALPHABET + _REDUCED[window]
    ends = np.concatenate([[0], np.cumsum(codes == _SEPARATOR)])
    bad |= ends[span : span + n] > ends[:n]
    keys[bad] = -1
    return keys


class SeedIndex:
    """Every reference position under every shape, grouped by seed (CSR: seed -> positions)."""

    def __init__(self, sequences: list[str]) -> None:
        parts: list[np.ndarray] = []
        starts = [0]
        for seq in sequences:
            codes = _codes(seq)
            parts.extend([codes, np.array([_SEPARATOR], dtype=np.int8)])
            starts.append(starts[-1] + codes.size + 1)
        database = np.concatenate(parts) if parts else np.zeros(0, dtype=np.int8)
        self.n_references = len(sequences)
        self.starts = np.array(starts[:-1], dtype=np.int64)
        self.database = database
        self.offsets = [_offsets(shape) for shape in SHAPES]
        self.spans = np.array([o[-1] + 1 for o in self.offsets], dtype=np.int64)
        n_keys = _SEED_ALPHABET ** max(o.size for o in self.offsets)
        self.indptr = np.zeros((len(SHAPES), n_keys + 1), dtype=np.int32)
        self.postings = np.zeros((len(SHAPES), max(database.size, 1)), dtype=np.int32)
        for s, offsets in enumerate(self.offsets):
            _seeds.group_by_seed(_seed_keys(database, offsets), self.indptr[s], self.postings[s])

    def scores(self, query: str) -> np.ndarray:
        """Each reference's best two-hit segment score for the query (float32, -inf: no hit)."""
        if self.n_references == 0:
            return np.zeros(0, dtype=np.float32)
        codes = _codes(query)
        keys = np.full((len(SHAPES), codes.size), -1, dtype=np.int64)
        for s, offsets in enumerate(self.offsets):
            found = _seed_keys(codes, offsets)
            keys[s, : found.size] = found
        best = np.zeros(self.n_references, dtype=np.int32)
        _seeds.two_hit_scores(
            codes, keys, self.spans, self.indptr, self.postings, self.database,
            self.starts, SCORES, best, MAX_POSTINGS, WINDOW, FLANK, _TABLE_BITS,
        )  # fmt: skip
        out = best.astype(np.float32)
        out[best == 0] = -np.inf
        return out
