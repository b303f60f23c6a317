"""The omics analysis kinds. Each takes ``{table_file}``: a patient file of role ``omics_table``
with one sample row, resolved through the file access rule in ``prepare``. ``run`` sends the
table to the inference server and stores the figures as artifacts: ``features.png`` for both,
``survival.png`` and ``survival.json`` (the risk group's curve, band and numbers at risk) for
TCGA-PAAD.
"""

from __future__ import annotations

import csv
import io
import json
from typing import TYPE_CHECKING, Any

from cdss.common.exceptions import ApplicationError
from cdss.files.selectors import patient_file_get_for_user
from cdss.jobs.kinds import AnalysisKind, input_reference_error
from cdss.jobs.services import analysis_artifact_store
from cdss.ml.client import get_client
from cdss.omics import figures
from cdss.omics.schemas import OmicsInputSerializer, PaadResultSerializer, RosmapResultSerializer

if TYPE_CHECKING:
    from cdss.accounts.models import User
    from cdss.jobs.models import Analysis
    from cdss.patients.models import Patient

# How many of the features that drove a result are listed and drawn.
TOP_FEATURES = 20


def _prepare(*, user: User, patient: Patient | None, inputs: dict[str, Any]) -> dict[str, Any]:
    table = patient_file_get_for_user(
        user=user, file_id=inputs["table_file"], patient=patient, role="omics_table"
    )
    if table is None:
        raise input_reference_error("table_file")
    rows = int(table.metadata.get("rows", 0))
    if rows != 1:
        raise ApplicationError(
            f"inputs.table_file: an omics analysis reads one patient's sample row; this table "
            f"has {rows}",
            detail={"inputs": {"table_file": ["Exactly one sample row is needed."]}},
        )
    return {"table_file": table.pk}


def _as_csv(data: bytes, file_format: str) -> bytes:
    """The inference server reads CSV; a TSV upload is rewritten as CSV."""
    if file_format != "tsv":
        return data
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    for row in csv.reader(io.StringIO(data.decode("utf-8-sig")), delimiter="\t"):
        writer.writerow(row)
    return out.getvalue().encode("utf-8")


def _predict(analysis: Analysis, model: str) -> dict[str, Any]:
    from cdss.files.models import PatientFile

    table = PatientFile.objects.get(pk=analysis.inputs["table_file"])
    answer = get_client().omics_predict_table(
        model=model,
        table=_as_csv(table.path.read_bytes(), table.format),
        filename=table.name or "table.csv",
        top_k=TOP_FEATURES,
    )
    (row,) = answer["results"]
    if not row.get("ok"):
        raise ApplicationError(f"table_file: {row.get('error', 'the model refused the sample')}")
    return {**row, "model_version": answer.get("model_version") or row.get("model_version")}


def _common(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "ok": True,
        "model": str(row["model"]),
        "model_name": str(row["model_name"]),
        "model_version": str(row["model_version"]),
        "sample_id": row.get("id"),
        "top_features": [
            {
                "layer": f["layer"],
                "feature": f["feature"],
                "value": f["value"],
                "contribution": f["contribution"],
                "direction": f["towards"],
            }
            for f in row["top_features"]
        ],
        "layers_used": list(row["layers_used"]),
        "missing_layers": list(row["missing_layers"]),
        "missing_layer": bool(row["missing_layers"]),
        "confidence": str(row["confidence"]),
        "confidence_reasons": list(row["confidence_reasons"]),
        "disclaimer": str(row["disclaimer"]),
    }


def _store_png(analysis: Analysis, name: str, data: bytes) -> None:
    analysis_artifact_store(analysis=analysis, name=name, content_type="image/png", data=data)


def _run_rosmap(analysis: Analysis) -> dict[str, Any]:
    row = _predict(analysis, "rosmap")
    label = str(row["label"])
    result = {
        **_common(row),
        "predicted_class": label,
        "probability": float(row["probabilities"][label]),
        "probabilities": {k: float(v) for k, v in row["probabilities"].items()},
    }
    title = f"ROSMAP: {label} (p = {result['probability']:.2f}); features that drove it"
    _store_png(analysis, "features.png", figures.features_png(row, title=title))
    return result


def _paad_evidence() -> str:
    omics = get_client().engine_info("omics") or {}
    metrics = (omics.get("models") or {}).get("tcga_paad", {}).get("metrics", {})
    test, cv = metrics.get("test_cindex"), metrics.get("repeated_cv_cindex_mean")
    if test is None or cv is None:
        return "Weak evidence: see the model card for its C-index."
    return (
        f"Weak evidence: C-index {test:.2f} on the 45-patient test split and {cv:.2f} in "
        "repeated cross-validation (0.5 is chance). Group-level curve, not a personal prognosis."
    )


def _run_paad(analysis: Analysis) -> dict[str, Any]:
    row = _predict(analysis, "tcga_paad")
    points = figures.survival_points(row)
    result = {
        **_common(row),
        "risk_score": float(row["risk_score"]),
        "risk_group": str(row["risk_group"]),
        "risk_percentile": float(row["risk_percentile"]),
        "group_median_survival_days": row.get("group_median_survival_days"),
        "group_size": {k: int(v) for k, v in row["group_size"].items()},
        "predicted_survival": {k: float(v) for k, v in row["predicted_survival"].items()},
        "survival_curve": points,
        "at_risk": row.get("group_at_risk") or [],
        "evidence": _paad_evidence(),
    }
    group = result["risk_group"]
    _store_png(
        analysis,
        "survival.png",
        figures.survival_png(
            row, title=f"TCGA-PAAD {group}-risk group: overall survival of training patients"
        ),
    )
    survival = {
        "model_name": result["model_name"],
        "model_version": result["model_version"],
        "risk_group": group,
        "points": points,
        "at_risk": result["at_risk"],
        "disclaimer": result["disclaimer"],
    }
    analysis_artifact_store(
        analysis=analysis,
        name="survival.json",
        content_type="application/json",
        data=json.dumps(survival).encode("utf-8"),
    )
    _store_png(
        analysis,
        "features.png",
        figures.features_png(row, title=f"TCGA-PAAD risk {group}: features that drove it"),
    )
    return result


OMICS_ROSMAP = AnalysisKind(
    name="omics_rosmap",
    input=OmicsInputSerializer,
    prepare=_prepare,
    run=_run_rosmap,
    result=RosmapResultSerializer,
    queue="omics",
    time_limit=120,
    max_attempts=3,
)

OMICS_PAAD_SURVIVAL = AnalysisKind(
    name="omics_paad_survival",
    input=OmicsInputSerializer,
    prepare=_prepare,
    run=_run_paad,
    result=PaadResultSerializer,
    queue="omics",
    time_limit=120,
    max_attempts=3,
)

KINDS = (OMICS_ROSMAP, OMICS_PAAD_SURVIVAL)
