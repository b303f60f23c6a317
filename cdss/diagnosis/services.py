"""Submitting a diagnosis request: its files become patient files, then an analysis."""

from __future__ import annotations

from typing import Any

from cdss.accounts.models import User
from cdss.common.exceptions import ApplicationError
from cdss.files.services import patient_file_upload
from cdss.files.storage import StagedUpload
from cdss.jobs.kinds import get_kind
from cdss.jobs.models import Analysis
from cdss.jobs.services import analysis_submit
from cdss.patients.models import Patient

# The seed's file fields and the role each file is stored under.
FILE_ROLES = {
    "volume_file": "ct_volume",
    "segmentation_file": "segmentation",
    "table_file": "omics_table",
}


def _check_files_fit_kind(kind: str, files: dict[str, StagedUpload]) -> None:
    """Before anything is stored: every file is an input of the kind, every required one is here."""
    fields = get_kind(kind).input().fields
    for name in files:
        if name not in fields:
            raise ApplicationError(
                f"{name}: the kind {kind!r} takes no such file",
                detail={name: [f"Not an input of {kind}."]},
            )
    for name, field in fields.items():
        if name in FILE_ROLES and field.required and name not in files:
            raise ApplicationError(
                f"{name}: the kind {kind!r} needs this file", detail={name: ["Required."]}
            )


def diagnosis_request_submit(
    *, user: User, patient: Patient, kind: str, files: dict[str, StagedUpload]
) -> Analysis:
    """Stores each file (checked and audited like any upload), then submits the analysis.
    ``patient`` must come from the access path.

    The kind and its files are matched before anything is stored. A file that is refused stops
    the request there; files already stored stay the patient's files (each a valid upload), as
    they would after uploading them one by one, and the 400 says what was wrong."""
    _check_files_fit_kind(kind, files)
    inputs: dict[str, Any] = {}
    for name, upload in files.items():
        stored = patient_file_upload(
            user=user, patient=patient, role=FILE_ROLES[name], upload=upload
        )
        inputs[name] = stored.pk
    return analysis_submit(user=user, kind=kind, patient=patient, inputs=inputs)
