"""The seed-compatible v1 routes: model-info, predict (single and batch), retrain (and its
status), structures.

Each route parses the request, calls one service (``inference.sequence_service``,
``inference.retrain``) or engine, and serializes; errors are raised as ``inference.errors`` types
and turned into JSON by the app factory.
"""

from __future__ import annotations

import gzip
import re
from pathlib import Path
from typing import Any

from flask import Blueprint, Response

from inference.api import extension, request_json
from inference.config import InferenceConfig
from inference.engines.base import DISCLAIMER
from inference.errors import InferenceError, InvalidInput, NotReady, redact_paths
from inference.registry import EngineRegistry
from inference.retrain import RetrainManager, parse_retrain_request
from inference.sequence_input import MAX_NUCLEOTIDE_LENGTH, MAX_PROTEIN_LENGTH, MIN_PROTEIN_LENGTH
from inference.sequence_service import (
    MAX_BATCH_ITEMS,
    parse_options,
    predict_batch,
    predict_single,
)

bp = Blueprint("v1", __name__, url_prefix="/api/v1")

# PDB identifiers: a digit and three letters/digits.
_PDB_ID = re.compile(r"^[0-9][A-Za-z0-9]{3}$")
# Seed-compatible top-level fields of model-info, taken from the sequence engine's info().
_SEED_INFO_FIELDS = ("model_name", "tasks", "labels", "metrics")


def _engine_info(registry: EngineRegistry, kind: str) -> dict[str, Any]:
    status = registry.status()[kind]
    try:
        info = dict(registry.get(kind).info())
    except NotReady:
        error = redact_paths(status["error"]) if status["error"] else None
        return {"name": kind, "loaded": False, "error": error, "version": None}
    info.setdefault("name", kind)
    info.setdefault("loaded", True)
    info.setdefault("version", status["version"])
    if status["reloading"]:
        info["reloading"] = True
    return info


@bp.get("/model-info")
def model_info() -> dict[str, Any]:
    state = extension()
    registry: EngineRegistry = state["registry"]
    config: InferenceConfig = state["config"]
    retrain: RetrainManager = state["retrain"]
    engines = {kind: _engine_info(registry, kind) for kind in registry.kinds}
    body: dict[str, Any] = {"ok": True}
    sequence = engines.get("sequence")
    if sequence is not None:
        for key in _SEED_INFO_FIELDS:
            if key in sequence:
                body[key] = sequence[key]
        body["model_version"] = sequence.get("version") or sequence.get("model_version")
        tasks = sequence.get("tasks")
        if "labels" not in body and isinstance(tasks, dict):
            body["labels"] = {
                task: spec["labels"]
                for task, spec in tasks.items()
                if isinstance(spec, dict) and "labels" in spec
            }
    body["engines"] = engines
    body["retrain"] = retrain.status()
    body["limits"] = {
        "max_body_bytes": config.max_body,
        "protein_length": [MIN_PROTEIN_LENGTH, MAX_PROTEIN_LENGTH],
        "max_nucleotide_length": MAX_NUCLEOTIDE_LENGTH,
        "max_batch_items": MAX_BATCH_ITEMS,
    }
    body["disclaimer"] = DISCLAIMER
    return body


@bp.post("/predict")
def predict() -> dict[str, Any]:
    body = request_json()
    options = parse_options(body)
    registry: EngineRegistry = extension()["registry"]
    if "items" in body:
        if "sequence" in body:
            raise InvalidInput(
                "body: send either 'sequence' (one sample) or 'items' (a batch), not both",
                field="body",
            )
        engine = extension()["engines"]["sequence"]
        return predict_batch(
            body,
            engine,
            default_version=registry.version("sequence"),
            default_name=getattr(engine, "model_name", None),
            options=options,
        )
    return predict_single(body, extension()["engines"]["sequence"], options=options)


@bp.post("/retrain")
def retrain() -> dict[str, Any]:
    body = request_json()
    config: InferenceConfig = extension()["config"]
    data_path, epochs, batch_size = parse_retrain_request(body, config.training_data_roots)
    manager: RetrainManager = extension()["retrain"]
    job = manager.start(data_path=data_path, epochs=epochs, batch_size=batch_size)
    return {
        "ok": True,
        "status": "started",
        "message": "retraining started; progress is shown under 'retrain' in model-info",
        "job_id": job["job_id"],
        "training_data_path": body["training_data_path"],  # as sent: never the resolved path
        "epochs": epochs,
        "batch_size": batch_size,
    }


@bp.get("/retrain/status")
def retrain_status() -> dict[str, Any]:
    """The retrain run's progress and its job (arguments, times, exit code); no paths or pids."""
    manager: RetrainManager = extension()["retrain"]
    return {"ok": True, **manager.job_status()}


@bp.get("/structures/<pdb_id>")
def structure(pdb_id: str) -> Response:
    if not _PDB_ID.match(pdb_id):
        raise _not_found(pdb_id)
    engine = extension()["engines"]["sequence"]
    path: Path | None = engine.structure_path(pdb_id.upper())
    if path is None or not Path(path).is_file():
        raise _not_found(pdb_id)
    path = Path(path)
    data = path.read_bytes()
    if path.suffix == ".gz":
        data = gzip.decompress(data)
    name = path.name.removesuffix(".gz")
    is_cif = name.endswith(".cif")
    response = Response(data, mimetype="chemical/x-mmcif" if is_cif else "chemical/x-pdb")
    response.headers["Content-Disposition"] = f'inline; filename="{name}"'
    response.headers["Cache-Control"] = "public, max-age=86400"
    return response


class StructureNotFound(InferenceError):
    """No staged structure file for this PDB id (HTTP 404)."""

    status_code = 404


def _not_found(pdb_id: str) -> StructureNotFound:
    return StructureNotFound(f"structure {pdb_id!r}: no staged structure with this PDB id")
