"""Sequence prediction through the inference server, logged whatever the outcome."""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass
from typing import Any

from django.http import Http404

from cdss.accounts.models import User
from cdss.audit.models import Outcome
from cdss.audit.services import access_event_record
from cdss.jobs.models import Analysis
from cdss.jobs.services import analysis_submit
from cdss.ml.client import InferenceError, get_client
from cdss.patients.access import patient_for_request
from cdss.patients.models import Patient
from cdss.sequences.models import InferenceLog


@dataclass(frozen=True)
class PredictRequest:
    payload: dict[str, Any]  # what the inference server receives
    doctor_name: str = ""
    patient_name: str = ""
    patient_id: int | None = None

    @property
    def is_batch(self) -> bool:
        return "items" in self.payload

    @property
    def item_count(self) -> int:
        return len(self.payload["items"]) if self.is_batch else 1


def input_hash(payload: dict[str, Any]) -> str:
    canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def _model_fields(body: dict[str, Any] | None) -> tuple[str, str]:
    if not body:
        return "", ""
    name = body.get("model_name") or ""
    if not name:
        results = body.get("results") or []
        first_ok = next((r for r in results if isinstance(r, dict) and r.get("ok")), {})
        name = first_ok.get("model_name", "")
    return str(name)[:100], str(body.get("model_version") or "")[:100]


def inference_log_record_refused(
    *, user: User, input_data: dict[str, Any], code: str, status: int, message: str
) -> InferenceLog:
    """The log row of a predict call refused before it reached the inference server."""
    return InferenceLog.objects.create(
        user=user,
        input_data=input_data,
        output_data={"ok": False, "error": message[:2000]},
        kind=InferenceLog.Kind.BATCH if "items" in input_data else InferenceLog.Kind.SINGLE,
        item_count=len(input_data["items"]) if isinstance(input_data.get("items"), list) else 1,
        input_hash=input_hash(input_data),
        latency_ms=0.0,
        outcome=code,
        http_status=status,
        error_message=message[:2000],
    )


def sequence_predict(*, user: User, request: PredictRequest) -> tuple[dict[str, Any], InferenceLog]:
    """Calls the inference server and writes exactly one InferenceLog, also on failure.

    A linked patient is reached through the audited access path first; an inaccessible one is a
    404 (logged without the patient) before anything is sent.
    """
    patient: Patient | None = None
    if request.patient_id is not None:
        try:
            patient = patient_for_request(
                user=user,
                patient_id=request.patient_id,
                action="sequence.predict",
                object_type="inference_log",
                audit_success=False,
            )
        except Http404:
            inference_log_record_refused(
                user=user,
                input_data=request.payload,
                code="patient_not_found",
                status=404,
                message="patient_id: not found",
            )
            raise
    started = time.perf_counter()
    body: dict[str, Any] | None = None
    error: InferenceError | None = None
    try:
        body = get_client().predict(request.payload, batch=request.is_batch)
    except InferenceError as exc:
        error = exc
    latency_ms = (time.perf_counter() - started) * 1000
    model_name, model_version = _model_fields(body)
    log = InferenceLog.objects.create(
        user=user,
        patient=patient,
        doctor_name=request.doctor_name[:100],
        patient_name=request.patient_name[:100],
        input_data=request.payload,
        output_data=body if body is not None else {"ok": False, "error": error and error.message},
        kind=InferenceLog.Kind.BATCH if request.is_batch else InferenceLog.Kind.SINGLE,
        item_count=request.item_count,
        input_hash=input_hash(request.payload),
        model_name=model_name,
        model_version=model_version,
        latency_ms=latency_ms,
        outcome="ok" if error is None else error.code,
        http_status=200 if error is None else error.status_code,
        error_message="" if error is None else error.message[:2000],
    )
    if patient is not None:
        access_event_record(
            user=user,
            action="sequence.predict",
            outcome=Outcome.OK if error is None else Outcome.ERROR,
            patient_id=patient.pk,
            object_type="inference_log",
            object_id=str(log.pk),
        )
    if error is not None:
        raise error
    assert body is not None
    return body, log


def record_batch_run(
    *,
    analysis: Analysis,
    item_count: int,
    latency_ms: float,
    model_name: str,
    model_version: str,
    error: InferenceError | None,
) -> InferenceLog:
    """The one InferenceLog of a batch analysis attempt; its sequences stay in the analysis."""
    inputs = analysis.inputs
    return InferenceLog.objects.create(
        user=analysis.requested_by,
        patient=analysis.patient,
        doctor_name=str(inputs.get("doctor_name", ""))[:100],
        patient_name=str(inputs.get("patient_name", ""))[:100],
        input_data={"analysis_id": analysis.pk, "items": item_count, **inputs.get("options", {})},
        output_data={"ok": error is None, "analysis_id": analysis.pk}
        if error is None
        else {"ok": False, "error": error.message},
        kind=InferenceLog.Kind.BATCH,
        item_count=item_count,
        input_hash=input_hash(inputs),
        model_name=model_name[:100],
        model_version=model_version[:100],
        latency_ms=latency_ms,
        outcome="ok" if error is None else error.code,
        http_status=200 if error is None else error.status_code,
        error_message="" if error is None else error.message[:2000],
    )


def sequence_batch_submit(
    *,
    user: User,
    payload: dict[str, Any],
    patient_id: int | None,
    doctor_name: str,
    patient_name: str,
) -> Analysis:
    """A batch too large to answer in one request becomes a ``sequence_batch`` analysis."""
    patient = (
        patient_for_request(
            user=user,
            patient_id=patient_id,
            action="analysis.create",
            object_type="analysis",
            audit_success=False,
        )
        if patient_id is not None
        else None
    )
    options = {k: v for k, v in payload.items() if k != "items"}
    inputs = {
        "items": payload["items"],
        "doctor_name": doctor_name,
        "patient_name": patient_name,
        **options,
    }
    return analysis_submit(user=user, kind="sequence_batch", patient=patient, inputs=inputs)


def sequence_retrain_submit(*, user: User, payload: dict[str, Any]) -> Analysis:
    return analysis_submit(user=user, kind="sequence_retrain", patient=None, inputs=payload)
