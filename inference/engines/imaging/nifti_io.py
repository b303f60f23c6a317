"""Reading NIfTI-1/2 files (``.nii`` / ``.nii.gz``) safely: header checks first, then the voxels.

Before any voxel is read: the file size cap, a parseable header, 3 dimensions within caps, a
supported numeric data type, sane spacing and a finite non-singular affine, and, for an
uncompressed file, that it is long enough to hold the voxels it declares (gzip files are checked
against the uncompressed length recorded in their trailer). A truncated or corrupt file is a 400.
"""

from __future__ import annotations

import gzip
import zlib
from pathlib import Path
from typing import Any

import nibabel as nib
import numpy as np
from nibabel.filebasedimages import ImageFileError
from nibabel.spatialimages import HeaderDataError

from inference.engines.imaging.volume import VolumeLimits, check_affine, check_grid
from inference.errors import InvalidInput, PayloadTooLarge

_SUPPORTED_KINDS = "iuf"  # signed/unsigned integers and floats; no complex, RGB or structured types
GZIP_MAGIC = b"\x1f\x8b"


def _affine(img: nib.Nifti1Image | nib.Nifti2Image) -> np.ndarray:
    """sform if set, else qform, else nibabel's fallback (what ``img.affine`` already encodes)."""
    return np.asarray(img.affine, dtype=float)


def open_nifti(path: Path, limits: VolumeLimits, field_name: str) -> nib.Nifti1Image:
    """Parse and check the header only; the returned image's voxels are not read yet."""
    size = path.stat().st_size
    if size > limits.max_file_bytes:
        raise PayloadTooLarge(
            f"{field_name}: file of {size} bytes exceeds the limit of {limits.max_file_bytes}",
            field=field_name,
        )
    if size < 348 and not _is_gzip(path):
        raise InvalidInput(
            f"{field_name}: file is too short to be NIfTI ({size} bytes)", field=field_name
        )
    try:
        img = nib.load(str(path))
    except (ImageFileError, HeaderDataError, EOFError, OSError, zlib.error, ValueError) as exc:
        raise InvalidInput(
            f"{field_name}: not a readable NIfTI file ({exc})", field=field_name
        ) from exc
    if not isinstance(img, nib.Nifti1Image | nib.Nifti2Image):
        raise InvalidInput(
            f"{field_name}: not a NIfTI image ({type(img).__name__})", field=field_name
        )
    shape = tuple(int(s) for s in img.shape)
    # A trailing singleton (x, y, z, 1) is a 3D volume written as 4D; accept it.
    while len(shape) > 3 and shape[-1] == 1:
        shape = shape[:-1]
    dtype = img.get_data_dtype()
    if dtype.kind not in _SUPPORTED_KINDS or dtype.fields is not None:
        raise InvalidInput(f"{field_name}: unsupported voxel data type {dtype}", field=field_name)
    check_grid(shape, img.header.get_zooms()[:3], limits, field_name)
    check_affine(_affine(img), field_name)
    proxy: Any = img.dataobj  # nibabel's ArrayProxy (typed as ArrayLike)
    expected = int(proxy.offset) + int(np.prod(img.shape)) * dtype.itemsize
    if _is_gzip(path):
        # ISIZE: uncompressed length mod 2**32 from the gzip trailer; a truncated file fails this.
        with path.open("rb") as fh:
            fh.seek(-4, 2)
            isize = int.from_bytes(fh.read(4), "little")
        if isize != expected % 2**32:
            raise InvalidInput(
                f"{field_name}: gzip stream is truncated or malformed (holds {isize} bytes, "
                f"the header needs {expected})",
                field=field_name,
            )
    elif size < expected:
        raise InvalidInput(
            f"{field_name}: file is truncated ({size} bytes, the header needs {expected})",
            field=field_name,
        )
    return img


def _is_gzip(path: Path) -> bool:
    with path.open("rb") as fh:
        return fh.read(2) == GZIP_MAGIC


def read_voxels(img: nib.Nifti1Image, field_name: str, *, as_float: bool = True) -> np.ndarray:
    """The voxels as a 3D array, scaled to float32 by scl_slope/scl_inter if ``as_float``."""
    proxy: Any = img.dataobj  # nibabel's ArrayProxy (typed as ArrayLike)
    try:
        raw = np.asanyarray(proxy.get_unscaled())
    except (EOFError, OSError, zlib.error, gzip.BadGzipFile, ValueError) as exc:
        raise InvalidInput(
            f"{field_name}: voxel data is truncated or corrupt ({exc})", field=field_name
        ) from exc
    raw = raw.reshape(raw.shape[:3])
    if not as_float:
        return raw
    slope, inter = proxy.slope, proxy.inter
    data = raw.astype(np.float32, copy=raw.dtype != np.float32)
    if slope is not None and np.isfinite(slope) and slope not in (0.0, 1.0):
        data *= np.float32(slope)
    if inter is not None and np.isfinite(inter) and inter != 0.0:
        data += np.float32(inter)
    if raw.dtype.kind == "f" and not np.all(np.isfinite(data)):
        raise InvalidInput(
            f"{field_name}: voxel data holds NaN or infinite values", field=field_name
        )
    return data


def nifti_affine(img: nib.Nifti1Image) -> np.ndarray:
    return _affine(img)
