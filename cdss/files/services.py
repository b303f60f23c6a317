"""Every write of patient files: an upload (checked, stored once per content, audited) and the
sweep of what an interrupted upload left behind.

``patient_file_upload`` checks the staged upload against its role before anything is kept
(``cdss.files.validation``); a refusal is a 400 naming the problem, recorded in the audit trail
as a failed attempt, and leaves nothing on disk (the staged file is removed when the request
closes it). An accepted file becomes its row and its audit event in one transaction, with the
bytes linked into the store inside it: a failure before the commit (the audit write, the commit
itself) rolls the row back and removes bytes this upload added, so no stored file is left that no
row names. Only a
process killed between the link and the commit can leave one; ``patient_file_storage_sweep``
(``manage.py files_sweep``) removes such files once they are old enough that no upload can still
be committing them.
"""

from __future__ import annotations

import logging
import os
import re
import time
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from django.db import transaction

from cdss.accounts.models import User
from cdss.audit.models import Outcome
from cdss.audit.services import access_event_record
from cdss.common.exceptions import ApplicationError
from cdss.files.models import PatientFile
from cdss.files.storage import (
    StagedUpload,
    blob_path,
    blob_relative_path,
    blob_remove,
    blob_store,
    files_root,
    staging_dir,
)
from cdss.files.validation import Checked, FileLimits, FileRejected, check_file
from cdss.patients.models import Patient

logger = logging.getLogger(__name__)

MAX_NAME = 255
_DOUBLE_SUFFIXES = (".nii.gz", ".tar.gz")


def clean_file_name(raw: str) -> str:
    """The client's file name made safe to show and to put in a Content-Disposition header:
    the last path part, NFC, printable characters only, at most 255 (keeping the extension)."""
    name = unicodedata.normalize("NFC", raw)
    name = re.split(r"[\\/]", name)[-1]
    name = "".join(ch for ch in name if ch.isprintable()).strip().lstrip(".").strip()
    if not name:
        return "upload"
    if len(name) > MAX_NAME:
        lower = name.lower()
        suffix = next((s for s in _DOUBLE_SUFFIXES if lower.endswith(s)), Path(name).suffix)
        suffix = suffix[-20:]
        name = name[: MAX_NAME - len(suffix)] + suffix
    return name


def patient_file_upload(
    *, user: User, patient: Patient, role: str, upload: StagedUpload
) -> PatientFile:
    """Checks, stores and records one upload. ``patient`` must come from the access path."""
    name = clean_file_name(upload.client_name)
    try:
        checked = check_file(
            Path(upload.temporary_file_path()),
            role=role,
            name=name,
            size=upload.size or 0,
            limits=FileLimits.from_settings(role),
        )
    except FileRejected as exc:
        access_event_record(
            user=user,
            action="patient_file.create",
            outcome=Outcome.FAILED,
            patient_id=patient.pk,
            object_type="patient",
            object_id=str(patient.pk),
        )
        raise ApplicationError(exc.message, detail={"file": [exc.message]}) from None
    return _patient_file_store(
        user=user, patient=patient, role=role, name=name, upload=upload, checked=checked
    )


def _patient_file_store(
    *,
    user: User,
    patient: Patient,
    role: str,
    name: str,
    upload: StagedUpload,
    checked: Checked,
) -> PatientFile:
    sha256 = upload.sha256
    relative = blob_relative_path(sha256)
    added = False
    try:
        with transaction.atomic():
            patient_file = PatientFile.objects.create(
                patient=patient,
                uploaded_by=user,
                role=role,
                name=name,
                size=upload.size or 0,
                sha256=sha256,
                content_type=checked.content_type,
                format=checked.format,
                metadata=checked.metadata,
                storage_path=relative,
            )
            added = blob_store(upload, relative)
            if not added:
                # Tells the sweep these bytes are in use again.
                os.utime(blob_path(relative))
            access_event_record(
                user=user,
                action="patient_file.create",
                outcome=Outcome.OK,
                patient_id=patient.pk,
                object_type="patient_file",
                object_id=str(patient_file.pk),
            )
    except BaseException:
        if added:
            _remove_if_unreferenced(sha256, relative)
        raise
    # A concurrent upload of the same bytes that failed may have removed them after our link.
    if not blob_path(relative).exists():
        blob_store(upload, relative)
    return patient_file


def _remove_if_unreferenced(sha256: str, relative: str) -> None:
    try:
        referenced = PatientFile.objects.filter(sha256=sha256).exists()
    except Exception:  # the database is what failed: leave the bytes to the sweep
        logger.exception("could not tell whether stored file %s is referenced", relative)
        return
    if not referenced:
        blob_remove(relative)


@dataclass(frozen=True)
class SweepResult:
    staged: int
    orphans: int


_SHARD = re.compile(r"^[0-9a-f]{2}$")
_BLOB = re.compile(r"^[0-9a-f]{64}$")


def _old(path: Path, cutoff: float) -> bool:
    try:
        return path.stat().st_mtime < cutoff
    except FileNotFoundError:
        return False


def patient_file_storage_sweep(*, older_than_seconds: float) -> SweepResult:
    """Removes staged uploads and stored files that no row names, both last written more than
    ``older_than_seconds`` ago (so no upload in progress can still be using them)."""
    cutoff = time.time() - older_than_seconds
    staged = 0
    if staging_dir().is_dir():
        for part in staging_dir().iterdir():
            if part.is_file() and _old(part, cutoff):
                part.unlink(missing_ok=True)
                staged += 1
    orphans = 0
    root = files_root()
    shards = [d for d in root.iterdir() if _SHARD.match(d.name)] if root.is_dir() else []
    for shard in shards:
        for blob in shard.iterdir():
            if not _old(blob, cutoff):
                continue
            name = blob.name if _BLOB.match(blob.name) else ""
            if name and PatientFile.objects.filter(sha256=name).exists():
                continue
            # Looked at again just before it goes: an upload may have claimed it meanwhile.
            if _old(blob, cutoff) and not (
                name and PatientFile.objects.filter(sha256=name).exists()
            ):
                blob.unlink(missing_ok=True)
                orphans += 1
    return SweepResult(staged=staged, orphans=orphans)
