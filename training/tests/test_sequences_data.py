"""Dataset merging, identity grouping and the group split of the sequence training code."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest

from training.sequences import data, split

DATASETS = data.default_datasets_dir()
needs_data = pytest.mark.skipif(
    not (data.sequences_root(DATASETS) / "viral_nextclade").is_dir(),
    reason="shared sequence datasets not present",
)


@pytest.fixture(scope="module")
def records() -> list[data.Record]:
    return data.load_records(DATASETS)


@needs_data
def test_records_are_unique_and_labelled(records: list[data.Record]) -> None:
    seqs = [r.sequence for r in records]
    assert len(seqs) == len(set(seqs))
    sources = Counter(r.source for r in records)
    for source in ("nextclade", "flutile", "vfdb", "toxinpred2", "swissprot_human", "ecoli_k12"):
        assert sources[source] > 0, source
    assert {r.task1 for r in records} <= {-1, 0, 1}
    negatives = [r for r in records if r.task1 == 0]
    assert negatives and all(r.task2 == data.NON_PATHOGEN_TYPE for r in negatives)
    assert all(len(r.sequence) >= data.MIN_LENGTH for r in records)
    # UniProt accessions are kept for the Swiss-Prot negatives (AlphaFold links).
    human = [r for r in records if r.source == "swissprot_human"]
    assert all(r.uniprot and r.uniprot == r.ref_id for r in human)


def test_identical_and_fragment_sequences_share_a_group() -> None:
    rng = np.random.default_rng(0)
    alphabet = np.array(list("ACDEFGHIKLMNPQRSTVWY"))
    base = "".join(rng.choice(alphabet, 300))
    mutant = base[:150] + ("A" if base[150] != "A" else "C") + base[151:]
    fragment = base[40:240]
    other = "".join(rng.choice(alphabet, 300))
    seqs = [base, mutant, fragment, other]
    mat = split.kmer_matrix(seqs)
    left, right = split.near_copy_pairs(mat)
    group = split.greedy_groups(np.array([len(s) for s in seqs]), left, right)
    assert group[0] == group[1] == group[2]
    assert group[3] != group[0]


@needs_data
def test_no_test_protein_has_a_near_copy_in_training(records: list[data.Record]) -> None:
    subset = [r for r in records if r.source in ("flutile", "genoflu", "flu_reference")]
    subset += [r for r in records if r.task3 in ("HA_H1N1pdm", "HA_H3N2", "NA_N2_H3N2")]
    seqs = [r.sequence for r in subset]
    mat = split.kmer_matrix(seqs)
    left, right = split.near_copy_pairs(mat)
    group = split.greedy_groups(np.array([len(s) for s in seqs]), left, right)
    strata = [subset[g].task3 for g in range(len(subset))]
    forced = np.array([r.named_reference for r in subset])
    result = split.split_by_group(group, strata, forced, left, right, seed=3)
    assert result.test.sum() > 50
    assert not (result.train & result.test).any()
    crossing = (result.test[left] & result.train[right]) | (result.test[right] & result.train[left])
    assert not crossing.any()
    # Whole groups go one way: no group has members on both sides.
    test_groups = set(group[result.test].tolist())
    assert not test_groups & set(group[result.train].tolist())
    assert not (forced & result.test).any()
