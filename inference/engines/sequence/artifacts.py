"""Reading and writing one version of the sequence model (``models/sequence/<version>/``).

Files: ``manifest.json`` (labels, parameters, structure map), ``weights.bin`` (linear models,
stackers, calibrator; a NumPy compressed archive), ``references.tsv.gz`` (the reference set
with sequences and labels),
``metrics.json``, ``MODEL_CARD.md`` and ``structures/*.pdb.gz`` (staged PDB entries).
The training code writes these through ``save_bundle``; the engine reads them through
``load_bundle``.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from inference.engines.sequence.classifier import Linear

REFERENCE_COLUMNS = (
    "id",
    "name",
    "organism",
    "source",
    "uniprot",
    "task1",
    "task2",
    "task3",
    "sequence",
)
# The linear models, in NumPy's compressed archive format (np.savez_compressed).
WEIGHTS_FILE = "weights.bin"
# lr1_orphan: the task1 composition model fitted on orphan proteins only (since seq-2026.11.2).
WEIGHT_NAMES = ("lr1", "lr1_orphan", "lr2", "stack1", "stack2", "cal3")
# The layout a trainer writes and this engine reads, raised whenever the models or the evidence
# they learned from change meaning: v2 added the orphan model (seq-2026.11.2), v3 the spaced-seed
# search channel (seq-2026.11.3). Bundles without it predate v3.
FORMAT = "cdss-sequence-bundle-v3"


@dataclass
class Reference:
    """One reference protein; task labels are indices into the manifest's label lists (-1: none)."""

    id: str
    name: str
    organism: str
    source: str
    uniprot: str
    task1: int
    task2: int
    task3: int
    sequence: str


@dataclass
class Bundle:
    """Everything one model version needs at inference time."""

    manifest: dict[str, Any]
    models: dict[str, Linear]
    references: list[Reference]
    metrics: dict[str, Any] = field(default_factory=dict)


def save_bundle(directory: Path, bundle: Bundle) -> None:
    """Write the manifest, weights, references and metrics of one version."""
    directory.mkdir(parents=True, exist_ok=True)
    manifest = {**bundle.manifest, "format": FORMAT}
    (directory / "manifest.json").write_text(json.dumps(manifest, indent=1, sort_keys=True))
    arrays: dict[str, np.ndarray] = {}
    for name in WEIGHT_NAMES:
        model = bundle.models[name]
        arrays[f"{name}_w"] = model.weights.astype(np.float32)
        arrays[f"{name}_b"] = model.bias.astype(np.float32)
    # A file object, so NumPy does not append ".npz" to the name.
    with (directory / WEIGHTS_FILE).open("wb") as fh:
        np.savez_compressed(fh, **arrays)  # type: ignore[arg-type]
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter="\t", lineterminator="\n")
    writer.writerow(REFERENCE_COLUMNS)
    for ref in bundle.references:
        writer.writerow([getattr(ref, c) for c in REFERENCE_COLUMNS])
    # mtime=0 and no embedded name: the same references give byte-identical artifacts.
    with (
        (directory / "references.tsv.gz").open("wb") as raw,
        gzip.GzipFile(filename="", mode="wb", compresslevel=9, fileobj=raw, mtime=0) as fh,
    ):
        fh.write(buffer.getvalue().encode())
    (directory / "metrics.json").write_text(json.dumps(bundle.metrics, indent=1, sort_keys=True))


def load_references(path: Path) -> list[Reference]:
    with gzip.open(path, "rt", newline="") as fh:
        reader = csv.DictReader(fh, delimiter="\t")
        return [
            Reference(
                id=row["id"],
                name=row["name"],
                organism=row["organism"],
                source=row["source"],
                uniprot=row["uniprot"],
                task1=int(row["task1"]),
                task2=int(row["task2"]),
                task3=int(row["task3"]),
                sequence=row["sequence"],
            )
            for row in reader
        ]


def load_bundle(directory: Path) -> Bundle:
    """Read one version written by ``save_bundle``."""
    manifest = json.loads((directory / "manifest.json").read_text())
    if manifest.get("format") != FORMAT:
        raise ValueError(
            f"{directory.name} is a {manifest.get('format', 'pre-v3')} bundle from an older "
            f"trainer and this engine reads {FORMAT} (its classifiers expect other inputs or "
            "evidence); retrain it with this version (python -m training.sequences)"
        )
    with np.load(directory / WEIGHTS_FILE) as npz:
        models = {
            name: Linear(np.asarray(npz[f"{name}_w"]), np.asarray(npz[f"{name}_b"], np.float64))
            for name in WEIGHT_NAMES
        }
    metrics_path = directory / "metrics.json"
    metrics = json.loads(metrics_path.read_text()) if metrics_path.exists() else {}
    return Bundle(manifest, models, load_references(directory / "references.tsv.gz"), metrics)


def resolve_version_dir(model_root: Path, runtime_root: Path | None = None) -> Path:
    """The active version: ``<runtime_root>/CURRENT`` wins over ``<model_root>/CURRENT``."""
    for root in (runtime_root, model_root):
        if root is None:
            continue
        current = root / "CURRENT"
        if current.exists():
            version = current.read_text().strip()
            if version and (root / version / "manifest.json").exists():
                return root / version
    raise FileNotFoundError(f"no CURRENT sequence model under {model_root}")
