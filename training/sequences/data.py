"""Reads the shared sequence datasets into one table of unique proteins with their three labels.

task3 (the specific protein or lineage) is given only where the source names one: viral proteins
(``<gene>_<virus/lineage>``) and VFDB virulence factors (``VF:<name>``). Negatives, anonymous
toxins, SPAAN and EffectiveT3 proteins carry task1/task2 labels only.

Every source keeps its own parser here; the labelling rules (what counts as pathogen-origin, which
protein type and which task3 label a record gets) are stated next to each parser. Identical
sequences from several sources are merged, the most specific source winning (``SOURCE_PRIORITY``).
"""

from __future__ import annotations

import csv
import json
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

NON_PATHOGEN_TYPE = "Non-pathogen protein"
MIN_LENGTH = 20

# Lower value wins when one sequence occurs in several sources.
SOURCE_PRIORITY = {
    "nextclade_reference": 0,
    "flu_reference": 1,
    "nextclade": 2,
    "flutile": 3,
    "genoflu": 4,
    "vfdb": 5,
    "effectivet3": 6,
    "toxinpred2": 7,
    "spaan": 8,
    "swissprot_human": 9,
    "swissprot_yeast": 10,
    "ecoli_k12": 11,
}

PROTEIN_TYPE_ALIASES = {
    "Matrix protein": "Matrix/membrane protein",
    "Non-structural protein": "Non-structural/accessory protein",
}
VFDB_TYPES = {
    "secretion_system": "Secretion system",
    "adhesin": "Adhesin",
    "motility": "Motility",
    "toxin": "Toxin",
    "capsule": "Capsule",
    "iron_uptake": "Iron uptake",
    "protease": "Protease",
    "lps": "LPS/LOS biosynthesis",
    "other": "Other virulence factor",
}


@dataclass
class Record:
    """One protein with its labels; empty strings mean "no label for this task"."""

    sequence: str
    ref_id: str
    name: str
    organism: str
    source: str
    task1: int  # 1 pathogen-origin, 0 not, -1 unlabelled
    task2: str
    task3: str
    uniprot: str = ""
    named_reference: bool = False
    extra: dict[str, str] = field(default_factory=dict)


def default_datasets_dir() -> Path:
    """``$CDSS_DATASETS_DIR`` or ``<repo root>/../shared/datasets``."""
    env = os.environ.get("CDSS_DATASETS_DIR")
    if env:
        return Path(env)
    return Path(__file__).resolve().parents[2].parent / "shared" / "datasets"


def sequences_root(path: Path) -> Path:
    """The folder holding the sequence sets: ``path/sequences`` when present, else ``path``."""
    return path / "sequences" if (path / "sequences").is_dir() else path


def read_fasta(path: Path) -> Iterator[tuple[str, str]]:
    """(header without '>', sequence) pairs; sequences upper-cased, '*' at the end removed."""
    header: str | None = None
    chunks: list[str] = []
    with path.open() as fh:
        for line in fh:
            line = line.strip()
            if line.startswith(">"):
                if header is not None:
                    yield header, "".join(chunks).upper().rstrip("*")
                header, chunks = line[1:], []
            elif line:
                chunks.append(line)
    if header is not None:
        yield header, "".join(chunks).upper().rstrip("*")


def _read_tsv(path: Path) -> list[dict[str, str]]:
    with path.open(newline="") as fh:
        return list(csv.DictReader(fh, delimiter="\t"))


def _protein_type(value: str) -> str:
    return PROTEIN_TYPE_ALIASES.get(value, value)


def load_nextclade(root: Path) -> list[Record]:
    """Viral proteins (pathogen-origin); task2 = protein_type, task3 = <gene>_<virus/lineage>."""
    folder = root / "viral_nextclade"
    if not folder.is_dir():
        return []
    seqs = dict(read_fasta(folder / "viral_proteins.fasta"))
    out = []
    for row in _read_tsv(folder / "viral_proteins_labels.tsv"):
        seq = seqs.get(row["seq_id"])
        if not seq:
            continue
        out.append(
            Record(
                seq,
                row["seq_id"],
                row["product"] or f"{row['gene']} ({row['protein_type']})",
                row["virus"],
                "nextclade",
                1,
                _protein_type(row["protein_type"]),
                row["task3_label"],
                extra={"family": row["nextclade_family"]},
            )
        )
    ref_seqs = {h.split()[0]: s for h, s in read_fasta(folder / "reference_proteins.fasta")}
    virus_of = {r.extra["family"]: r.organism for r in out}
    for row in _read_tsv(folder / "reference_proteins.tsv"):
        seq = ref_seqs.get(row["ref_id"])
        if not seq:
            continue
        out.append(
            Record(
                seq,
                row["ref_id"],
                row["product"] or f"{row['gene']} ({row['protein_type']})",
                virus_of.get(row["nextclade_family"], row["reference_sequence_name"]),
                "nextclade_reference",
                1,
                _protein_type(row["protein_type"]),
                row["task3_label"],
                named_reference=True,
            )
        )
    return out


def load_flutile(root: Path) -> list[Record]:
    """Influenza A proteins labelled by subtype file (HA_H1..H16, NA_N1..N9, internal genes)."""
    folder = root / "flu_subtypes_flutile"
    if not folder.is_dir():
        return []
    seqs = dict(read_fasta(folder / "flutile_proteins.fasta"))
    out = []
    for row in _read_tsv(folder / "flutile_labels.tsv"):
        seq = seqs.get(row["seq_id"])
        if not seq:
            continue
        organism = f"Influenza A virus ({row['strain']}({row['strain_subtype']}))"
        out.append(
            Record(
                seq,
                row["seq_id"],
                f"{row['gene']} ({row['protein_type']})",
                organism,
                "flutile",
                1,
                _protein_type(row["protein_type"]),
                row["task3_label"],
            )
        )
    return out


_FLU_REF_SUBTYPE_LABEL = {
    ("h5n1", "HA"): "HA_H5N1",
    ("h5n1", "NA"): "NA_N1_H5N1",
    ("h7n9", "HA"): "HA_H7",
    ("h7n9", "NA"): "NA_N9",
    ("h9n2", "HA"): "HA_H9",
    ("h9n2", "NA"): "NA_N2",
}
_FLU_GENE_TYPE = {
    "HA": "Hemagglutinin",
    "NA": "Neuraminidase",
    "M1": "Matrix/membrane protein",
    "M2": "Matrix/membrane protein",
    "NP": "Nucleoprotein",
    "NS1": "Non-structural/accessory protein",
    "NS2": "Non-structural/accessory protein",
    "NEP": "Non-structural/accessory protein",
    "PA": "RNA polymerase",
    "PB1": "RNA polymerase",
    "PB2": "RNA polymerase",
    "PB1-F2": "Non-structural/accessory protein",
}


def load_flu_references(root: Path) -> list[Record]:
    """Annotated H5N1/H7N9/H9N2 references and the GenoFLU H5N1 2.3.4.4b proteins."""
    folder = root / "flu_references_nextstrain"
    if not folder.is_dir():
        return []
    out = []
    seqs = {h.split()[0]: s for h, s in read_fasta(folder / "reference_proteins_genbank.fasta")}
    for row in _read_tsv(folder / "reference_proteins_genbank.tsv"):
        seq = seqs.get(row["seq_id"])
        if not seq:
            continue
        sub = row["seq_id"].split("|")[0]
        gene = row["gene"]
        task3 = _FLU_REF_SUBTYPE_LABEL.get((sub, gene), f"{gene}_{sub.upper()}")
        out.append(
            Record(
                seq,
                f"{row['protein_id']}",
                row["product"],
                f"Influenza A virus ({sub.upper()} reference, {row['nt_accession']})",
                "flu_reference",
                1,
                _FLU_GENE_TYPE.get(gene, "Non-structural/accessory protein"),
                task3,
                named_reference=True,
            )
        )
    gseqs = {h.split()[0]: s for h, s in read_fasta(folder / "genoflu_h5n1_2344b_proteins.fasta")}
    for row in _read_tsv(folder / "genoflu_h5n1_2344b_labels.tsv"):
        seq = gseqs.get(row["seq_id"])
        if not seq:
            continue
        gene = row["gene"]
        task3 = {"HA": "HA_H5N1", "NA": "NA_N1_H5N1"}.get(gene, f"{gene}_H5N1")
        out.append(
            Record(
                seq,
                row["seq_id"],
                f"{gene} ({row['protein_type']})",
                "Influenza A virus (H5N1 clade 2.3.4.4b, GenoFLU)",
                "genoflu",
                1,
                _protein_type(row["protein_type"]),
                task3,
            )
        )
    return out


def load_vfdb(root: Path) -> list[Record]:
    """Bacterial virulence factors; task2 from the curated keyword, task3 = the VF name."""
    folder = root / "vfdb_setA"
    if not folder.is_dir():
        return []
    seqs = {h.split()[0]: s for h, s in read_fasta(folder / "vfdb_setA_protein_translated.fasta")}
    out = []
    for row in _read_tsv(folder / "vfdb_setA_labels.tsv"):
        seq = seqs.get(row["accession"])
        if not seq or row.get("internal_stops", "0") not in ("0", ""):
            continue
        out.append(
            Record(
                seq,
                row["accession"],
                f"{row['gene_product']} [{row['vf_name']} ({row['vf_id']})]",
                row["organism"],
                "vfdb",
                1,
                VFDB_TYPES.get(row["keyword_type"], "Other virulence factor"),
                f"VF:{row['vf_name']}" if row["vf_name"].strip() else "",
            )
        )
    return out


def _effectivet3_accession(header: str) -> str:
    parts = header.split("|")
    if parts[0] in ("sp", "tr") and len(parts) > 1:
        return parts[1]
    if parts[0] == "gi" and len(parts) > 3:
        return parts[3]
    return header.split()[0]


def load_effectivet3(root: Path) -> list[Record]:
    """Type-III secreted effectors (positives only: the negatives come from pathogen genomes)."""
    folder = root / "effectivet3"
    if not folder.is_dir():
        return []
    info_path = folder / "bacterial_species_info_eff_all_positive.json"
    info: dict[str, dict[str, str]] = (
        json.loads(info_path.read_text()) if info_path.exists() else {}
    )
    out = []
    for name in ("training_data_t3se_positive.fasta", "test_data_t3se_positive_test.fasta"):
        for header, seq in read_fasta(folder / name):
            acc = _effectivet3_accession(header)
            meta = info.get(acc, {})
            definition = meta.get("definition", "Type III secreted effector")
            definition = re.sub(r"^RecName: Full=", "", definition).split(";")[0]
            is_uniprot = header.startswith(("sp|", "tr|"))
            out.append(
                Record(
                    seq,
                    acc,
                    definition,
                    meta.get("organism", "Bacteria (T3SS-carrying species)"),
                    "effectivet3",
                    1,
                    "Secretion system",
                    "",
                    uniprot=acc if is_uniprot else "",
                )
            )
    return out


def _paired(folder: Path) -> Iterator[tuple[str, str, str]]:
    labels = (folder / "classes.txt").read_text().split()
    for (header, seq), label in zip(read_fasta(folder / "seqs.fasta"), labels, strict=False):
        yield header, seq, label


def load_toxinpred2(root: Path) -> list[Record]:
    """Toxins (pathogen-origin, type Toxin) and non-toxins (negatives); anonymous ids."""
    folder = root / "toxinpred2"
    if not folder.is_dir():
        return []
    out = []
    for header, seq, label in _paired(folder):
        toxin = label == "1"
        out.append(
            Record(
                seq,
                f"ToxinPred2:{header.split()[0]}",
                "Toxin" if toxin else "Non-toxin protein",
                "not recorded (ToxinPred2, Swiss-Prot derived)",
                "toxinpred2",
                1 if toxin else 0,
                "Toxin" if toxin else NON_PATHOGEN_TYPE,
                "",
            )
        )
    return out


def load_spaan(root: Path) -> list[Record]:
    """SPAAN bacterial virulence factors / non-virulence proteins; no protein type for positives."""
    folder = root / "spaan_bvf"
    if not folder.is_dir():
        return []
    out = []
    for header, seq, label in _paired(folder):
        parts = header.split("|")
        acc = parts[3] if len(parts) > 3 else header.split()[0]
        vf = label == "1"
        out.append(
            Record(
                seq,
                acc,
                "Bacterial virulence factor" if vf else "Non-virulent bacterial protein",
                "Bacteria (SPAAN set)",
                "spaan",
                1 if vf else 0,
                "" if vf else NON_PATHOGEN_TYPE,
                "",
            )
        )
    return out


_SP_HEADER = re.compile(r"^(?:sp|tr)\|([^|]+)\|(\S+)\s+(.*?)\s+OS=(.*?)(?:\s+OX=|\s+GN=|\s+PE=|$)")


def load_negatives(root: Path) -> list[Record]:
    """Human and yeast Swiss-Prot proteins and E. coli K-12 proteins: non-pathogen negatives."""
    folder = root / "negatives_swissprot"
    if not folder.is_dir():
        return []
    out = []
    files = [
        ("human_swissprot_SIPGCN_gsp.fasta", "swissprot_human"),
        ("yeast_swissprot_SIPGCN_gsp.fasta", "swissprot_yeast"),
        ("yeast_swissprot_SIPGCN_gsn.fasta", "swissprot_yeast"),
    ]
    for name, source in files:
        path = folder / name
        if not path.exists():
            continue
        for header, seq in read_fasta(path):
            m = _SP_HEADER.match(header)
            acc, desc, org = (m.group(1), m.group(3), m.group(4)) if m else (header, header, "")
            out.append(Record(seq, acc, desc, org, source, 0, NON_PATHOGEN_TYPE, "", uniprot=acc))
    path = folder / "ecoli_esol_iCAN.fasta"
    if path.exists():
        for header, seq in read_fasta(path):
            acc = header.split("_")[0]
            out.append(
                Record(
                    seq,
                    acc,
                    "E. coli K-12 protein (eSol set)",
                    "Escherichia coli K-12",
                    "ecoli_k12",
                    0,
                    NON_PATHOGEN_TYPE,
                    "",
                )
            )
    return out


LOADERS = (
    load_nextclade,
    load_flu_references,
    load_flutile,
    load_vfdb,
    load_effectivet3,
    load_toxinpred2,
    load_spaan,
    load_negatives,
)


def load_records(root: Path) -> list[Record]:
    """All sources, one record per distinct sequence (highest-priority source wins)."""
    root = sequences_root(root)
    best: dict[str, Record] = {}
    for loader in LOADERS:
        for rec in loader(root):
            seq = rec.sequence
            if len(seq) < MIN_LENGTH:
                continue
            kept = best.get(seq)
            if kept is None or SOURCE_PRIORITY[rec.source] < SOURCE_PRIORITY[kept.source]:
                if kept is not None:
                    rec.named_reference = rec.named_reference or kept.named_reference
                best[seq] = rec
            elif rec.named_reference:
                kept.named_reference = True
    return list(best.values())
