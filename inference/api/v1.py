"""The server-wide v1 route: ``GET /api/v1/model-info``.

It keeps the seed's fields at the top (the sequence engine's ``model_name``, ``model_version``,
``tasks``, ``labels``, ``metrics`` and ``limits``) and describes every configured engine under
``engines``: what its ``info()`` says, plus its ``limits`` (what a caller must check before
sending) and its ``result_schema`` (the JSON Schema of a successful answer), both published even
while the engine's model is not loaded. ``retrain`` is the retraining run's progress.
Each engine's own routes live in ``inference/api/<engine>.py``.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint

from inference.api import server_state
from inference.engines.base import DISCLAIMER
from inference.errors import NotReady, redact_paths
from inference.state import ServerState

bp = Blueprint("v1", __name__, url_prefix="/api/v1")

# Seed-compatible top-level fields of model-info, taken from the sequence engine's info().
_SEED_INFO_FIELDS = ("model_name", "tasks", "labels", "metrics")


def _engine_info(state: ServerState, kind: str) -> dict[str, Any]:
    registry = state.registry
    status = registry.status()[kind]
    try:
        engine = registry.get(kind)
    except NotReady:
        error = redact_paths(status["error"]) if status["error"] else None
        info: dict[str, Any] = {"name": kind, "loaded": False, "error": error, "version": None}
    else:
        info = dict(engine.info())
        info.setdefault("name", kind)
        info.setdefault("loaded", True)
        info.setdefault("version", engine.version or status["version"])
        info.setdefault("model_version", info["version"])
        if status["reloading"]:
            info["reloading"] = True
    try:
        engine_class = registry.engine_class(kind)
    except ImportError:  # the load failed for the same reason; /ready and "error" say so
        return info
    info["limits"] = engine_class.limits(state.config)
    info["result_schema"] = engine_class.result_schema
    return info


def _seed_limits(sequence_limits: dict[str, Any]) -> dict[str, Any]:
    """The seed's top-level ``limits`` block, from the sequence engine's limits."""
    return {
        "max_body_bytes": sequence_limits["max_body_bytes"],
        "protein_length": [
            sequence_limits["min_protein_length"],
            sequence_limits["max_protein_length"],
        ],
        "max_nucleotide_length": sequence_limits["max_nucleotide_length"],
        "max_batch_items": sequence_limits["max_batch_items"],
    }


@bp.get("/model-info")
def model_info() -> dict[str, Any]:
    state = server_state()
    engines = {kind: _engine_info(state, kind) for kind in state.registry.kinds}
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
    body["retrain"] = state.retrain.status()
    body["limits"] = _seed_limits(state.registry.engine_class("sequence").limits(state.config))
    body["disclaimer"] = DISCLAIMER
    body["started_at"] = state.started_at.isoformat(timespec="seconds")
    return body
