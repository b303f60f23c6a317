"""Reading a zipped DICOM CT series safely into an HU array with its RAS affine.

Nothing is extracted to disk. Before any pixel is decoded: the file size cap, member count,
declared uncompressed total and per-member compression ratio (zip-bomb caps), then every member's
DICOM header, streamed out of the zip up to the pixel data and no further: one CT series of
single-frame images, consistent matrix, orientation and spacing, distinct slice positions, uniform
slice spacing, dimensions within caps, and the pixel data of all slices within
``VolumeLimits.max_decoded_bytes``. Pixels are then decoded one member at a time (each at most
``max_member_bytes``) and rescaled to HU (RescaleSlope/RescaleIntercept) into the one float32
array: memory is that array plus one slice, whatever the archive holds.
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

from inference.engines.imaging.archive import open_member, open_zip, read_zip_member, zip_members
from inference.engines.imaging.volume import VolumeLimits, check_affine, check_grid
from inference.errors import InvalidInput, PayloadTooLarge


@dataclass
class _Slice:
    name: str
    position: np.ndarray
    ds: Any  # the header only (read with stop_before_pixels)
    info: zipfile.ZipInfo


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
            ds = _read_header(zf, info, field_name)
            if "Rows" not in ds or "Columns" not in ds:
                continue  # presentation states, reports and other non-image objects
            if info.file_size > limits.max_member_bytes:
                raise PayloadTooLarge(
                    f"{field_name}: zip member {info.filename!r} inflates to {info.file_size} "
                    f"bytes, over the per-slice limit of {limits.max_member_bytes}",
                    field=field_name,
                )
            slices.append(_Slice(info.filename, np.zeros(3), ds, info))
        return _assemble(zf, slices, limits, field_name)


def _read_header(zf: zipfile.ZipFile, info: zipfile.ZipInfo, field_name: str) -> Any:
    """One member's DICOM header, inflated only up to its pixel data."""
    try:
        with open_member(zf, info, field_name) as fh:
            return pydicom.dcmread(fh, force=False, stop_before_pixels=True)
    except (InvalidDicomError, EOFError, OSError, ValueError, KeyError, TypeError) as exc:
        raise InvalidInput(
            f"{field_name}: zip member {info.filename!r} is not a readable DICOM file ({exc})",
            field=field_name,
        ) from exc


def _decoded_bytes(slices: list[_Slice], field_name: str) -> int:
    total = 0
    for s in slices:
        ds = s.ds
        try:
            frames = int(ds.get("NumberOfFrames", 1) or 1)
            bits = int(ds.get("BitsAllocated", 16) or 16)
            samples = int(ds.get("SamplesPerPixel", 1) or 1)
            rows, cols = int(ds.get("Rows", 0)), int(ds.get("Columns", 0))
        except (TypeError, ValueError) as exc:
            raise InvalidInput(
                f"{field_name}: {s.name} has an unreadable image pixel description",
                field=field_name,
            ) from exc
        if frames != 1:
            raise InvalidInput(
                f"{field_name}: {s.name} is a multi-frame image ({frames} frames); upload a "
                "series of single-frame slices",
                field=field_name,
            )
        total += rows * cols * samples * max(bits, 8) // 8
    return total


def _assemble(
    zf: zipfile.ZipFile, slices: list[_Slice], limits: VolumeLimits, field_name: str
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
    decoded = _decoded_bytes(slices, field_name)
    if decoded > limits.max_decoded_bytes:
        raise PayloadTooLarge(
            f"{field_name}: the series decodes to {decoded} bytes of pixel data, over the limit "
            f"of {limits.max_decoded_bytes}",
            field=field_name,
        )
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
        ds = _read_slice(zf, s, field_name)
        try:
            pixels = ds.pixel_array
        except Exception as exc:  # pydicom raises many types for bad or undecodable pixel data
            raise InvalidInput(
                f"{field_name}: pixel data of {s.name} cannot be decoded "
                f"({type(exc).__name__}: {exc})",
                field=field_name,
            ) from exc
        if pixels.shape != (rows, cols):
            raise InvalidInput(f"{field_name}: {s.name} is not a single 2D frame", field=field_name)
        try:
            slope = float(ds.get("RescaleSlope", 1.0) or 1.0)
            inter = float(ds.get("RescaleIntercept", 0.0) or 0.0)
        except (TypeError, ValueError) as exc:
            raise InvalidInput(
                f"{field_name}: {s.name} has an unreadable RescaleSlope or RescaleIntercept",
                field=field_name,
            ) from exc
        with np.errstate(over="ignore", invalid="ignore"):  # checked just below
            hu = pixels.astype(np.float32) * np.float32(slope) + np.float32(inter)
        if not np.all(np.isfinite(hu)):
            raise InvalidInput(
                f"{field_name}: {s.name} rescales to values beyond float32", field=field_name
            )
        data[:, :, k] = hu.T
        del ds, pixels, hu
    meta = {
        "series_instance_uid": str(first.get("SeriesInstanceUID", "")),
        "series_description": str(first.get("SeriesDescription", "") or "")[:64],
        "slices": len(slices),
        "slice_spacing_mm": round(float(step), 4),
        "transfer_syntax": str(first.file_meta.get("TransferSyntaxUID", ""))
        if hasattr(first, "file_meta")
        else "",
    }
    return data, affine, meta


def _read_slice(zf: zipfile.ZipFile, s: _Slice, field_name: str) -> Any:
    """The whole member (header and pixels) of one slice; at most ``max_member_bytes`` long."""
    try:
        return pydicom.dcmread(io.BytesIO(read_zip_member(zf, s.info, field_name)), force=False)
    except (InvalidDicomError, EOFError, OSError, ValueError, KeyError, TypeError) as exc:
        raise InvalidInput(
            f"{field_name}: zip member {s.name!r} is not a readable DICOM file ({exc})",
            field=field_name,
        ) from exc
