"""Validation and DNA/RNA translation (``inference.engines.sequence.inputs``), against independent
references.

The translation tests use real GenBank records (influenza reference segments in the shared
datasets): the annotated CDS coordinates and ``/translation`` were written by GenBank, not by us.
"""

from __future__ import annotations

import os
import random
import re
from collections import Counter
from pathlib import Path

import pytest

from inference.config import REPO_ROOT
from inference.engines.sequence.inputs import (
    CODON_TABLE,
    MAX_NUCLEOTIDE_LENGTH,
    MAX_PROTEIN_LENGTH,
    MIN_PROTEIN_LENGTH,
    prepare_sequence,
    reverse_complement,
    translate,
)
from inference.errors import InvalidInput

DATASETS_DIR = Path(os.environ.get("CDSS_DATASETS_DIR") or REPO_ROOT.parent / "shared" / "datasets")
GENBANK_DIR = DATASETS_DIR / "sequences" / "flu_references_nextstrain" / "genbank"
needs_genbank = pytest.mark.skipif(
    not GENBANK_DIR.is_dir(), reason=f"shared datasets not found at {GENBANK_DIR}"
)


def parse_single_cds(path: Path) -> tuple[str, int, int, str] | None:
    """(nucleotides, cds_start, cds_end, translation) for a record with one plain CDS, else None."""
    text = path.read_text()
    cds = re.findall(r"^ {5}CDS {13}(\S+)", text, flags=re.M)
    if len(cds) != 1 or not re.fullmatch(r"\d+\.\.\d+", cds[0]):
        return None
    start, end = (int(x) for x in cds[0].split(".."))
    translation = re.search(r'/translation="([^"]+)"', text, flags=re.S)
    assert translation is not None
    origin = text.split("ORIGIN", 1)[1]
    nucleotides = re.sub(r"[^a-zA-Z]", "", origin).upper()
    return nucleotides, start, end, re.sub(r"\s", "", translation.group(1))


def genbank_records() -> list[tuple[str, int, int, str]]:
    if not GENBANK_DIR.is_dir():
        return []
    records = [parse_single_cds(p) for p in sorted(GENBANK_DIR.glob("*.gb"))]
    return [r for r in records if r is not None]


def test_standard_genetic_code_facts() -> None:
    assert len(CODON_TABLE) == 64
    assert sorted(c for c, a in CODON_TABLE.items() if a == "*") == ["TAA", "TAG", "TGA"]
    degeneracy = Counter(CODON_TABLE.values())
    assert degeneracy["L"] == degeneracy["S"] == degeneracy["R"] == 6
    assert degeneracy["M"] == degeneracy["W"] == 1
    assert degeneracy["I"] == 3
    assert len(degeneracy) == 21  # 20 amino acids + stop
    assert CODON_TABLE["ATG"] == "M" and CODON_TABLE["TGG"] == "W"


def test_ambiguity_codes_translate_only_when_all_readings_agree() -> None:
    # GCN is alanine whatever N is; ATH is isoleucine (ATA/ATC/ATT); ATN may be M or I.
    assert translate("GCNATHATN") == "AIX"


@needs_genbank
@pytest.mark.parametrize("record", genbank_records(), ids=lambda r: f"cds{r[1]}-{r[2]}")
def test_longest_orf_recovers_genbank_cds(record: tuple[str, int, int, str]) -> None:
    nucleotides, start, end, expected = record
    forward = prepare_sequence(nucleotides, "dna")
    assert forward.protein == expected
    assert forward.info["frame"] == (start - 1) % 3
    assert forward.info["frame_source"] == "longest_orf"
    assert (forward.info["orf_start"], forward.info["orf_end"]) == (start, end)
    assert forward.info["length"] == len(expected)
    assert forward.info["nucleotide_length"] == len(nucleotides)

    reverse = prepare_sequence(reverse_complement(nucleotides), "dna")
    assert reverse.protein == expected
    assert reverse.info["strand"] == "-" and reverse.info["frame"] >= 3
    n = len(nucleotides)
    assert (reverse.info["orf_start"], reverse.info["orf_end"]) == (n - end + 1, n - start + 1)

    as_rna = prepare_sequence(nucleotides.replace("T", "U").lower(), "rna")
    assert as_rna.protein == expected and as_rna.info["input_type"] == "rna"
    auto = prepare_sequence(nucleotides, "auto")
    assert auto.protein == expected and auto.info["input_type"] == "dna"

    given = prepare_sequence(nucleotides, "dna", (start - 1) % 3)
    assert given.protein == expected and given.info["frame_source"] == "given"


@needs_genbank
def test_wrong_frame_gives_another_reading() -> None:
    nucleotides, start, _, expected = genbank_records()[0]
    other = ((start - 1) % 3 + 1) % 3
    try:
        result = prepare_sequence(nucleotides, "dna", other)
    except InvalidInput as exc:
        assert exc.field == "frame"
    else:
        assert result.protein != expected and result.info["frame"] == other


def test_seed_example_dna_in_frame_zero() -> None:
    result = prepare_sequence("ATGGCTGCAGATGGTGCAATGCCA", "dna", 0)
    assert result.as_dict() == {
        "protein_sequence": translate("ATGGCTGCAGATGGTGCAATGCCA"),
        "info": result.info,
    }
    assert result.info["input_type"] == "dna" and result.info["length"] == 8


def test_protein_cleaning_fasta_header_whitespace_and_case() -> None:
    raw = ">sp|P0DTC2|SPIKE test\nmfvflvllpl vssqcvnltt\n RTQLPPAYTN*\n"
    result = prepare_sequence(raw, "protein")
    assert result.protein == "MFVFLVLLPLVSSQCVNLTTRTQLPPAYTN"
    assert result.info == {"input_type": "protein", "length": 30}


def test_true_length_of_seed_protein_example() -> None:
    seed = "MFVFLVLLPLVSSQCVNLTTRTQLPPAYTNSFTRGVYYPDKVFRSSVLHS"
    assert prepare_sequence(seed, "protein").info["length"] == len(seed) == 50


def test_auto_detects_protein_and_nucleotides() -> None:
    rng = random.Random(7)
    protein = "".join(rng.choice("ACDEFGHIKLMNPQRSTVWY") for _ in range(60))
    assert prepare_sequence(protein, "auto").info["input_type"] == "protein"
    rna = "AUG" + "".join(rng.choice(["GCU", "AAA", "GGC", "UUC"]) for _ in range(30))
    assert prepare_sequence(rna, "auto").info["input_type"] == "rna"


@pytest.mark.parametrize(
    ("args", "field", "fragment"),
    [
        (("", "protein"), "sequence", "is empty"),
        (("   \n ", "protein"), "sequence", "is empty"),
        ((None, "protein"), "sequence", "is required"),
        ((123, "protein"), "sequence", "must be a string"),
        (("MKVLJX1AAAAAA", "protein"), "sequence", "invalid characters 'J1' at positions 5, 7"),
        (("MKV", "protein"), "sequence", "too short"),
        (("M" * (MAX_PROTEIN_LENGTH + 1), "protein"), "sequence", "too long"),
        (("ACGT" * 10, "peptide"), "seq_type", "unknown seq_type"),
        (("ACGT" * 10, 5), "seq_type", "must be a string"),
        (("ACGTACGTAC", "dna"), "sequence", "too short"),
        (("ACGTEFACGTACGTACGTACGTACGT", "dna"), "sequence", "invalid characters 'EF'"),
        (("A" * (MAX_NUCLEOTIDE_LENGTH + 3), "dna"), "sequence", "too long"),
        (("ATG" * 20, "dna", 6), "frame", "must be 0-2"),
        (("ATG" * 20, "dna", -1), "frame", "must be 0-2"),
        (("ATG" * 20, "dna", "two"), "frame", "must be an integer"),
        (("ATG" * 20, "dna", True), "frame", "must be an integer"),
        (("ATG" * 20, "dna", 1.5), "frame", "must be an integer"),
        (("MKVLAAAAAAAA", "protein", 0), "frame", "only to dna or rna"),
        (("TAA" * 20, "dna", 0), "frame", "no open reading frame"),
        ((">a\nMKVLAAAAAA\n>b\nMKVLAAAAAA", "protein"), "sequence", "more than one FASTA"),
    ],
)
def test_invalid_input_names_the_field_and_problem(
    args: tuple[object, ...], field: str, fragment: str
) -> None:
    with pytest.raises(InvalidInput) as caught:
        prepare_sequence(*args)
    assert caught.value.field == field
    assert caught.value.message.startswith(f"{field}: ")
    assert fragment in caught.value.message


def test_prefix_names_batch_item_fields() -> None:
    with pytest.raises(InvalidInput) as caught:
        prepare_sequence("MK", "protein", prefix="items[3].")
    assert caught.value.field == "items[3].sequence"


def test_minimum_length_boundary() -> None:
    assert (
        prepare_sequence("M" * MIN_PROTEIN_LENGTH, "protein").info["length"] == MIN_PROTEIN_LENGTH
    )
    with pytest.raises(InvalidInput):
        prepare_sequence("M" * (MIN_PROTEIN_LENGTH - 1), "protein")
