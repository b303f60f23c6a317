"""The built-in ``pipeline_check`` kind: needs no patient and returns at once.

Operators submit it to check that workers answer end to end (API -> broker -> worker -> database
-> live status); the jobs benchmark submits it by the thousand.
"""

from __future__ import annotations

import json
import os
import socket
from typing import TYPE_CHECKING, Any

from django.utils import timezone

from cdss.common.exceptions import ApplicationError
from cdss.common.tabular import TSV_CONTENT_TYPE, tsv_bytes
from cdss.jobs.kinds import AnalysisKind, register_kind

if TYPE_CHECKING:
    from cdss.jobs.models import Analysis

NAME = "pipeline_check"
_MAX_NOTE = 200


def validate_inputs(inputs: dict[str, Any]) -> dict[str, Any]:
    unknown = sorted(set(inputs) - {"note"})
    if unknown:
        raise ApplicationError(
            f"inputs: unknown field(s) {unknown}",
            detail={"inputs": {k: ["Unknown field."] for k in unknown}},
        )
    note = inputs.get("note", "")
    if not isinstance(note, str) or len(note) > _MAX_NOTE:
        raise ApplicationError(
            f"inputs.note: must be a string of at most {_MAX_NOTE} characters",
            detail={"inputs": {"note": [f"A string of at most {_MAX_NOTE} characters."]}},
        )
    return {"note": note} if note else {}


def run(analysis: Analysis) -> dict[str, Any]:
    return {
        "ok": True,
        "note": analysis.inputs.get("note", ""),
        "worker": f"{socket.gethostname()}:{os.getpid()}",
        "checked_at": timezone.now().isoformat(),
    }


def _render_tsv(result: dict[str, Any]) -> tuple[str, bytes]:
    rows = [(k, json.dumps(v)) for k, v in sorted(result.items())]
    return TSV_CONTENT_TYPE, tsv_bytes(["key", "value"], rows)


KIND = AnalysisKind(
    name=NAME,
    validate_inputs=validate_inputs,
    run=run,
    patient_required=False,
    max_attempts=3,
    renderers={"tsv": _render_tsv},
)


def register() -> None:
    register_kind(KIND)
