"""The upload service's storage guarantees: no stored file that no row names after a failure, no
staged file after any request, and the sweep of what a killed process could leave."""

from __future__ import annotations

import os
import time

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.db import DatabaseError
from django.urls import reverse

from cdss.files import services
from cdss.files.models import PatientFile
from cdss.files.services import clean_file_name, patient_file_storage_sweep, patient_file_upload
from cdss.files.storage import blob_relative_path, staging_dir
from cdss.files.tests.factories import patient_file_of, stage

pytestmark = pytest.mark.django_db


def _files(root):
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


def _failing_after_the_link(monkeypatch):
    """The audit write (after the link, before the commit) fails as a database can."""
    real = services.access_event_record

    def record(**kwargs):
        if kwargs["outcome"] == "ok":
            raise DatabaseError("the database went away")
        return real(**kwargs)

    monkeypatch.setattr(services, "access_event_record", record)


def test_a_database_failure_after_the_link_leaves_no_stored_file(
    monkeypatch, clinician_a, patient_a, media_root
):
    _failing_after_the_link(monkeypatch)
    upload = stage(b"note\n")
    with pytest.raises(DatabaseError):
        patient_file_upload(user=clinician_a, patient=patient_a, role="document", upload=upload)
    upload.close()
    assert PatientFile.objects.count() == 0
    assert _files(media_root) == []


def test_a_failure_never_removes_bytes_another_row_names(
    monkeypatch, clinician_a, patient_a, media_root
):
    kept = patient_file_of(patient_a, clinician_a, b"shared\n")
    kept.path.unlink()  # as if this upload's link had been the one that created the file
    _failing_after_the_link(monkeypatch)
    upload = stage(b"shared\n")
    with pytest.raises(DatabaseError):
        patient_file_upload(user=clinician_a, patient=patient_a, role="document", upload=upload)
    upload.close()
    assert kept.path.read_bytes() == b"shared\n"


def test_a_damaged_stored_file_is_replaced_by_the_next_upload(clinician_a, patient_a):
    first = patient_file_of(patient_a, clinician_a, b"clinical note\n")
    first.path.write_bytes(b"clin")  # damaged on disk
    second = patient_file_of(patient_a, clinician_a, b"clinical note\n")
    assert second.path == first.path and first.path.read_bytes() == b"clinical note\n"


def test_a_malformed_multipart_body_leaves_nothing(make_client, clinician_a, patient_a, media_root):
    body = (
        b'--XYZ\r\nContent-Disposition: form-data; name="role"\r\n\r\ndocument\r\n'
        b'--XYZ\r\nContent-Disposition: form-data; name="file"; filename="a.txt"\r\n'
        b"Content-Type: text/plain\r\n\r\nhello, cut off here"
    )
    response = make_client(clinician_a).generic(
        "POST",
        reverse("patient-file-list", kwargs={"patient_id": patient_a.pk}),
        body,
        content_type="multipart/form-data; boundary=XYZ",
    )
    # Django drops a file part that never ends: the file was not submitted.
    assert response.status_code == 400 and "file" in response.json()["detail"]
    assert _files(media_root) == []


def test_two_files_in_one_request_keep_neither_staged(
    make_client, clinician_a, patient_a, media_root
):
    response = make_client(clinician_a).post(
        reverse("patient-file-list", kwargs={"patient_id": patient_a.pk}),
        {
            "file": SimpleUploadedFile("a.txt", b"first\n"),
            "other": SimpleUploadedFile("b.txt", b"second\n"),
            "role": "document",
        },
        format="multipart",
    )
    assert response.status_code == 400 and "other" in response.json()["error"]
    assert _files(media_root) == []


def _age(path, seconds: float) -> None:
    then = time.time() - seconds
    os.utime(path, (then, then))


def test_the_sweep_removes_only_old_leftovers(clinician_a, patient_a, media_root):
    kept = patient_file_of(patient_a, clinician_a, b"kept\n")
    _age(kept.path, 7200)
    orphan = media_root / blob_relative_path("ab" * 32)
    orphan.parent.mkdir(parents=True, exist_ok=True)
    orphan.write_bytes(b"nobody's")
    _age(orphan, 7200)
    young_orphan = media_root / blob_relative_path("cd" * 32)
    young_orphan.parent.mkdir(parents=True, exist_ok=True)
    young_orphan.write_bytes(b"being committed")
    staging_dir().mkdir(parents=True, exist_ok=True)
    stale = staging_dir() / "upload-dead.part"
    stale.write_bytes(b"half")
    _age(stale, 7200)
    live = stage(b"in progress")

    result = patient_file_storage_sweep(older_than_seconds=3600)

    assert (result.staged, result.orphans) == (1, 1)
    assert not orphan.exists() and not stale.exists()
    assert kept.path.exists() and young_orphan.exists()
    assert os.path.exists(live.temporary_file_path())
    live.close()


def test_the_sweep_command(media_root, capsys):
    call_command("files_sweep", "--older-than", "60")
    assert "removed 0 staged upload(s) and 0 unreferenced file(s)" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("scan.nii.gz", "scan.nii.gz"),
        ("C:\\Users\\kim\\scan.nii.gz", "scan.nii.gz"),
        ("../../etc/passwd", "passwd"),
        ("\x00\x1b[31mred.txt", "[31mred.txt"),
        ("...", "upload"),
        ("", "upload"),
        ("Cafe\u0301.pdf", "Caf\u00e9.pdf"),
        ("x" * 300 + ".pdf", "x" * 251 + ".pdf"),
    ],
)
def test_file_names_are_cleaned(raw, clean):
    assert clean_file_name(raw) == clean
