"""Structure links for references and task3 labels, and the staged PDB files of a model version.

Viral proteins link to PDB entries (the AlphaFold database holds no viral proteins); non-viral
references with a UniProt accession link to their AlphaFold entry. Staged PDB files live gzipped in
``<version>/structures/`` and are unpacked once into a cache folder when the viewer asks for them.
"""

from __future__ import annotations

import gzip
import re
import shutil
import tempfile
import threading
from pathlib import Path
from typing import Any

PDB_URL = "https://www.rcsb.org/structure/{id}"
ALPHAFOLD_URL = "https://alphafold.ebi.ac.uk/entry/{id}"
VIRAL_SOURCES = frozenset(
    {"nextclade", "nextclade_reference", "flutile", "genoflu", "flu_reference"}
)
_PDB_ID = re.compile(r"^[0-9][A-Za-z0-9]{3}$")
NO_STRUCTURE: dict[str, Any] = {"source": None, "id": None, "url": None, "local_file": None}


class StructureLinks:
    """Answers "which 3D structure goes with this reference / label" for one model version."""

    def __init__(self, version_dir: Path, structure_map: dict[str, Any]) -> None:
        self.version_dir = version_dir
        self.labels: dict[str, dict[str, Any]] = structure_map.get("labels", {})
        self.staged: dict[str, str] = {
            k.upper(): v for k, v in structure_map.get("staged", {}).items()
        }
        self._cache_dir = (
            Path(tempfile.gettempdir()) / "cdss-sequence-structures" / version_dir.name
        )
        self._lock = threading.Lock()

    def pdb(self, pdb_id: str) -> dict[str, Any]:
        pdb_id = pdb_id.upper()
        staged = pdb_id in self.staged
        return {
            "source": "pdb",
            "id": pdb_id,
            "url": PDB_URL.format(id=pdb_id),
            "local_file": f"{pdb_id.lower()}.pdb" if staged else None,
        }

    def for_label(self, task3_label: str) -> dict[str, Any] | None:
        """The preferred PDB entry of a task3 label (a staged one first), or None."""
        entry = self.labels.get(task3_label)
        if not entry or not entry.get("pdb_ids"):
            return None
        ids: list[str] = entry["pdb_ids"]
        staged = [i for i in ids if i.upper() in self.staged]
        return self.pdb((staged or ids)[0])

    def for_reference(self, source: str, uniprot: str, task3_label: str) -> dict[str, Any]:
        """PDB for viral references (by label), AlphaFold for UniProt-identified non-viral ones."""
        if source in VIRAL_SOURCES:
            return self.for_label(task3_label) or dict(NO_STRUCTURE)
        if uniprot:
            return {
                "source": "alphafold",
                "id": uniprot,
                "url": ALPHAFOLD_URL.format(id=uniprot),
                "local_file": None,
            }
        return dict(NO_STRUCTURE)

    def label_uniprot(self, task3_label: str) -> dict[str, Any] | None:
        """UniProt entry known for a task3 label, with its preferred 3D structure."""
        entry = self.labels.get(task3_label)
        if not entry:
            return None
        return {
            "uniprot_id": entry["uniprot_id"],
            "protein_name": entry["protein_name"],
            "organism": entry["organism"],
            "preferred_3d": self.for_label(task3_label),
        }

    def path(self, pdb_id: str) -> Path | None:
        """Plain-text PDB file of a staged entry (unpacked on first use), or None."""
        key = pdb_id.strip().upper()
        if not _PDB_ID.match(key) or key not in self.staged:
            return None
        source = self.version_dir / "structures" / self.staged[key]
        if not source.exists():
            return None
        target = self._cache_dir / f"{key.lower()}.pdb"
        with self._lock:
            if not target.exists():
                self._cache_dir.mkdir(parents=True, exist_ok=True)
                partial = target.with_suffix(".part")
                with gzip.open(source, "rb") as fin, partial.open("wb") as fout:
                    shutil.copyfileobj(fin, fout)
                partial.replace(target)
        return target
