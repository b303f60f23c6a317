"""Analysis kinds used only by the tests, in the shape every kind has.

Registered like any kind: worker processes started by the reliability tests register ``KINDS``
from ``JobsConfig.ready()`` through ``CDSS_JOBS_KIND_MODULES=cdss.jobs.tests.kinds``; the in-process
tests' conftest registers them with the same ``register_kinds``.
"""

from __future__ import annotations

import threading
import time
from typing import Any

from rest_framework import serializers

from cdss.accounts.models import User
from cdss.common.exceptions import ApplicationError
from cdss.common.serializers import IdField, StrictInputSerializer, StrictSerializer
from cdss.files.selectors import patient_file_get_for_user
from cdss.jobs.kinds import AnalysisKind, RunLater, input_reference_error
from cdss.jobs.models import Analysis, Status
from cdss.jobs.selectors import analysis_get_for_user
from cdss.jobs.services import analysis_artifact_store, analysis_state_save
from cdss.ml.client import get_client
from cdss.patients.models import Patient


class SecondsInput(StrictInputSerializer):
    seconds = serializers.FloatField(min_value=0, max_value=10, default=0.0)


class AnyInput(serializers.Serializer):  # type: ignore[type-arg]
    """Takes anything, keeps nothing."""


class HeldResult(StrictSerializer):
    held = serializers.FloatField()
    model_name = serializers.CharField()
    model_version = serializers.CharField()


class HealthResult(StrictSerializer):
    health = serializers.DictField()


class AnyResult(serializers.Serializer):  # type: ignore[type-arg]
    """A result of any shape (the kinds that never complete)."""


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


# --- a follow-up: inputs that refer to an earlier analysis, resolved by prepare -----------------


class FollowUpInput(StrictInputSerializer):
    earlier = IdField(help_text="A COMPLETED analysis of the same patient")


class FollowUpResult(StrictSerializer):
    earlier = serializers.IntegerField()
    earlier_kind = serializers.CharField()


def _prepare_follow_up(
    *, user: User, patient: Patient | None, inputs: dict[str, Any]
) -> dict[str, Any]:
    earlier = analysis_get_for_user(user=user, analysis_id=inputs["earlier"])
    if earlier is None or patient is None or earlier.patient_id != patient.pk:
        raise input_reference_error("earlier")
    if earlier.status != Status.COMPLETED:
        raise ApplicationError(
            "inputs.earlier: not COMPLETED yet",
            detail={"inputs": {"earlier": ["Not COMPLETED yet."]}},
        )
    return {"earlier": earlier.pk, "earlier_kind": earlier.kind}


def _follow_up(analysis: Analysis) -> dict[str, Any]:
    return {"earlier": analysis.inputs["earlier"], "earlier_kind": analysis.inputs["earlier_kind"]}


# --- a file input: an uploaded table of the analysis's patient, resolved by prepare -------------


class TableInput(StrictInputSerializer):
    table = IdField(help_text="An omics table uploaded for the analysis's patient")


class TableResult(StrictSerializer):
    table_sha256 = serializers.CharField()


def _prepare_table(
    *, user: User, patient: Patient | None, inputs: dict[str, Any]
) -> dict[str, Any]:
    found = patient_file_get_for_user(
        user=user, file_id=inputs["table"], patient=patient, role="omics_table"
    )
    if found is None or patient is None:
        raise input_reference_error("table")
    return {"table": found.pk, "table_sha256": found.sha256}


def _table(analysis: Analysis) -> dict[str, Any]:
    return {"table_sha256": analysis.inputs["table_sha256"]}


# --- artifacts, polling, a result of the wrong shape, a run past its time limit ------------------

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 24


def _plot(analysis: Analysis) -> dict[str, Any]:
    analysis_artifact_store(analysis=analysis, name="plot.png", content_type="image/png", data=PNG)
    analysis_artifact_store(
        analysis=analysis, name="report.pdf", content_type="application/pdf", data=b"%PDF-1.4 x"
    )
    return {"held": 0.0, "model_name": "plot", "model_version": "1"}


def _poll_twice(analysis: Analysis) -> dict[str, Any] | RunLater:
    polls = int(analysis.state.get("polls", 0)) + 1
    analysis_state_save(analysis=analysis, state={"polls": polls})
    if polls < 3:
        return RunLater(seconds=30)
    return {"held": float(polls), "model_name": "poll", "model_version": "1"}


def _misshapen(analysis: Analysis) -> dict[str, Any]:
    return {"held": "not a number", "model_name": "x", "model_version": "1", "surprise": 1}


# Set by a test when the engine has failed the overrunning analysis; its run then ends.
OVERRUN_RELEASE = threading.Event()


def _overrun(analysis: Analysis) -> dict[str, Any]:
    if not OVERRUN_RELEASE.wait(timeout=10):  # a deadline, should the engine never act
        raise RuntimeError("the engine never enforced the time limit")
    return {"held": 0.0, "model_name": "overrun", "model_version": "1"}


HOLD = AnalysisKind(
    name="test_hold",
    input=SecondsInput,
    run=_hold,
    result=HeldResult,
    patient_required=False,
    renderers={"tsv": _tsv},
)
HOLD_WITH_PATIENT = AnalysisKind(
    name="test_patient_hold", input=SecondsInput, run=_hold, result=HeldResult
)
CRASH = AnalysisKind(
    name="test_crash",
    input=AnyInput,
    run=_crash,
    result=AnyResult,
    patient_required=False,
    max_attempts=3,
)
INFERENCE_HEALTH = AnalysisKind(
    name="test_inference_health",
    input=AnyInput,
    run=_inference_health,
    result=HealthResult,
    patient_required=False,
    max_attempts=3,
)
REJECT = AnalysisKind(
    name="test_reject", input=AnyInput, run=_reject, result=AnyResult, patient_required=False
)
ENGINEERS_ONLY = AnalysisKind(
    name="test_engineers_only",
    input=SecondsInput,
    run=_hold,
    result=HeldResult,
    patient_required=False,
    allowed_roles=frozenset({"ml_engineer"}),
)
FOLLOW_UP = AnalysisKind(
    name="test_follow_up",
    input=FollowUpInput,
    prepare=_prepare_follow_up,
    run=_follow_up,
    result=FollowUpResult,
)
TABLE = AnalysisKind(
    name="test_table", input=TableInput, prepare=_prepare_table, run=_table, result=TableResult
)
PLOT = AnalysisKind(name="test_plot", input=AnyInput, run=_plot, result=HeldResult)
POLL = AnalysisKind(
    name="test_poll",
    input=AnyInput,
    run=_poll_twice,
    result=HeldResult,
    patient_required=False,
    queue="imaging",
)
MISSHAPEN = AnalysisKind(
    name="test_misshapen", input=AnyInput, run=_misshapen, result=HeldResult, patient_required=False
)
OVERRUN = AnalysisKind(
    name="test_overrun",
    input=AnyInput,
    run=_overrun,
    result=HeldResult,
    patient_required=False,
    time_limit=0.05,
)

KINDS = (
    HOLD,
    HOLD_WITH_PATIENT,
    CRASH,
    INFERENCE_HEALTH,
    REJECT,
    ENGINEERS_ONLY,
    FOLLOW_UP,
    TABLE,
    PLOT,
    POLL,
    MISSHAPEN,
    OVERRUN,
)
