"""What every check shares: the limits, the refusal, the result, and the formats with their types.

Nothing here reads a file. A refusal (``FileRejected``) carries a message that names the problem
in words a clinician's IT staff can act on ("truncated gzip stream", "zip member 'a/../b' is not a
safe name"); the service turns it into the API's 400.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

# The formats a stored file can have, each with the media type it is served as.
CONTENT_TYPES: dict[str, str] = {
    "nifti": "application/octet-stream",
    "nifti-gz": "application/gzip",
    "dicom-zip": "application/zip",
    "mask-zip": "application/zip",
    "csv": "text/csv",
    "tsv": "text/tab-separated-values",
    "pdf": "application/pdf",
    "markdown": "text/markdown",
    "text": "text/plain",
    "html": "text/html",
}

READ_CHUNK = 1024 * 1024


class FileRejected(Exception):
    """The file is not what its role needs; ``message`` says why."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class FileLimits:
    """Caps applied while a file is checked (all inclusive). From settings: ``from_settings``."""

    max_bytes: int
    # What one volume may decode to (NIfTI voxels with their header; a zip inflates to at most
    # this in all): the inference server's CDSS_IMAGING_MAX_DECODED_BYTES.
    max_decoded_bytes: int = 1024 * 1024 * 1024
    max_voxels: int = 512 * 512 * 2000
    max_zip_members: int = 5000
    max_zip_member_bytes: int = 64 * 1024 * 1024
    max_table_rows: int = 100_000
    max_table_columns: int = 100_000
    max_cell_chars: int = 256

    @classmethod
    def from_settings(cls, role: str) -> FileLimits:
        from django.conf import settings

        return cls(
            max_bytes=int(settings.CDSS_FILES_MAX_BYTES[role]),
            max_decoded_bytes=int(settings.CDSS_FILES_MAX_DECODED_BYTES),
            max_voxels=int(settings.CDSS_FILES_MAX_VOXELS),
            max_zip_members=int(settings.CDSS_FILES_MAX_ZIP_MEMBERS),
            max_zip_member_bytes=int(settings.CDSS_FILES_MAX_ZIP_MEMBER_BYTES),
            max_table_rows=int(settings.CDSS_FILES_MAX_TABLE_ROWS),
            max_table_columns=int(settings.CDSS_FILES_MAX_TABLE_COLUMNS),
            max_cell_chars=int(settings.CDSS_FILES_MAX_CELL_CHARS),
        )


@dataclass(frozen=True)
class Checked:
    """A file that passed its role's checks: its format, served type, and what was learnt."""

    format: str
    metadata: dict[str, Any] = field(default_factory=dict)

    @property
    def content_type(self) -> str:
        return CONTENT_TYPES[self.format]
