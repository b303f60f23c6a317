"""The reference search's seed channels, on synthetic proteins whose relations are known."""

from __future__ import annotations

import numpy as np
import pytest

from inference.engines.sequence import seeds
from inference.engines.sequence.kmers import AMINO_ACIDS, REDUCED_GROUPS
from inference.engines.sequence.search import ReferenceSearch

# Background frequencies close to UniProt's, so random proteins look like proteins to the seeds.
_FREQ = np.array([8.3, 1.4, 5.5, 6.8, 3.9, 7.1, 2.3, 5.9, 5.8, 9.7,
                  2.4, 4.1, 4.7, 3.9, 5.5, 6.6, 5.4, 6.9, 1.1, 2.9])  # fmt: skip


def _random_protein(rng: np.random.Generator, length: int) -> str:
    picks = rng.choice(20, size=length, p=_FREQ / _FREQ.sum())
    return "".join(AMINO_ACIDS[i] for i in picks)


def _distant_homolog(
    rng: np.random.Generator, protein: str, similar: float = 0.45, random: float = 0.25
) -> str:
    """Each residue swapped for another of its Murphy-10 group with probability ``similar``, or
    for any residue with probability ``random``: a homolog at roughly 40% identity."""
    group = {aa: g for g in REDUCED_GROUPS for aa in g}
    out = []
    for aa in protein:
        draw = rng.random()
        if draw < random:
            out.append(AMINO_ACIDS[rng.integers(20)])
        elif draw < random + similar and len(group[aa]) > 1:
            out.append(rng.choice([x for x in group[aa] if x != aa]))
        else:
            out.append(aa)
    return "".join(out)


def test_seed_index_lists_every_position_of_each_seed() -> None:
    rng = np.random.default_rng(3)
    refs = [_random_protein(rng, 60) for _ in range(5)]
    index = seeds.SeedIndex(refs)
    database = np.concatenate([np.append(seeds._codes(r), 21) for r in refs])
    ends = np.cumsum([len(r) + 1 for r in refs]) - 1  # the separators
    for s, offsets in enumerate(index.offsets):
        keys = seeds._seed_keys(database, offsets)
        for key in np.unique(keys[keys >= 0]):
            listed = index.postings[s, index.indptr[s, key] : index.indptr[s, key + 1]]
            assert sorted(listed.tolist()) == np.nonzero(keys == key)[0].tolist()
        # No seed spans the end of a reference, not even with a skipped position over it.
        span = int(offsets[-1]) + 1
        for position in np.nonzero(keys >= 0)[0]:
            assert not np.any((ends >= position) & (ends < position + span))
        assert (keys >= 0).sum() == sum(len(r) - span + 1 for r in refs)


def test_two_hit_channel_finds_a_distant_homolog_that_4mers_miss() -> None:
    rng = np.random.default_rng(1)
    background = [_random_protein(rng, int(n)) for n in rng.integers(150, 600, size=400)]
    target = _random_protein(rng, 400)
    refs = [*background, target]
    query = _distant_homolog(rng, target, similar=0.5, random=0.3)
    identity = np.mean([a == b for a, b in zip(query, target, strict=True)])
    assert 0.25 < identity < 0.4

    scores = seeds.SeedIndex(refs).scores(query)
    assert int(np.argmax(scores)) == len(refs) - 1
    runner_up = np.sort(scores)[-2]
    assert scores[-1] > 2 * runner_up
    # A random hit rarely has a partner on its diagonal: most references get no score at all.
    assert np.isinf(scores).mean() > 0.5

    exact_only = ReferenceSearch(refs, n_candidates=4)
    assert exact_only.search(query, top_n=1)[0].tolist() != [len(refs) - 1]
    both = ReferenceSearch(refs, n_candidates=4, n_seeded=4)
    assert both.search(query, top_n=1)[0].tolist() == [len(refs) - 1]


def test_unrelated_query_scores_below_a_homolog() -> None:
    rng = np.random.default_rng(2)
    refs = [_random_protein(rng, 300) for _ in range(200)]
    index = seeds.SeedIndex(refs)
    related = index.scores(_distant_homolog(rng, refs[7]))
    unrelated = index.scores(_random_protein(rng, 300))
    assert int(np.argmax(related)) == 7
    assert np.max(unrelated[np.isfinite(unrelated)], initial=0) < 0.5 * related[7]


def test_without_the_seed_channel_the_prefilter_has_one_row() -> None:
    rng = np.random.default_rng(4)
    refs = [_random_protein(rng, 100) for _ in range(20)]
    assert ReferenceSearch(refs, n_candidates=4).prefilter(refs[0]).shape == (1, 20)
    both = ReferenceSearch(refs, n_candidates=4, n_seeded=2)
    assert both.prefilter(refs[0]).shape == (2, 20)
    assert both.prefilter_batch([refs[0], refs[1]]).shape == (2, 2, 20)
    np.testing.assert_array_equal(both.prefilter_batch([refs[1]])[0], both.prefilter(refs[1]))


def test_the_c_loops_refuse_inconsistent_arrays() -> None:
    """A wrong call raises; it never reads or writes outside the arrays it was given."""
    rng = np.random.default_rng(6)
    index = seeds.SeedIndex([_random_protein(rng, 80) for _ in range(3)])
    codes = seeds._codes(_random_protein(rng, 50))
    query = codes.astype(np.int8)
    keys = np.full((len(index.offsets), codes.size), -1, dtype=np.int64)
    for s, offsets in enumerate(index.offsets):
        found = seeds._seed_keys(codes, offsets)
        keys[s, : found.size] = found
    best = np.zeros(3, dtype=np.int32)

    def call(query: np.ndarray = query, keys: np.ndarray = keys, best: np.ndarray = best) -> None:
        seeds._seeds.two_hit_scores(
            query, keys, index.spans, index.indptr, index.postings, index.database,
            index.starts, seeds.SCORES, best, 200, 40, 16, 16,
        )  # fmt: skip

    call()  # consistent: fine
    with pytest.raises(ValueError, match="sizes"):
        call(keys=keys[:, :-1].copy())
    with pytest.raises(ValueError, match="residue code"):
        bad = query.copy()
        bad[3] = 40
        call(query=bad)
    with pytest.raises(ValueError, match="outside indptr"):
        far = keys.copy()
        far[0, 0] = 10**7
        call(keys=far)
    with pytest.raises(TypeError, match="4-byte"):
        call(best=np.zeros(3, dtype=np.int64))
    with pytest.raises(ValueError, match="outside indptr"):
        seeds._seeds.group_by_seed(
            np.array([5, 99], dtype=np.int64), np.zeros(11, np.int32), np.zeros(2, np.int32)
        )
