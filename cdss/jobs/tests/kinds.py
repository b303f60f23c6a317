"""Analysis kinds used only by the tests, registered on import.

Worker processes started by the reliability tests import this module through
``CDSS_JOBS_KIND_MODULES=cdss.jobs.tests.kinds``.
"""

from __future__ import annotations

import time
from typing import Any

from cdss.common.exceptions import ApplicationError
from cdss.jobs.kinds import AnalysisKind, register_kind
from cdss.jobs.models import Analysis
from cdss.ml.client import get_client


def _seconds(inputs: dict[str, Any]) -> dict[str, Any]:
    seconds = inputs.get("seconds", 0.0)
    if not isinstance(seconds, (int, float)) or not 0 <= seconds <= 10:
        raise ApplicationError(
            "inputs.seconds: a number from 0 to 10", detail={"inputs": {"seconds": ["0 to 10."]}}
        )
    return {"seconds": float(seconds)}


def _hold(analysis: Analysis) -> dict[str, Any]:
    # The work under test: it takes a while, so a SIGKILL can land in the middle of it.
    time.sleep(analysis.inputs["seconds"])
    return {"held": analysis.inputs["seconds"], "model_name": "hold", "model_version": "1"}


def _crash(analysis: Analysis) -> dict[str, Any]:
    raise RuntimeError("this kind always crashes")


def _inference_health(analysis: Analysis) -> dict[str, Any]:
    return {"health": get_client().health()}


def _reject(analysis: Analysis) -> dict[str, Any]:
    raise ApplicationError("sequence: not a protein or DNA sequence")


def _tsv(result: dict[str, Any]) -> tuple[str, bytes]:
    return "text/tab-separated-values", f"held\n{result['held']}\n".encode()


def _any(inputs: dict[str, Any]) -> dict[str, Any]:
    return dict(inputs)


HOLD = AnalysisKind(
    name="test_hold",
    validate_inputs=_seconds,
    run=_hold,
    patient_required=False,
    renderers={"tsv": _tsv},
)
HOLD_WITH_PATIENT = AnalysisKind(name="test_patient_hold", validate_inputs=_seconds, run=_hold)
CRASH = AnalysisKind(
    name="test_crash", validate_inputs=_any, run=_crash, patient_required=False, max_attempts=3
)
INFERENCE_HEALTH = AnalysisKind(
    name="test_inference_health",
    validate_inputs=_any,
    run=_inference_health,
    patient_required=False,
    max_attempts=3,
)
REJECT = AnalysisKind(name="test_reject", validate_inputs=_any, run=_reject, patient_required=False)
ENGINEERS_ONLY = AnalysisKind(
    name="test_engineers_only",
    validate_inputs=_any,
    run=_hold,
    patient_required=False,
    allowed_roles=frozenset({"ml_engineer"}),
)

for _kind in (HOLD, HOLD_WITH_PATIENT, CRASH, INFERENCE_HEALTH, REJECT, ENGINEERS_ONLY):
    register_kind(_kind)
