"""Identity groups and the train/test split by group.

Near-copies are found with exact 5-mer containment: two proteins are near-copies when at least
``CONTAINMENT`` of the distinct 5-mers of the shorter one occur in the other (with substitutions
spread at random that is about 97% identity over the shorter protein; a fragment of a protein is a
near-copy of it). Groups are built greedily, longest protein first, as CD-HIT does, so a lineage
does
not chain into a single group. Test groups are drawn per class; afterwards every test protein with a
near-copy in training is dropped, so no test protein has a near-copy in the training set.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from inference.engines.sequence.kmers import encode, kmer_ids

K = 5
CONTAINMENT = 0.85
TEST_FRACTION = 0.2


@dataclass
class Split:
    """Group of every protein, representative flag, and the train/test membership."""

    group: np.ndarray  # group id per protein (index of its representative)
    train: np.ndarray  # bool per protein
    test: np.ndarray  # bool per protein (disjoint from train; some proteins are in neither)
    dropped_near_copies: int


def kmer_matrix(sequences: list[str], k: int = K) -> sp.csr_matrix:
    """Binary protein x distinct-k-mer matrix."""
    rows: list[np.ndarray] = []
    cols: list[np.ndarray] = []
    for i, seq in enumerate(sequences):
        ids = np.unique(kmer_ids(encode(seq), k))
        cols.append(ids)
        rows.append(np.full(ids.size, i, dtype=np.int32))
    row = np.concatenate(rows)
    col = np.concatenate(cols)
    mat = sp.csr_matrix(
        (np.ones(row.size, dtype=np.float32), (row, col)), shape=(len(sequences), 20**k)
    )
    mat.sum_duplicates()
    return mat


def near_copy_pairs(mat: sp.csr_matrix, chunk: int = 1500) -> tuple[np.ndarray, np.ndarray]:
    """All pairs (i < j) that are near-copies under the containment rule."""
    sizes = np.asarray(mat.sum(axis=1)).ravel()
    sizes = np.maximum(sizes, 1.0)
    tr = mat.T.tocsr()
    left: list[np.ndarray] = []
    right: list[np.ndarray] = []
    for start in range(0, mat.shape[0], chunk):
        block = (mat[start : start + chunk] @ tr).tocoo()
        i = block.row + start
        j = block.col
        keep = i < j
        i, j, shared = i[keep], j[keep], block.data[keep]
        smaller = np.minimum(sizes[i], sizes[j])
        hit = shared >= CONTAINMENT * smaller
        left.append(i[hit])
        right.append(j[hit])
    return np.concatenate(left), np.concatenate(right)


def greedy_groups(lengths: np.ndarray, left: np.ndarray, right: np.ndarray) -> np.ndarray:
    """CD-HIT-like grouping: longest first; each new representative takes its unassigned copies."""
    n = lengths.size
    neighbours: dict[int, list[int]] = defaultdict(list)
    for a, b in zip(left.tolist(), right.tolist(), strict=True):
        neighbours[a].append(b)
        neighbours[b].append(a)
    group = np.full(n, -1, dtype=np.int64)
    for i in np.argsort(-lengths, kind="stable").tolist():
        if group[i] >= 0:
            continue
        group[i] = i
        for j in neighbours.get(i, ()):
            if group[j] < 0:
                group[j] = i
    return group


def split_by_group(
    group: np.ndarray,
    strata: list[str],
    forced_train: np.ndarray,
    left: np.ndarray,
    right: np.ndarray,
    *,
    seed: int,
    test_fraction: float = TEST_FRACTION,
) -> Split:
    """Test groups drawn per stratum (the label of the group's representative)."""
    rng = np.random.default_rng(seed)
    groups_by_stratum: dict[str, list[int]] = defaultdict(list)
    forced_groups = set(group[forced_train].tolist())
    for g in np.unique(group).tolist():
        if g not in forced_groups:
            groups_by_stratum[strata[g]].append(g)
    test_groups: set[int] = set()
    for stratum in sorted(groups_by_stratum):
        members = groups_by_stratum[stratum]
        n_test = round(test_fraction * len(members))
        if n_test:
            chosen = rng.choice(len(members), size=n_test, replace=False)
            test_groups.update(members[c] for c in chosen.tolist())
    test = np.isin(group, np.fromiter(test_groups, dtype=np.int64, count=len(test_groups)))
    train = ~test
    # A test protein that is a near-copy of any training protein leaves the test set.
    cross = test[left] & train[right]
    cross_r = test[right] & train[left]
    leak = np.zeros_like(test)
    leak[left[cross]] = True
    leak[right[cross_r]] = True
    test = test & ~leak
    return Split(group=group, train=train, test=test, dropped_near_copies=int(leak.sum()))
