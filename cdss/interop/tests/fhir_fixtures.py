"""Completed analyses as the platform stores them, for the FHIR tests and the benchmark.

Each is completed through ``analysis_complete`` (the real transition, which chains the Korean and
English interpretation and report jobs), and those jobs are then run by ``analysis_execute``: the
template interpretation and the real PDFs. Results are the declared shapes of
``cdss.reports.tests.results``; a CT analysis reads a NIfTI volume uploaded through the real
upload service.
"""

from __future__ import annotations

from typing import Any

from cdss.files.models import PatientFile
from cdss.files.tests.builders import nifti
from cdss.files.tests.factories import patient_file_of
from cdss.jobs.models import Analysis, Status
from cdss.jobs.services import analysis_complete, analysis_execute
from cdss.jobs.tests.factories import AnalysisFactory
from cdss.reports.tests.results import CT, PAAD, ROSMAP, sequence_batch

LESIONS = [
    {
        "index": 1,
        "volume_ml": 8.1,
        "largest_diameter_mm": 24.5,
        "hu_mean": 41.0,
        "centroid_mm": [10.0, 20.0, 30.0],
    },
    {
        "index": 2,
        "volume_ml": 4.2,
        "largest_diameter_mm": 17.0,
        "hu_mean": 38.5,
        "centroid_mm": [12.0, 22.0, 32.0],
    },
]
CT_WITH_LESIONS: dict[str, Any] = {**CT, "liver": {**CT["liver"], "lesions": LESIONS}}
SEQUENCES = sequence_batch(0.9731, 0.12)


def ct_volume(patient: Any, owner: Any) -> PatientFile:
    return patient_file_of(patient, owner, nifti((8, 8, 4)), role="ct_volume", name="abdomen.nii")


def run_chained(analysis: Analysis, *, reports: bool = True) -> None:
    """Run the interpretations chained to ``analysis``, then (``reports``) its PDF reports."""
    chained = Analysis.objects.filter(inputs__analysis=analysis.pk, status=Status.PENDING)
    for job in chained.filter(kind="interpretation").order_by("id"):
        analysis_execute(analysis_id=job.pk)
    if reports:
        for job in chained.filter(kind="report").order_by("id"):
            analysis_execute(analysis_id=job.pk)


def completed(
    patient: Any,
    owner: Any,
    kind: str,
    result: dict[str, Any],
    *,
    inputs: dict[str, Any] | None = None,
    chained: bool = True,
    reports: bool = True,
) -> Analysis:
    analysis = AnalysisFactory(
        patient=patient,
        requested_by=owner,
        kind=kind,
        status=Status.PROCESSING,
        lease_token="held",
        inputs=inputs if inputs is not None else {},
    )
    assert analysis_complete(analysis_id=analysis.pk, lease_token="held", result=result)
    if chained:
        run_chained(analysis, reports=reports)
    analysis.refresh_from_db()
    return analysis


def completed_ct(patient: Any, owner: Any, **kwargs: Any) -> Analysis:
    volume = ct_volume(patient, owner)
    return completed(
        patient, owner, "ct", CT_WITH_LESIONS, inputs={"volume_file": volume.pk}, **kwargs
    )


def completed_sequences(patient: Any, owner: Any, **kwargs: Any) -> Analysis:
    return completed(patient, owner, "sequence_batch", SEQUENCES, inputs={"sequences": 2}, **kwargs)


def completed_rosmap(patient: Any, owner: Any, **kwargs: Any) -> Analysis:
    return completed(patient, owner, "omics_rosmap", ROSMAP, inputs={"table_file": 1}, **kwargs)


def completed_paad(patient: Any, owner: Any, **kwargs: Any) -> Analysis:
    return completed(
        patient, owner, "omics_paad_survival", PAAD, inputs={"table_file": 1}, **kwargs
    )
