"""HTTP routes of the sequence engine, seed-compatible: predict (one sequence or a batch), retrain
(and its status), structures.

Each route parses the request, calls one service (``inference.engines.sequence.service``,
``inference.retrain``) or the engine, and serializes; errors are raised as ``inference.errors``
types and turned into JSON by the app factory.
"""

from __future__ import annotations

import gzip
import re
from pathlib import Path
from typing import Any

from flask import Blueprint, Response

from inference.api import request_json, server_state
from inference.engines.sequence.service import parse_options, predict_batch, predict_single
from inference.errors import InferenceError, InvalidInput
from inference.retrain import parse_retrain_request

bp = Blueprint("sequence", __name__, url_prefix="/api/v1")

# PDB identifiers: a digit and three letters/digits.
_PDB_ID = re.compile(r"^[0-9][A-Za-z0-9]{3}$")


@bp.post("/predict")
def predict() -> dict[str, Any]:
    body = request_json()
    options = parse_options(body)
    state = server_state()
    if "items" in body:
        if "sequence" in body:
            raise InvalidInput(
                "body: send either 'sequence' (one sample) or 'items' (a batch), not both",
                field="body",
            )
        engine = state.engines["sequence"]
        return predict_batch(
            body,
            engine,
            default_version=state.registry.version("sequence"),
            default_name=getattr(engine, "model_name", None),
            options=options,
        )
    return predict_single(body, state.engines["sequence"], options=options)


@bp.post("/retrain")
def retrain() -> dict[str, Any]:
    body = request_json()
    state = server_state()
    data_path, epochs, batch_size = parse_retrain_request(body, state.config.training_data_roots)
    job = state.retrain.start(data_path=data_path, epochs=epochs, batch_size=batch_size)
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
    return {"ok": True, **server_state().retrain.job_status()}


@bp.get("/structures/<pdb_id>")
def structure(pdb_id: str) -> Response:
    if not _PDB_ID.match(pdb_id):
        raise _not_found(pdb_id)
    engine = server_state().engines["sequence"]
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
