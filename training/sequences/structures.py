"""Structure links for task3 labels, and staging of the PDB files served to the viewer.

Viral proteins link to PDB entries (the AlphaFold database holds no viral proteomes): the staged
coordinate files (6VXX and 6M0J spike, 3LZG/2YP7/7KQH hemagglutinins, identified by their DBREF
records) and the Wikidata SARS-CoV-2 protein -> UniProt -> PDB table. Non-viral references with a
UniProt accession link to their AlphaFold entry at inference time.
"""

from __future__ import annotations

import csv
import gzip
import shutil
from pathlib import Path
from typing import Any

# Staged file -> (PDB id, what it holds, UniProt, task3 labels it illustrates).
STAGED_PDB = {
    "6vxx_biovia_resaved.pdb": ("6VXX", "Spike glycoprotein (closed trimer)", "P0DTC2",
                                ["Spike_SARS-CoV-2"]),
    "6m0j.pdb": ("6M0J", "Spike receptor-binding domain bound to ACE2", "P0DTC2", []),
    "3lzg.pdb": ("3LZG", "Hemagglutinin, A/California/04/2009 (H1N1pdm)", "C3W5S1",
                 ["HA_H1N1pdm"]),
    "2yp7.pdb": ("2YP7", "Hemagglutinin, 2005 human H3N2", "I2D7A8", ["HA_H3N2"]),
    "7kqh.pdb": ("7KQH", "Influenza B hemagglutinin head", "A0A4P8YRB6",
                 ["HA_B-Victoria", "HA_B", "HA_B-Yamagata"]),
}  # fmt: skip

# task3 label -> the Wikidata table's protein name prefix for SARS-CoV-2 proteins.
SARS2_TABLE_NAMES = {
    "Spike_SARS-CoV-2": "spike glycoprotein",
    "N_SARS-CoV-2": "nucleocapsid protein",
    "E_SARS-CoV-2": "envelope protein",
    "ORF3a_SARS-CoV-2": "Viroporin 3a",
    "ORF7a_SARS-CoV-2": "Protein 7a",
    "ORF8_SARS-CoV-2": "ORF8 protein",
    "nsp3_SARS-CoV-2": "Papain-like proteinase",
    "nsp5_SARS-CoV-2": "non-structural protein 5",
    "nsp10_SARS-CoV-2": "Non-structural protein 10",
    "nsp15_SARS-CoV-2": "non-structural protein 15",
    "nsp16_SARS-CoV-2": "non-structural protein 16",
}
SARS2_ORGANISM = "Severe acute respiratory syndrome coronavirus 2"


def _read_wikidata(path: Path) -> dict[str, tuple[str, str, list[str]]]:
    """protein name -> (UniProt id, display name, PDB ids in table order)."""
    table: dict[str, tuple[str, str, list[str]]] = {}
    if not path.exists():
        return table
    with path.open(newline="") as fh:
        for row in csv.DictReader(fh, delimiter="\t"):
            name = row["protein"]
            entry = table.setdefault(name, (row["uniprot"], name, []))
            if row["pdb"] and row["pdb"] not in entry[2]:
                entry[2].append(row["pdb"])
    return table


def build_structure_map(sequences_root: Path) -> dict[str, Any]:
    """``{"labels": {task3: {...}}, "staged": {PDB id: file name}}`` for the manifest."""
    labels: dict[str, dict[str, Any]] = {}
    staged: dict[str, str] = {}
    pdb_dir = sequences_root / "structures_pdb"
    for filename, (pdb_id, title, uniprot, task3_labels) in STAGED_PDB.items():
        if (pdb_dir / filename).exists():
            staged[pdb_id] = f"{pdb_id.lower()}.pdb.gz"
        for label in task3_labels:
            labels[label] = {
                "uniprot_id": uniprot,
                "protein_name": title,
                "organism": SARS2_ORGANISM if "SARS" in label else "Influenza virus",
                "pdb_ids": [pdb_id],
            }
    table = _read_wikidata(
        sequences_root / "structure_maps" / "sarscov2_protein_uniprot_pdb_wikidata.tsv"
    )
    for label, prefix in SARS2_TABLE_NAMES.items():
        matches = [v for k, v in table.items() if k.startswith(prefix)]
        # Prefer the mature-chain id of the orf1ab polyprotein (P0DTD1-PRO_...) when both exist.
        matches.sort(key=lambda v: (not v[0].startswith("P0DTD1"), v[0]))
        if not matches:
            continue
        uniprot, name, pdb_ids = matches[0]
        entry = labels.setdefault(
            label,
            {
                "uniprot_id": uniprot,
                "protein_name": name,
                "organism": SARS2_ORGANISM,
                "pdb_ids": [],
            },
        )
        for pdb_id in pdb_ids:
            if pdb_id not in entry["pdb_ids"]:
                entry["pdb_ids"].append(pdb_id)
    return {"labels": labels, "staged": staged}


def stage_pdb_files(sequences_root: Path, out_dir: Path) -> list[str]:
    """Gzip the staged PDB files into ``out_dir`` as ``<id>.pdb.gz``; returns the ids written."""
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for filename, (pdb_id, *_rest) in STAGED_PDB.items():
        src = sequences_root / "structures_pdb" / filename
        if not src.exists():
            continue
        target = out_dir / f"{pdb_id.lower()}.pdb.gz"
        # mtime=0 and no embedded name: the same input gives byte-identical artifacts.
        with (
            src.open("rb") as fin,
            target.open("wb") as raw,
            gzip.GzipFile(filename="", mode="wb", compresslevel=9, fileobj=raw, mtime=0) as fout,
        ):
            shutil.copyfileobj(fin, fout)
        written.append(pdb_id)
    return written
