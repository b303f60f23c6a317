"""Patient files made through the real upload service (checked, stored, audited)."""

from __future__ import annotations

from cdss.files.models import PatientFile
from cdss.files.services import patient_file_upload
from cdss.files.storage import StagedUpload, staging_dir


def stage(content: bytes, name: str = "notes.txt") -> StagedUpload:
    upload = StagedUpload(name, "application/octet-stream", staging_dir())
    upload.write_chunk(content)
    upload.finish(len(content))
    return upload


def patient_file_of(
    patient,
    owner,
    content: bytes = b"clinical note\n",
    *,
    role: str = "document",
    name: str = "notes.txt",
) -> PatientFile:
    upload = stage(content, name)
    try:
        return patient_file_upload(user=owner, patient=patient, role=role, upload=upload)
    finally:
        upload.close()
