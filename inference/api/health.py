"""Liveness and readiness: ``GET /health`` (the process answers) and ``GET /ready`` (models loaded).

``/health`` is the seed's status call and always answers 200 while the process runs;
``/ready`` answers 200 only when every configured engine has a loaded model, else 503 naming the
ones that do not (a load balancer takes the worker out of rotation meanwhile).
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint

from inference.api import server_state

bp = Blueprint("health", __name__)


@bp.get("/health")
def health() -> dict[str, Any]:
    registry = server_state().registry
    return {"ok": True, "status": "alive", "model_version": registry.version("sequence")}


@bp.get("/ready")
def ready() -> tuple[dict[str, Any], int]:
    registry = server_state().registry
    status = registry.status()
    missing = registry.not_loaded()
    if missing:
        reasons = "; ".join(status[kind]["error"] or f"{kind}: not loaded" for kind in missing)
        body = {
            "ok": False,
            "ready": False,
            "error": f"not ready: {', '.join(missing)} not loaded ({reasons})",
            "not_loaded": missing,
            "engines": status,
        }
        return body, 503
    return {"ok": True, "ready": True, "engines": status}, 200
