"""Checking an uploaded file against its role, with the standard library only.

Django never imports numpy, nibabel or pydicom (they live in the inference server), so every
format is read here with ``struct``, ``zlib``, ``zipfile``, ``csv`` and ``codecs``: enough to
prove a file is whole and has the shape its role needs, before it is stored and long before an
analysis reads it. The format is sniffed from the content (magic bytes), never taken from the
name or the client's Content-Type.

| role | formats |
| --- | --- |
| ``ct_volume`` | ``nifti``, ``nifti-gz``, ``dicom-zip`` |
| ``segmentation`` | ``nifti``, ``nifti-gz`` (a multi-label map), ``mask-zip`` (one mask each) |
| ``omics_table`` | ``csv``, ``tsv`` |
| ``document`` | ``pdf``, ``markdown``, ``text``, ``html`` |

``check_file`` is the one entry point; it raises ``FileRejected`` naming the problem.
"""

from __future__ import annotations

from pathlib import Path

from cdss.files.validation.archive import ZIP_MAGICS, check_dicom_zip, check_mask_zip
from cdss.files.validation.base import CONTENT_TYPES, Checked, FileLimits, FileRejected
from cdss.files.validation.document import PDF_MAGIC, check_pdf, check_text
from cdss.files.validation.nifti import (
    GZIP_MAGIC,
    check_nifti_file,
    check_nifti_gzip_file,
    looks_like_nifti,
)
from cdss.files.validation.table import check_table

__all__ = ["CONTENT_TYPES", "ROLE_FORMATS", "Checked", "FileLimits", "FileRejected", "check_file"]

ROLE_FORMATS: dict[str, tuple[str, ...]] = {
    "ct_volume": ("nifti", "nifti-gz", "dicom-zip"),
    "segmentation": ("nifti", "nifti-gz", "mask-zip"),
    "omics_table": ("csv", "tsv"),
    "document": ("pdf", "markdown", "text", "html"),
}

_EXPECTED = {
    "ct_volume": "a NIfTI image (.nii, .nii.gz) or a zip of one DICOM series",
    "segmentation": "a multi-label NIfTI image (.nii, .nii.gz) or a zip of one NIfTI mask per "
    "structure",
    "omics_table": "a UTF-8 CSV or TSV table",
    "document": "a PDF, or UTF-8 Markdown, plain text or HTML",
}


def _sniff(path: Path) -> str:
    """What the first bytes say the file is: gzip, zip, nifti, pdf, dicom, or text."""
    with path.open("rb") as fh:
        head = fh.read(132)
    if head.startswith(GZIP_MAGIC):
        return "gzip"
    if head.startswith(ZIP_MAGICS):
        return "zip"
    if head.startswith(PDF_MAGIC):
        return "pdf"
    if looks_like_nifti(head):
        return "nifti"
    if head[128:132] == b"DICM":
        return "dicom"
    return "text"


_DESCRIBED = {
    "gzip": "a gzip file",
    "zip": "a zip archive",
    "pdf": "a PDF",
    "nifti": "a NIfTI image",
    "dicom": "a single DICOM file",
    "text": "neither an image nor an archive",
}


def _wrong(role: str, kind: str) -> FileRejected:
    hint = " (upload the whole series as a zip)" if kind == "dicom" else ""
    return FileRejected(
        f"file: {_article(role)} {role} must be {_EXPECTED[role]}; this file is "
        f"{_DESCRIBED[kind]}{hint}"
    )


def _article(word: str) -> str:
    return "an" if word[0] in "aeiou" else "a"


def check_file(path: Path, *, role: str, name: str, size: int, limits: FileLimits) -> Checked:
    """The file's format and metadata, or ``FileRejected`` naming what is wrong with it."""
    if size == 0:
        raise FileRejected("file: the file is empty")
    if size > limits.max_bytes:
        raise FileRejected(
            f"file: {size} bytes, over the limit of {limits.max_bytes} bytes for "
            f"{_article(role)} {role}"
        )
    kind = _sniff(path)
    if role in ("ct_volume", "segmentation"):
        if kind == "nifti":
            return Checked("nifti", check_nifti_file(path, size, limits).metadata())
        if kind == "gzip":
            return Checked("nifti-gz", check_nifti_gzip_file(path, size, limits).metadata())
        if kind == "zip" and role == "ct_volume":
            return Checked("dicom-zip", check_dicom_zip(path, size, limits))
        if kind == "zip":
            return Checked("mask-zip", check_mask_zip(path, size, limits))
        raise _wrong(role, kind)
    if role == "omics_table":
        if kind != "text":
            raise _wrong(role, kind)
        fmt, metadata = check_table(path, limits)
        return Checked(fmt, metadata)
    if role == "document":
        if kind == "pdf":
            return Checked("pdf", check_pdf(path, size))
        if kind != "text":
            raise _wrong(role, kind)
        fmt, metadata = check_text(path, name)
        return Checked(fmt, metadata)
    raise FileRejected(f"role: unknown role {role!r}")
