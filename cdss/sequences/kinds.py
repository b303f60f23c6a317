"""The sequence analysis kinds run by workers: large batches and retraining.

``sequence_batch`` takes up to 10,000 sequences (items or a multi-FASTA text), sends them to the
inference server in chunks within the batch timeout, and keeps every item's answer; its result
downloads as JSON or TSV. The staged PDB files the items' task3 structures name are stored as
artifacts ``structure-<PDB id>.pdb``, so the web viewer reads them through the artifact route
(access-checked and audited like the result) and never from the inference server directly.

``sequence_retrain`` starts a retraining run on the inference server and follows it without
holding a worker: its first run starts the job and stores the server's job id in the analysis's
state, then asks to run again after CDSS_RETRAIN_POLL_SECONDS (``RunLater``); each later run
reads the job's status once. A run delivered again, or a new attempt after a worker died, finds
the job id and goes on following that job instead of starting another (which the server would
refuse with 409 while the first runs).
"""

from __future__ import annotations

import json
import logging
import re
import time
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.utils import timezone
from rest_framework import serializers

from cdss.accounts.models import Role
from cdss.common.exceptions import ApplicationError
from cdss.common.serializers import StrictSerializer
from cdss.common.tabular import TSV_CONTENT_TYPE, tsv_bytes
from cdss.jobs.kinds import AnalysisKind, RunLater
from cdss.jobs.services import analysis_artifact_store, analysis_state_save
from cdss.ml.client import InferenceBadResponse, InferenceError, get_client
from cdss.sequences.fasta import MAX_FASTA_RECORDS, fasta_to_items
from cdss.sequences.serializers import PredictOptionsSerializer, RetrainInputSerializer
from cdss.sequences.services import record_batch_run

if TYPE_CHECKING:
    from cdss.jobs.models import Analysis

CHUNK = 250
# The model ships a handful of staged structures; a batch names at most these many of them.
MAX_STRUCTURES = 8
STRUCTURE_MAX_BYTES = 32 * 1024 * 1024
STRUCTURE_CONTENT_TYPE = "chemical/x-pdb"
_PDB_ID = re.compile(r"^[0-9][A-Z0-9]{3}$")

logger = logging.getLogger(__name__)


OPTION_FIELDS = ("task3_threshold", "organism_hint", "top_k")


class BatchInputSerializer(PredictOptionsSerializer):
    """Sequences as ``items`` or as one multi-FASTA text, and the prediction options. Stored as
    ``items`` (a FASTA text parsed into them) and ``options``."""

    items = serializers.ListField(
        child=serializers.JSONField(), required=False, min_length=1, max_length=MAX_FASTA_RECORDS
    )
    fasta = serializers.CharField(required=False, trim_whitespace=False)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        attrs = super().validate(attrs)
        if ("items" in attrs) == ("fasta" in attrs):
            raise serializers.ValidationError({"items": ["Give exactly one of items or fasta."]})
        seq_type = attrs.pop("seq_type", "auto")
        if "fasta" in attrs:
            try:
                attrs["items"] = fasta_to_items(attrs.pop("fasta"), seq_type=seq_type)
            except ApplicationError as exc:
                raise serializers.ValidationError({"fasta": [exc.message]}) from None
        picked = {k: attrs.pop(k, None) for k in OPTION_FIELDS}
        return {**attrs, "options": {k: v for k, v in picked.items() if v is not None}}


class BatchResultSerializer(StrictSerializer):
    """Every item's answer, in input order; an item that failed carries its own error."""

    ok = serializers.BooleanField()
    batch = serializers.BooleanField()
    model_name = serializers.CharField(allow_blank=True)
    model_version = serializers.CharField(allow_blank=True)
    count = serializers.IntegerField(min_value=0)
    ok_count = serializers.IntegerField(min_value=0)
    failed_count = serializers.IntegerField(min_value=0)
    results = serializers.ListField(child=serializers.DictField())


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
    _store_structures(analysis, structure_ids(results))
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


def structure_artifact_name(pdb_id: str) -> str:
    return f"structure-{pdb_id.upper()}.pdb"


def structure_ids(results: list[dict[str, Any]]) -> list[str]:
    """The staged PDB entries (``local_file`` set) that the items' task3 structures name, in
    first-seen order, at most MAX_STRUCTURES."""
    ids: list[str] = []
    for item in results:
        hits = (item.get("task3_structure") or {}).get("uniprot_hits") or []
        for hit in hits:
            structure = hit.get("preferred_3d") or {}
            pdb_id = str(structure.get("id") or "").upper()
            staged = structure.get("source") == "pdb" and structure.get("local_file")
            if staged and _PDB_ID.match(pdb_id) and pdb_id not in ids:
                ids.append(pdb_id)
    return ids[:MAX_STRUCTURES]


def _store_structures(analysis: Analysis, pdb_ids: list[str]) -> None:
    """Each structure as an artifact. One the server cannot give is left out (the viewer says so
    and the result still links to the PDB entry): the predictions must not fail for a picture."""
    client = get_client()
    for pdb_id in pdb_ids:
        try:
            data = client.structure(pdb_id, max_bytes=STRUCTURE_MAX_BYTES)
        except InferenceError as exc:
            logger.warning("analysis %s: structure %s not stored: %s", analysis.pk, pdb_id, exc)
            continue
        analysis_artifact_store(
            analysis=analysis,
            name=structure_artifact_name(pdb_id),
            content_type=STRUCTURE_CONTENT_TYPE,
            data=data,
        )


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


class RetrainResultSerializer(StrictSerializer):
    ok = serializers.BooleanField()
    model_name = serializers.CharField()
    model_version = serializers.CharField(allow_blank=True, help_text="The version trained")
    promoted = serializers.BooleanField(help_text="Whether it became the served version")
    metrics = serializers.DictField()
    message = serializers.CharField(allow_blank=True)
    job_id = serializers.CharField(help_text="The inference server's retraining job")


def _poll_later() -> RunLater:
    return RunLater(seconds=float(settings.CDSS_RETRAIN_POLL_SECONDS))


def _past_deadline(state: dict[str, Any]) -> bool:
    try:
        started = datetime.fromisoformat(str(state["started_at"]))
    except (KeyError, ValueError):
        return False
    return timezone.now() > started + timedelta(seconds=settings.CDSS_RETRAIN_MAX_SECONDS)


def _run_retrain(analysis: Analysis) -> dict[str, Any] | RunLater:
    client = get_client()
    job_id = str(analysis.state.get("job_id") or "")
    if not job_id:
        started = client.retrain(analysis.inputs)
        job_id = str(started.get("job_id") or "")
        if not job_id:
            raise InferenceBadResponse("The inference server started retraining without a job id.")
        # Stored at once: whatever happens to this worker next, the job is followed, not restarted.
        analysis_state_save(
            analysis=analysis, state={"job_id": job_id, "started_at": timezone.now().isoformat()}
        )
        return _poll_later()
    status = client.retrain_status()
    if str(status.get("job_id") or "") != job_id:
        raise ApplicationError(
            "Retraining: the inference server no longer reports this run (another run replaced "
            "it, or its runtime folder was reset); its outcome is unknown."
        )
    state = status.get("state")
    if not status.get("running") and state in {"completed", "failed"}:
        if state == "failed":
            raise ApplicationError(f"Retraining failed: {status.get('message') or 'no message'}")
        return {
            "ok": True,
            "model_name": "sequence",
            "model_version": str(status.get("version") or ""),
            "promoted": bool(status.get("promoted")),
            "metrics": status.get("metrics") or {},
            "message": str(status.get("message") or ""),
            "job_id": job_id,
        }
    if _past_deadline(analysis.state):
        raise ApplicationError("Retraining did not finish within CDSS_RETRAIN_MAX_SECONDS.")
    return _poll_later()


SEQUENCE_BATCH = AnalysisKind(
    name="sequence_batch",
    input=BatchInputSerializer,
    run=_run_batch,
    result=BatchResultSerializer,
    patient_required=False,
    max_attempts=5,
    renderers={"json": render_json, "tsv": render_tsv},
)

SEQUENCE_RETRAIN = AnalysisKind(
    name="sequence_retrain",
    input=RetrainInputSerializer,
    run=_run_retrain,
    result=RetrainResultSerializer,
    # One run starts the job or reads its status once: short, however long the training takes.
    time_limit=max(120.0, settings.CDSS_INFERENCE_TIMEOUT_RETRAIN + 60.0),
    patient_required=False,
    max_attempts=3,
    allowed_roles=frozenset({Role.ML_ENGINEER, Role.ADMIN}),
)

KINDS = (SEQUENCE_BATCH, SEQUENCE_RETRAIN)
