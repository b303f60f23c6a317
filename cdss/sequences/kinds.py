"""The sequence analysis kinds run by workers: large batches and retraining.

``sequence_batch`` takes up to 10,000 sequences (items or a multi-FASTA text), sends them to the
inference server in chunks within the batch timeout, and keeps every item's answer; its result
downloads as JSON or TSV. ``sequence_retrain`` starts a retraining run on the inference server and
follows it until the server reports it finished, promoted or not.
"""

from __future__ import annotations

import json
import time
from typing import TYPE_CHECKING, Any

from django.conf import settings
from rest_framework import serializers

from cdss.accounts.models import Role
from cdss.common.exceptions import ApplicationError
from cdss.common.tabular import TSV_CONTENT_TYPE, tsv_bytes
from cdss.jobs.kinds import AnalysisKind
from cdss.ml.client import InferenceError, get_client
from cdss.sequences.fasta import MAX_FASTA_RECORDS, fasta_to_items
from cdss.sequences.serializers import PredictOptionsSerializer, RetrainInputSerializer
from cdss.sequences.services import record_batch_run

if TYPE_CHECKING:
    from cdss.jobs.models import Analysis

CHUNK = 250


OPTION_FIELDS = ("task3_threshold", "organism_hint", "top_k")


class BatchInputSerializer(PredictOptionsSerializer):
    items = serializers.ListField(
        child=serializers.JSONField(), required=False, min_length=1, max_length=MAX_FASTA_RECORDS
    )
    fasta = serializers.CharField(required=False, trim_whitespace=False)


def _clean(
    serializer_class: type[serializers.Serializer], inputs: dict[str, Any]
) -> dict[str, Any]:  # type: ignore[type-arg]
    """Validated inputs, or an ApplicationError (400) that names the first bad field."""
    data = serializer_class(data=inputs)
    if not data.is_valid():
        field, errors = next(iter(data.errors.items()))
        raise ApplicationError(f"{field}: {errors[0]}", detail=dict(data.errors))
    return dict(data.validated_data)


def _validate_batch(inputs: dict[str, Any]) -> dict[str, Any]:
    values = _clean(BatchInputSerializer, inputs)
    if ("items" in values) == ("fasta" in values):
        raise ApplicationError(
            "items: give exactly one of items or fasta", detail={"items": "or fasta"}
        )
    seq_type = values.pop("seq_type", "auto")
    if "fasta" in values:
        values["items"] = fasta_to_items(values.pop("fasta"), seq_type=seq_type)
    picked = {k: values.pop(k, None) for k in OPTION_FIELDS}
    return {**values, "options": {k: v for k, v in picked.items() if v is not None}}


def _run_batch(analysis: Analysis) -> dict[str, Any]:
    inputs = analysis.inputs
    items: list[Any] = inputs["items"]
    options: dict[str, Any] = inputs.get("options", {})
    client = get_client()
    results: list[dict[str, Any]] = []
    model_version = ""
    model_name = ""
    started = time.perf_counter()
    error: InferenceError | None = None
    try:
        for offset in range(0, len(items), CHUNK):
            body = client.predict({"items": items[offset : offset + CHUNK], **options}, batch=True)
            model_version = str(body.get("model_version") or model_version)
            for item in body["results"]:
                item["index"] = int(item.get("index", 0)) + offset
                model_name = model_name or str(item.get("model_name") or "")
                results.append(item)
    except InferenceError as exc:
        error = exc
    record_batch_run(
        analysis=analysis,
        item_count=len(items),
        latency_ms=(time.perf_counter() - started) * 1000,
        model_name=model_name,
        model_version=model_version,
        error=error,
    )
    if error is not None:
        raise error
    ok = sum(1 for r in results if r.get("ok"))
    return {
        "ok": True,
        "batch": True,
        "model_name": model_name,
        "model_version": model_version,
        "count": len(results),
        "ok_count": ok,
        "failed_count": len(results) - ok,
        "results": results,
    }


TSV_COLUMNS = [
    "index",
    "id",
    "ok",
    "input_type",
    "length",
    "frame",
    "is_pathogen",
    "pathogen_probability",
    "protein_type",
    "protein_type_probability",
    "task3_top1",
    "task3_top1_probability",
    "confidence",
    "nearest_reference",
    "nearest_identity",
    "nearest_coverage",
    "error",
]


def _tsv_row(item: dict[str, Any]) -> list[Any]:
    prediction = item.get("prediction") or {}
    info = (item.get("translation") or {}).get("info") or {}
    top = ((prediction.get("task3") or {}).get("top_predictions") or [[None, None]])[0]
    nearest = (item.get("nearest_references") or [{}])[0]
    return [
        item.get("index"),
        item.get("id"),
        item.get("ok"),
        info.get("input_type"),
        info.get("length"),
        info.get("frame"),
        (prediction.get("task1") or {}).get("is_pathogen"),
        (prediction.get("task1") or {}).get("probability"),
        (prediction.get("task2") or {}).get("protein_type"),
        (prediction.get("task2") or {}).get("probability"),
        top[0],
        top[1],
        item.get("confidence"),
        nearest.get("id"),
        nearest.get("identity"),
        nearest.get("coverage"),
        item.get("error"),
    ]


def render_tsv(result: dict[str, Any]) -> tuple[str, bytes]:
    rows = (_tsv_row(item) for item in result.get("results", []))
    return TSV_CONTENT_TYPE, tsv_bytes(TSV_COLUMNS, rows)


def render_json(result: dict[str, Any]) -> tuple[str, bytes]:
    return "application/json", json.dumps(result, ensure_ascii=False).encode("utf-8")


def _validate_retrain(inputs: dict[str, Any]) -> dict[str, Any]:
    return _clean(RetrainInputSerializer, inputs)


def _run_retrain(analysis: Analysis) -> dict[str, Any]:
    client = get_client()
    client.retrain(analysis.inputs)
    deadline = time.monotonic() + settings.CDSS_RETRAIN_MAX_SECONDS
    while time.monotonic() < deadline:
        status = client.model_info().get("retrain") or {}
        if not status.get("running") and status.get("state") in {"completed", "failed"}:
            break
        # A worker-side wait between status polls of a run that takes minutes (lease kept alive).
        time.sleep(settings.CDSS_RETRAIN_POLL_SECONDS)
    else:
        raise ApplicationError("Retraining did not finish within CDSS_RETRAIN_MAX_SECONDS.")
    if status.get("state") == "failed":
        raise ApplicationError(f"Retraining failed: {status.get('message', 'no message')}")
    return {
        "ok": True,
        "model_name": "sequence",
        "model_version": str(status.get("version") or ""),
        "promoted": bool(status.get("promoted")),
        "metrics": status.get("metrics") or {},
        "message": status.get("message", ""),
    }


SEQUENCE_BATCH = AnalysisKind(
    name="sequence_batch",
    validate_inputs=_validate_batch,
    run=_run_batch,
    patient_required=False,
    max_attempts=5,
    renderers={"json": render_json, "tsv": render_tsv},
)

SEQUENCE_RETRAIN = AnalysisKind(
    name="sequence_retrain",
    validate_inputs=_validate_retrain,
    run=_run_retrain,
    patient_required=False,
    max_attempts=3,
    allowed_roles=frozenset({Role.ML_ENGINEER, Role.ADMIN}),
)
