"""Reads behind the FHIR resources, in a fixed number of queries per request (no N+1).

Every function here takes a patient or analysis the caller already reached through the access
path (``cdss.interop.fhir.access``), or ``user`` where it lists: it never widens what the caller
may see. An analysis is served as FHIR only when it is COMPLETED and of a clinical kind
(``CLINICAL_KINDS``), never the chained ``interpretation``/``report`` analyses or a pipeline check.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from cdss.accounts.models import User
from cdss.files.models import FileRole, PatientFile
from cdss.jobs.models import Analysis, AnalysisArtifact, Status
from cdss.jobs.selectors import analysis_list_for_user
from cdss.patients.models import Patient
from cdss.reports.models import Interpretation

# The analysis kinds whose results are clinical findings, with the DiagnosticReport category
# (v2-0074) and Observation category (observation-category) each is filed under.
CLINICAL_KINDS: dict[str, tuple[str, str]] = {
    "ct": ("CT", "imaging"),
    "sequence_batch": ("MB", "laboratory"),
    "omics_rosmap": ("GE", "laboratory"),
    "omics_paad_survival": ("GE", "laboratory"),
}
_REPORT_PDF = r"^report-(ko|en)\.pdf$"


@dataclass
class AnalysisRecord:
    """One completed analysis with what FHIR shows of it."""

    analysis: Analysis
    result: dict[str, Any]
    # language -> the latest interpretation in it / the PDF of the latest report in it
    interpretations: dict[str, Interpretation] = field(default_factory=dict)
    reports: dict[str, AnalysisArtifact] = field(default_factory=dict)
    # the CT volume the analysis read (for ``derivedFrom``), when it is still the patient's
    volume_file_id: int | None = None


def _served(qs: Any) -> Any:
    return qs.filter(status=Status.COMPLETED, kind__in=list(CLINICAL_KINDS))


def _result_of(analysis: Analysis) -> dict[str, Any] | None:
    # A COMPLETED analysis has its result (written in the same transition); guard regardless.
    try:
        data = analysis.result.data
    except Analysis.result.RelatedObjectDoesNotExist:
        return None
    return data if isinstance(data, dict) else None


def _records(analyses: Iterable[Analysis]) -> list[AnalysisRecord]:
    """Attach interpretations and report PDFs of all the analyses in three queries."""
    records = [AnalysisRecord(analysis=a, result=data) for a in analyses if (data := _result_of(a))]
    by_id = {r.analysis.pk: r for r in records}
    if not by_id:
        return records
    interpretations = Interpretation.objects.filter(
        analysis_id__in=by_id, job__status=Status.COMPLETED
    ).order_by("-created_at", "-id")
    for interpretation in interpretations:
        chosen = by_id[interpretation.analysis_id].interpretations
        chosen.setdefault(interpretation.language, interpretation)
    report_jobs = Analysis.objects.filter(
        kind="report", status=Status.COMPLETED, inputs__analysis__in=list(by_id)
    )
    artifacts = (
        AnalysisArtifact.objects.filter(
            analysis__in=report_jobs.values("pk"), name__regex=_REPORT_PDF
        )
        .select_related("analysis")
        .order_by("-analysis__created_at", "-analysis_id")
    )
    for artifact in artifacts:
        source = artifact.analysis.inputs.get("analysis")
        language = artifact.name[len("report-") : -len(".pdf")]
        if source in by_id:
            by_id[source].reports.setdefault(language, artifact)
    volume_ids = {
        r.analysis.inputs.get("volume_file")
        for r in records
        if r.analysis.kind == "ct" and isinstance(r.analysis.inputs.get("volume_file"), int)
    }
    patient_ids = {r.analysis.patient_id for r in records}
    existing = set(
        PatientFile.objects.filter(
            pk__in=volume_ids, patient_id__in=patient_ids, role=FileRole.CT_VOLUME
        ).values_list("pk", flat=True)
    )
    for record in records:
        volume = record.analysis.inputs.get("volume_file")
        record.volume_file_id = volume if volume in existing else None
    return records


def analysis_record(*, analysis: Analysis) -> AnalysisRecord | None:
    """The record of an analysis the caller reached through the access path; None when it is not
    served as FHIR (not COMPLETED, not a clinical kind, or without a stored result)."""
    found = _served(Analysis.objects.filter(pk=analysis.pk)).select_related("result")
    records = _records(found)
    return records[0] if records else None


def patient_records(*, user: User, patient: Patient) -> list[AnalysisRecord]:
    """Every served analysis of a patient the caller reached through the access path, newest
    first, through the one analysis rule as well."""
    analyses = _served(analysis_list_for_user(user=user, patient_id=patient.pk)).select_related(
        "result"
    )
    return _records(analyses)


def patient_ct_volumes(*, patient: Patient) -> list[PatientFile]:
    """The CT volumes uploaded for a patient the caller reached through the access path."""
    return list(
        PatientFile.objects.filter(patient=patient, role=FileRole.CT_VOLUME).order_by(
            "-created_at", "-id"
        )
    )


def device_versions() -> list[tuple[str, str]]:
    """The model versions behind any served analysis: the Devices this server knows. Model names
    and versions are not patient data, so they are listed regardless of who asks."""
    rows = (
        _served(Analysis.objects.all())
        .exclude(model_name="")
        .values_list("model_name", "model_version")
        .distinct()
        .order_by("model_name", "model_version")
    )
    return [(str(name), str(version)) for name, version in rows]
