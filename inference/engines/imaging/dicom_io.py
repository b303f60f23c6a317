"""Reading a zipped DICOM CT series safely into an HU array with its RAS affine.

The zip is opened in memory (nothing is extracted to disk). Before any pixel is decoded: the file
size cap, member count, declared uncompressed total and per-member compression ratio (zip-bomb
caps), then every member's DICOM header (read without pixels): one CT series, consistent matrix,
orientation and spacing, distinct slice positions, uniform slice spacing, dimensions within caps.
Pixels are then decoded slice by slice and rescaled to HU (RescaleSlope/RescaleIntercept).
"""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pydicom
from pydicom.errors import InvalidDicomError

from inference.engines.imaging.archive import open_zip, read_zip_member, zip_members
from inference.engines.imaging.volume import VolumeLimits, check_affine, check_grid
from inference.errors import InvalidInput, PayloadTooLarge


@dataclass
class _Slice:
    name: str
    position: np.ndarray
    ds: Any


def _float_list(ds: Any, keyword: str, n: int, name: str, field_name: str) -> np.ndarray:
    value = ds.get(keyword)
    try:
        arr = np.asarray([float(v) for v in value], dtype=float)
    except (TypeError, ValueError) as exc:
        raise InvalidInput(
            f"{field_name}: {name} lacks a valid {keyword}", field=field_name
        ) from exc
    if arr.shape != (n,) or not np.all(np.isfinite(arr)):
        raise InvalidInput(f"{field_name}: {name} lacks a valid {keyword}", field=field_name)
    return arr


def read_dicom_zip(
    path: Path, limits: VolumeLimits, field_name: str
) -> tuple[np.ndarray, np.ndarray, dict[str, Any]]:
    """HU voxels (float32, axes = column, row, slice) and the voxel-to-RAS affine of the series."""
    size = path.stat().st_size
    if size > limits.max_file_bytes:
        raise PayloadTooLarge(
            f"{field_name}: file of {size} bytes exceeds the limit of {limits.max_file_bytes}",
            field=field_name,
        )
    zf = open_zip(path, field_name)
    with zf:
        infos = zip_members(zf, limits, field_name)
        slices = []
        for info in infos:
            try:
                raw = read_zip_member(zf, info, field_name)
                ds = pydicom.dcmread(io.BytesIO(raw), force=False)
            except (
                InvalidDicomError,
                zipfile.BadZipFile,
                EOFError,
                OSError,
                ValueError,
                KeyError,
            ) as exc:
                raise InvalidInput(
                    f"{field_name}: zip member {info.filename!r} is not a readable DICOM file "
                    f"({exc})",
                    field=field_name,
                ) from exc
            if "PixelData" not in ds:
                continue  # presentation states, reports and other non-image objects
            slices.append(_Slice(info.filename, np.zeros(3), ds))
        return _assemble(slices, limits, field_name)


def _assemble(
    slices: list[_Slice], limits: VolumeLimits, field_name: str
) -> tuple[np.ndarray, np.ndarray, dict[str, Any]]:
    if not slices:
        raise InvalidInput(f"{field_name}: the zip archive holds no DICOM images", field=field_name)
    series = {str(s.ds.get("SeriesInstanceUID", "")) for s in slices}
    if len(series) > 1:
        raise InvalidInput(
            f"{field_name}: the archive mixes {len(series)} DICOM series; upload one series",
            field=field_name,
        )
    first = slices[0].ds
    modality = str(first.get("Modality", ""))
    if modality != "CT":
        raise InvalidInput(
            f"{field_name}: modality is {modality or 'missing'}, expected CT", field=field_name
        )
    rows, cols = int(first.get("Rows", 0)), int(first.get("Columns", 0))
    iop = _float_list(first, "ImageOrientationPatient", 6, slices[0].name, field_name)
    spacing = _float_list(first, "PixelSpacing", 2, slices[0].name, field_name)
    row_dir, col_dir = iop[:3], iop[3:]
    normal = np.cross(row_dir, col_dir)
    if abs(np.linalg.norm(normal) - 1.0) > 1e-3:
        raise InvalidInput(
            f"{field_name}: ImageOrientationPatient is not orthonormal", field=field_name
        )
    for s in slices:
        ds = s.ds
        if int(ds.get("Rows", 0)) != rows or int(ds.get("Columns", 0)) != cols:
            raise InvalidInput(
                f"{field_name}: {s.name} has a different image matrix", field=field_name
            )
        if not np.allclose(
            _float_list(ds, "ImageOrientationPatient", 6, s.name, field_name), iop, atol=1e-4
        ):
            raise InvalidInput(
                f"{field_name}: {s.name} has a different orientation (tilted or mixed series)",
                field=field_name,
            )
        if not np.allclose(
            _float_list(ds, "PixelSpacing", 2, s.name, field_name), spacing, atol=1e-4
        ):
            raise InvalidInput(
                f"{field_name}: {s.name} has a different pixel spacing", field=field_name
            )
        s.position = _float_list(ds, "ImagePositionPatient", 3, s.name, field_name)
    slices.sort(key=lambda s: float(s.position @ normal))
    offsets = np.array([float(s.position @ normal) for s in slices])
    if len(slices) > 1:
        gaps = np.diff(offsets)
        if np.any(gaps < 1e-3):
            raise InvalidInput(f"{field_name}: two slices share one position", field=field_name)
        step = float(np.median(gaps))
        if np.max(np.abs(gaps - step)) > max(0.01 * step, 0.05):
            raise InvalidInput(
                f"{field_name}: slice spacing is not uniform "
                f"({gaps.min():.3f}-{gaps.max():.3f} mm); "
                "missing slices?",
                field=field_name,
            )
        slice_vec = (slices[-1].position - slices[0].position) / (len(slices) - 1)
    else:
        step = float(first.get("SliceThickness", 1.0) or 1.0)
        slice_vec = normal * step
    check_grid((cols, rows, len(slices)), (spacing[1], spacing[0], step), limits, field_name)
    # DICOM patient space is LPS; the voxel axes are (column i, row j, slice k).
    lps = np.eye(4)
    lps[:3, 0] = row_dir * spacing[1]
    lps[:3, 1] = col_dir * spacing[0]
    lps[:3, 2] = slice_vec
    lps[:3, 3] = slices[0].position
    affine = np.diag([-1.0, -1.0, 1.0, 1.0]) @ lps
    check_affine(affine, field_name)

    data = np.empty((cols, rows, len(slices)), dtype=np.float32)
    for k, s in enumerate(slices):
        try:
            pixels = s.ds.pixel_array
        except Exception as exc:  # pydicom raises many types for bad or undecodable pixel data
            raise InvalidInput(
                f"{field_name}: pixel data of {s.name} cannot be decoded "
                f"({type(exc).__name__}: {exc})",
                field=field_name,
            ) from exc
        if pixels.shape != (rows, cols):
            raise InvalidInput(f"{field_name}: {s.name} is not a single 2D frame", field=field_name)
        slope = float(s.ds.get("RescaleSlope", 1.0) or 1.0)
        inter = float(s.ds.get("RescaleIntercept", 0.0) or 0.0)
        data[:, :, k] = (pixels.astype(np.float32) * np.float32(slope) + np.float32(inter)).T
    meta = {
        "series_instance_uid": str(first.get("SeriesInstanceUID", "")),
        "slices": len(slices),
        "transfer_syntax": str(first.file_meta.get("TransferSyntaxUID", ""))
        if hasattr(first, "file_meta")
        else "",
    }
    return data, affine, meta
