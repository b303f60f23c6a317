"""Loading a CT volume from a file of either accepted format into a validated RAS ``Volume``.

The format is decided by content, not by name: a zip archive is a DICOM series, a gzip stream or a
NIfTI header is NIfTI (``.nii`` or ``.nii.gz``, or a stored file named by its hash); anything else
is a 400.
"""

from __future__ import annotations

from pathlib import Path

from inference.engines.imaging.archive import ZIP_MAGIC
from inference.engines.imaging.dicom_io import read_dicom_zip
from inference.engines.imaging.nifti_io import GZIP_MAGIC, nifti_affine, open_nifti, read_hu
from inference.engines.imaging.volume import Volume, VolumeLimits, reorient_to_ras
from inference.errors import InvalidInput


def sniff_format(path: Path, field_name: str = "volume") -> str:
    """``"dicom_zip"`` or ``"nifti"``; a missing or empty file is a 400."""
    if not path.is_file():
        raise InvalidInput(f"{field_name}: file not found", field=field_name)
    with path.open("rb") as fh:
        head = fh.read(4)
    if not head:
        raise InvalidInput(f"{field_name}: file is empty", field=field_name)
    if head == ZIP_MAGIC:
        return "dicom_zip"
    # Stored files are named by their content hash, with no extension: gzip, or a NIfTI-1/2
    # header's own size (348 or 540) in either byte order, says what they are.
    sizes = {int.from_bytes(head, "little"), int.from_bytes(head, "big")}
    if head[:2] != GZIP_MAGIC and not sizes & {348, 540}:
        raise InvalidInput(
            f"{field_name}: expected a NIfTI file (.nii, .nii.gz) or a zip of a DICOM series",
            field=field_name,
        )
    return "nifti"


def load_volume(
    path: Path, limits: VolumeLimits | None = None, field_name: str = "volume"
) -> Volume:
    """Validate, read and reorient a CT volume; HU values are kept exactly."""
    limits = limits or VolumeLimits()
    fmt = sniff_format(path, field_name)
    if fmt == "dicom_zip":
        data, affine, meta = read_dicom_zip(path, limits, field_name)
    else:
        img = open_nifti(path, limits, field_name)
        data, affine, meta = read_hu(img, path, field_name), nifti_affine(img), {}
    data, affine = reorient_to_ras(data, affine)
    return Volume(data=data, affine=affine, source_format=fmt, meta=meta)
