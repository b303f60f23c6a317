"""PatientFile: one upload of a file for a patient, checked before it was stored.

The bytes live once per content under ``MEDIA_ROOT`` (``storage_path``, named by SHA-256); each
upload is its own row, so two patients (or two roles) can point at the same stored bytes. A row is
never changed after it is written.
"""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.db import models

from cdss.files.storage import blob_path


class FileRole(models.TextChoices):
    CT_VOLUME = "ct_volume", "CT volume"
    SEGMENTATION = "segmentation", "Segmentation"
    OMICS_TABLE = "omics_table", "Omics table"
    DOCUMENT = "document", "Document"


class FileFormat(models.TextChoices):
    NIFTI = "nifti", "NIfTI"
    NIFTI_GZ = "nifti-gz", "NIfTI, gzip-compressed"
    DICOM_ZIP = "dicom-zip", "Zipped DICOM series"
    MASK_ZIP = "mask-zip", "Zip of NIfTI masks"
    CSV = "csv", "CSV"
    TSV = "tsv", "TSV"
    PDF = "pdf", "PDF"
    MARKDOWN = "markdown", "Markdown"
    TEXT = "text", "Plain text"
    HTML = "html", "HTML"


class PatientFile(models.Model):
    patient = models.ForeignKey("patients.Patient", on_delete=models.PROTECT, related_name="files")
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    role = models.CharField(max_length=16, choices=FileRole.choices)
    # The client's file name, sanitised (no path, no control characters); shown, never opened.
    name = models.CharField(max_length=255)
    size = models.PositiveBigIntegerField()
    sha256 = models.CharField(max_length=64, db_index=True)
    # Sniffed from the content, never the client's claim.
    content_type = models.CharField(max_length=100)
    format = models.CharField(max_length=16, choices=FileFormat.choices)
    # What the checks learnt: dims, spacing and datatype of a volume, members of a zip, rows and
    # columns of a table.
    metadata = models.JSONField(default=dict, blank=True)
    # Relative to MEDIA_ROOT: files/<sha256[:2]>/<sha256>.
    storage_path = models.CharField(max_length=255)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["patient", "role", "created_at"], name="files_patient_role"),
        ]

    def __str__(self) -> str:
        # Identifiers only: the file name may name the patient, and this string may reach logs.
        return f"PatientFile #{self.pk} {self.role}"

    @property
    def path(self) -> Path:
        """The stored bytes, an absolute path (what workers open)."""
        return blob_path(self.storage_path)
