"""Reading NIfTI-1/2 files (``.nii`` / ``.nii.gz``) safely: header checks first, then the voxels.

Before nibabel parses anything, the fixed header (348 or 540 bytes) is read on its own and its
dimensions, data type and voxel offset give the number of bytes the file decodes to: over
``VolumeLimits.max_decoded_bytes`` (or a voxel offset over ``MAX_VOX_OFFSET``) it is a 413 and
nothing is inflated. So a few-megabyte ``.nii.gz`` of zeros cannot make the server inflate
gigabytes. Then: the file size cap, a parseable header, 3 dimensions within caps, a supported
numeric data type, sane spacing and a finite non-singular affine, and, for an uncompressed file,
that it is long enough to hold the voxels it declares (gzip files are checked against the
uncompressed length recorded in their trailer). A truncated or corrupt file is a 400.

Voxels are then streamed in slabs of whole slices (at most ``SLAB_BYTES`` read at a time, never
more than the header declares, whatever the gzip stream holds) and converted slab by slab into
the one output array: float32 HU (``read_hu``) or validated uint16 labels (``read_labels``). A
float64 volume is never held as float64: growth is the output array plus one slab.
"""

from __future__ import annotations

import gzip
import math
import tempfile
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any, cast

import nibabel as nib
import numpy as np
from nibabel.filebasedimages import ImageFileError
from nibabel.spatialimages import HeaderDataError
from nibabel.wrapstruct import WrapStructError

from inference.engines.imaging.volume import VolumeLimits, check_affine, check_grid
from inference.errors import InvalidInput, PayloadTooLarge

_SUPPORTED_KINDS = "iuf"  # signed/unsigned integers and floats; no complex, RGB or structured types
GZIP_MAGIC = b"\x1f\x8b"
# Header extensions sit between the fixed header and the voxels; real ones are kilobytes.
MAX_VOX_OFFSET = 16 * 1024 * 1024
SLAB_BYTES = 32 * 1024 * 1024
MAX_LABEL = 65535
_READ_ERRORS = (EOFError, OSError, zlib.error, gzip.BadGzipFile, ValueError)


def _affine(img: nib.Nifti1Image | nib.Nifti2Image) -> np.ndarray:
    """sform if set, else qform, else nibabel's fallback (what ``img.affine`` already encodes)."""
    return np.asarray(img.affine, dtype=float)


def _is_gzip(path: Path) -> bool:
    with path.open("rb") as fh:
        return fh.read(2) == GZIP_MAGIC


def _open_stream(path: Path) -> IO[bytes]:
    if _is_gzip(path):
        return cast(IO[bytes], gzip.open(path, "rb"))
    return path.open("rb")


def _not_nifti(field_name: str, why: str) -> InvalidInput:
    return InvalidInput(f"{field_name}: not a readable NIfTI file ({why})", field=field_name)


def _fixed_header(path: Path, field_name: str) -> nib.Nifti1Header | nib.Nifti2Header:
    """The fixed-size header alone (no extensions, no voxels): at most 540 bytes inflated."""
    try:
        with _open_stream(path) as fh:
            block = fh.read(540)
    except _READ_ERRORS as exc:
        raise _not_nifti(field_name, str(exc)) from exc
    for header_class, size in ((nib.Nifti1Header, 348), (nib.Nifti2Header, 540)):
        if len(block) < size:
            continue
        if size not in (int.from_bytes(block[:4], "little"), int.from_bytes(block[:4], "big")):
            continue
        try:
            header = header_class(binaryblock=block[:size], check=False)
        except (WrapStructError, HeaderDataError, ValueError) as exc:
            raise _not_nifti(field_name, str(exc)) from exc
        magic = header["magic"].item()
        if magic not in (b"n+1", b"n+2"):
            raise _not_nifti(field_name, f"magic {magic!r} is not a single-file NIfTI")
        return header
    raise _not_nifti(field_name, "no NIfTI-1 or NIfTI-2 header")


def check_decoded_size(path: Path, limits: VolumeLimits, field_name: str) -> int:
    """Bytes the file decodes to (voxel offset + voxels x bytes per voxel), or a 413 over the cap.

    Read from the fixed header before anything else is parsed or inflated.
    """
    header = _fixed_header(path, field_name)
    try:
        shape = tuple(int(s) for s in header.get_data_shape())
        itemsize = int(header.get_data_dtype().itemsize)
        offset = float(header["vox_offset"])
        zooms = tuple(float(z) for z in header.get_zooms())
    except (HeaderDataError, ValueError, TypeError) as exc:
        raise _not_nifti(field_name, str(exc)) from exc
    if any(s < 0 for s in shape) or not math.isfinite(offset) or offset < 0:
        raise _not_nifti(field_name, "negative dimension or voxel offset")
    grid = shape
    while len(grid) > 3 and grid[-1] == 1:
        grid = grid[:-1]
    check_grid(grid, zooms[:3], limits, field_name)  # the dimension and voxel caps (400s)
    if offset > MAX_VOX_OFFSET:
        raise PayloadTooLarge(
            f"{field_name}: voxel offset {offset:.0f} exceeds the limit of {MAX_VOX_OFFSET} bytes",
            field=field_name,
        )
    decoded = int(offset) + math.prod(shape) * itemsize
    if decoded > limits.max_decoded_bytes:
        raise PayloadTooLarge(
            f"{field_name}: decodes to {decoded} bytes ({'x'.join(map(str, shape))} voxels of "
            f"{itemsize} bytes), over the limit of {limits.max_decoded_bytes}",
            field=field_name,
        )
    return decoded


def _load_header(path: Path) -> Any:
    """``nib.load`` of ``path``; nibabel picks the reader and the decompression by the file's
    name, so a file without a NIfTI name (the web backend stores files under their content hash)
    is opened through a temporary link named for its content. Only the header is used from the
    image: the voxels are read from ``path`` itself (``_slabs``)."""
    if path.name.endswith((".nii", ".nii.gz")):
        return nib.load(str(path))
    name = "image.nii.gz" if _is_gzip(path) else "image.nii"
    with tempfile.TemporaryDirectory(prefix="cdss-nifti-") as tmp:
        link = Path(tmp) / name
        link.symlink_to(path)
        img = nib.load(str(link))
        img.header  # noqa: B018 - parsed now, while the link exists
        return img


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
    check_decoded_size(path, limits, field_name)
    try:
        img = _load_header(path)
    except (ImageFileError, HeaderDataError, EOFError, OSError, zlib.error, ValueError) as exc:
        raise _not_nifti(field_name, str(exc)) from exc
    if not isinstance(img, nib.Nifti1Image | nib.Nifti2Image):
        raise InvalidInput(
            f"{field_name}: not a NIfTI image ({type(img).__name__})", field=field_name
        )
    shape = volume_shape(img)
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


def volume_shape(img: nib.Nifti1Image) -> tuple[int, ...]:
    """The image's shape without trailing singleton dimensions ((x, y, z, 1) is a 3D volume)."""
    shape = tuple(int(s) for s in img.shape)
    while len(shape) > 3 and shape[-1] == 1:
        shape = shape[:-1]
    return shape


def _read_exact(fh: IO[bytes], view: memoryview) -> int:
    done = 0
    while done < len(view):
        got = fh.readinto(view[done:])  # type: ignore[attr-defined]  # every stream here has it
        if not got:
            break
        done += got
    return done


def _slabs(img: nib.Nifti1Image, path: Path, field_name: str) -> Iterator[tuple[int, np.ndarray]]:
    """``(first slice, raw voxels of whole slices)`` in file order, one bounded slab at a time."""
    proxy: Any = img.dataobj
    nx, ny, nz = volume_shape(img)[:3]
    dtype = img.get_data_dtype()
    plane = nx * ny * dtype.itemsize
    per_slab = max(1, SLAB_BYTES // max(plane, 1))
    buffer = bytearray(min(per_slab, nz) * plane)
    try:
        with _open_stream(path) as fh:
            skip = int(proxy.offset)
            while skip > 0:
                chunk = fh.read(min(skip, 1 << 20))
                if not chunk:
                    raise EOFError("the file ends before its voxel data")
                skip -= len(chunk)
            for z0 in range(0, nz, per_slab):
                k = min(per_slab, nz - z0)
                view = memoryview(buffer)[: k * plane]
                if _read_exact(fh, view) < len(view):
                    raise EOFError("the voxel data ends early")
                raw = np.frombuffer(buffer, dtype=dtype, count=nx * ny * k)
                yield z0, raw.reshape((nx, ny, k), order="F")
    except _READ_ERRORS as exc:
        raise InvalidInput(
            f"{field_name}: voxel data is truncated or corrupt ({exc})", field=field_name
        ) from exc


def read_hu(img: nib.Nifti1Image, path: Path, field_name: str) -> np.ndarray:
    """The voxels as a float32 3D array (Fortran order), scaled by scl_slope/scl_inter."""
    proxy: Any = img.dataobj
    slope, inter = proxy.slope, proxy.inter
    scale = slope is not None and np.isfinite(slope) and slope not in (0.0, 1.0)
    shift = inter is not None and np.isfinite(inter) and inter != 0.0
    out = np.empty(volume_shape(img)[:3], dtype=np.float32, order="F")
    for z0, raw in _slabs(img, path, field_name):
        with np.errstate(over="ignore", invalid="ignore"):  # checked just below
            slab = raw.astype(np.float32)
            if scale:
                slab *= np.float32(slope)
            if shift:
                slab += np.float32(inter)
        if not np.all(np.isfinite(slab)):
            raise InvalidInput(
                f"{field_name}: voxel data holds NaN or infinite values (or values beyond float32)",
                field=field_name,
            )
        out[:, :, z0 : z0 + slab.shape[2]] = slab
    return out


def read_labels(img: nib.Nifti1Image, path: Path, field_name: str) -> np.ndarray:
    """The voxels as whole-number labels in 0..MAX_LABEL, a uint16 3D array (Fortran order)."""
    out = np.empty(volume_shape(img)[:3], dtype=np.uint16, order="F")
    for z0, raw in _slabs(img, path, field_name):
        if raw.dtype.kind == "f" and (
            not np.all(np.isfinite(raw)) or not np.array_equal(raw, np.round(raw))
        ):
            raise InvalidInput(
                f"{field_name}: label values must be whole numbers", field=field_name
            )
        if raw.size and ((raw.dtype.kind != "u" and raw.min() < 0) or raw.max() > MAX_LABEL):
            raise InvalidInput(
                f"{field_name}: label values must lie in 0..{MAX_LABEL}", field=field_name
            )
        out[:, :, z0 : z0 + raw.shape[2]] = raw
    return out


def nifti_affine(img: nib.Nifti1Image) -> np.ndarray:
    return _affine(img)
