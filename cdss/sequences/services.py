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


def _outcome(error: InferenceError | None) -> dict[str, Any]:
    if error is None:
        return {"outcome": "ok", "http_status": 200, "error_message": ""}
    return {
        "outcome": error.code,
        "http_status": error.status_code,
        "error_message": error.message[:2000],
    }


def _log(
    *,
    user: User | None,
    input_data: dict[str, Any],
    output_data: dict[str, Any],
    item_count: int,
    hashed: dict[str, Any],
    outcome: str,
    http_status: int,
    error_message: str = "",
    patient: Patient | None = None,
    doctor_name: str = "",
    patient_name: str = "",
    model_name: str = "",
    model_version: str = "",
    latency_ms: float = 0.0,
) -> InferenceLog:
    """The one writer of InferenceLog rows; ``hashed`` is what the input hash is taken of."""
    return InferenceLog.objects.create(
        user=user,
        patient=patient,
        doctor_name=doctor_name[:100],
        patient_name=patient_name[:100],
        input_data=input_data,
        output_data=output_data,
        kind=InferenceLog.Kind.BATCH if "items" in hashed else InferenceLog.Kind.SINGLE,
        item_count=item_count,
        input_hash=input_hash(hashed),
        model_name=model_name[:100],
        model_version=model_version[:100],
        latency_ms=latency_ms,
        outcome=outcome,
        http_status=http_status,
        error_message=error_message,
    )


def inference_log_record_refused(
    *, user: User, input_data: dict[str, Any], code: str, status: int, message: str
) -> InferenceLog:
    """The log row of a predict call refused before it reached the inference server."""
    items = input_data.get("items")
    return _log(
        user=user,
        input_data=input_data,
        output_data={"ok": False, "error": message[:2000]},
        item_count=len(items) if isinstance(items, list) else 1,
        hashed=input_data,
        outcome=code,
        http_status=status,
        error_message=message[:2000],
    )


def _linked_patient(
    *, user: User, patient_id: int | None, action: str, object_type: str, payload: dict[str, Any]
) -> Patient | None:
    """The patient a predict call names, through the audited access path; a refusal is a 404
    that still gets its log row (without the patient)."""
    if patient_id is None:
        return None
    try:
        return patient_for_request(
            user=user,
            patient_id=patient_id,
            action=action,
            object_type=object_type,
            audit_success=False,
        )
    except Http404:
        inference_log_record_refused(
            user=user,
            input_data=payload,
            code="patient_not_found",
            status=404,
            message="patient_id: not found",
        )
        raise


def sequence_predict(*, user: User, request: PredictRequest) -> tuple[dict[str, Any], InferenceLog]:
    """Calls the inference server and writes exactly one InferenceLog, also on failure."""
    patient = _linked_patient(
        user=user,
        patient_id=request.patient_id,
        action="sequence.predict",
        object_type="inference_log",
        payload=request.payload,
    )
    started = time.perf_counter()
    body: dict[str, Any] | None = None
    error: InferenceError | None = None
    try:
        body = get_client().predict(request.payload, batch=request.is_batch)
    except InferenceError as exc:
        error = exc
    model_name, model_version = _model_fields(body)
    log = _log(
        user=user,
        patient=patient,
        doctor_name=request.doctor_name,
        patient_name=request.patient_name,
        input_data=request.payload,
        output_data=body if body is not None else {"ok": False, "error": error and error.message},
        item_count=request.item_count,
        hashed=request.payload,
        model_name=model_name,
        model_version=model_version,
        latency_ms=(time.perf_counter() - started) * 1000,
        **_outcome(error),
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
    return _log(
        user=analysis.requested_by,
        patient=analysis.patient,
        doctor_name=str(inputs.get("doctor_name", "")),
        patient_name=str(inputs.get("patient_name", "")),
        input_data={"analysis_id": analysis.pk, "items": item_count, **inputs.get("options", {})},
        output_data={"ok": error is None, "analysis_id": analysis.pk}
        if error is None
        else {"ok": False, "error": error.message},
        item_count=item_count,
        hashed=inputs,
        model_name=model_name,
        model_version=model_version,
        latency_ms=latency_ms,
        **_outcome(error),
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
    patient = _linked_patient(
        user=user,
        patient_id=patient_id,
        action="analysis.create",
        object_type="analysis",
        payload=payload,
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
