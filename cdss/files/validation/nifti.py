"""NIfTI-1 and NIfTI-2 images (``.nii``, ``.nii.gz``) checked with the standard library only.

The fixed header (348 or 540 bytes, either byte order) is parsed with ``struct`` before anything
else: magic ``n+1`` / ``n+2`` (a single-file image), a 3D grid (trailing dimensions of 1 are
dropped) within the dimension and voxel caps, a numeric data type (integers and floats; no complex,
RGB or bit types), finite spacing between 0.05 and 20 mm, and a voxel offset past the header. The
header then says what the image decodes to (voxel offset + voxels x bytes per voxel); over
``FileLimits.max_decoded_bytes`` it is refused before any more is inflated, so a small ``.nii.gz``
of zeros that declares a huge volume costs nothing.

The decoded length must then equal what the header declares: a ``.nii`` is exactly that long; a
``.nii.gz`` is one gzip stream whose trailer records that length (checked first, from the last 4
bytes, so a truncated upload is refused at once), then inflated in full with its CRC checked and
never past the declared size. A ``.nii.gz`` inside a zip of masks is checked from its header and
trailer only: the zip's own CRC covers its bytes, and inflating every mask of a full-resolution
segmentation (tens of gigabytes) is the analysis's work, not the upload's.

These are the inference server's own header rules (``inference/engines/imaging``), so a file
accepted here is not refused there for its shape.
"""

from __future__ import annotations

import math
import struct
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cdss.files.validation.base import READ_CHUNK, FileLimits, FileRejected

NIFTI1_HEADER = 348
NIFTI2_HEADER = 540
GZIP_MAGIC = b"\x1f\x8b"
MAX_DIM = 2048
MIN_SPACING_MM = 0.05
MAX_SPACING_MM = 20.0
# Header extensions sit between the fixed header and the voxels; real ones are kilobytes.
MAX_VOX_OFFSET = 16 * 1024 * 1024
# Inflated per call, so one call never holds more than this much output.
_INFLATE_CHUNK = 4 * 1024 * 1024

# NIfTI datatype code -> (name, bytes per voxel)
DATATYPES: dict[int, tuple[str, int]] = {
    2: ("uint8", 1),
    4: ("int16", 2),
    8: ("int32", 4),
    16: ("float32", 4),
    64: ("float64", 8),
    256: ("int8", 1),
    512: ("uint16", 2),
    768: ("uint32", 4),
    1024: ("int64", 8),
    1280: ("uint64", 8),
}
UNSUPPORTED_DATATYPES = {
    1: "binary",
    32: "complex64",
    128: "rgb24",
    1536: "float128",
    1792: "complex128",
    2048: "complex256",
    2304: "rgba32",
}


@dataclass(frozen=True)
class NiftiHeader:
    version: int
    dims: tuple[int, int, int]
    datatype: str
    bytes_per_voxel: int
    spacing_mm: tuple[float, float, float]
    vox_offset: int

    @property
    def voxels(self) -> int:
        return math.prod(self.dims)

    @property
    def decoded_bytes(self) -> int:
        return self.vox_offset + self.voxels * self.bytes_per_voxel

    def metadata(self) -> dict[str, Any]:
        return {
            "nifti_version": self.version,
            "dims": list(self.dims),
            "spacing_mm": [round(s, 6) for s in self.spacing_mm],
            "datatype": self.datatype,
            "voxels": self.voxels,
            "decoded_bytes": self.decoded_bytes,
        }


def looks_like_nifti(head: bytes) -> bool:
    """Whether ``head`` starts with a NIfTI-1/2 header size, in either byte order."""
    if len(head) < 4:
        return False
    sizes = {struct.unpack("<i", head[:4])[0], struct.unpack(">i", head[:4])[0]}
    return bool(sizes & {NIFTI1_HEADER, NIFTI2_HEADER})


def _shape(where: str, raw_dims: tuple[int, ...], limits: FileLimits) -> tuple[int, int, int]:
    ndim = raw_dims[0]
    if not 1 <= ndim <= 7:
        raise FileRejected(f"{where}: malformed NIfTI header: dim[0] is {ndim}, not 1 to 7")
    dims = list(raw_dims[1 : ndim + 1])
    for i, d in enumerate(dims, start=1):
        if d < 1:
            raise FileRejected(f"{where}: malformed NIfTI header: dimension {i} is {d}")
    while len(dims) > 3 and dims[-1] == 1:
        dims.pop()
    text = "x".join(map(str, dims))
    if len(dims) != 3:
        raise FileRejected(f"{where}: expected a 3D volume, the header declares {text}")
    if max(dims) > MAX_DIM:
        raise FileRejected(f"{where}: dimension {max(dims)} is over the limit of {MAX_DIM}")
    voxels = math.prod(dims)
    if voxels > limits.max_voxels:
        raise FileRejected(
            f"{where}: {voxels} voxels ({text}) are over the limit of {limits.max_voxels}"
        )
    return dims[0], dims[1], dims[2]


def parse_header(block: bytes, where: str, limits: FileLimits) -> NiftiHeader:
    """The fixed header at the start of ``block`` (at least its first 348 or 540 bytes)."""
    if len(block) < 4 or not looks_like_nifti(block):
        raise FileRejected(f"{where}: not a NIfTI image (no NIfTI-1 or NIfTI-2 header)")
    endian = "<" if struct.unpack("<i", block[:4])[0] in (NIFTI1_HEADER, NIFTI2_HEADER) else ">"
    size = struct.unpack(endian + "i", block[:4])[0]
    if len(block) < size:
        raise FileRejected(
            f"{where}: truncated inside the NIfTI header ({len(block)} of {size} bytes)"
        )
    if size == NIFTI1_HEADER:
        version = 1
        magic = block[344:348]
        if magic == b"ni1\x00":
            raise FileRejected(
                f"{where}: a two-file NIfTI (.hdr/.img); upload a single .nii or .nii.gz"
            )
        if magic != b"n+1\x00":
            raise FileRejected(f"{where}: malformed NIfTI-1 header: magic {magic!r}")
        raw_dims: tuple[int, ...] = struct.unpack(endian + "8h", block[40:56])
        datatype = struct.unpack(endian + "h", block[70:72])[0]
        pixdim: tuple[float, ...] = struct.unpack(endian + "8f", block[76:108])
        offset_value: float = struct.unpack(endian + "f", block[108:112])[0]
    else:
        version = 2
        magic = block[4:12]
        if magic != b"n+2\x00\r\n\x1a\n":
            raise FileRejected(f"{where}: malformed NIfTI-2 header: magic {magic!r}")
        datatype = struct.unpack(endian + "h", block[12:14])[0]
        raw_dims = struct.unpack(endian + "8q", block[16:80])
        pixdim = struct.unpack(endian + "8d", block[104:168])
        offset_value = struct.unpack(endian + "q", block[168:176])[0]
    dims = _shape(where, raw_dims, limits)
    if datatype not in DATATYPES:
        name = UNSUPPORTED_DATATYPES.get(datatype, f"code {datatype}")
        raise FileRejected(
            f"{where}: NIfTI data type {name} is not supported (integers and floats only)"
        )
    spacing = (float(pixdim[1]), float(pixdim[2]), float(pixdim[3]))
    if not all(math.isfinite(s) and MIN_SPACING_MM <= s <= MAX_SPACING_MM for s in spacing):
        shown = [round(s, 4) if math.isfinite(s) else str(s) for s in spacing]
        raise FileRejected(
            f"{where}: voxel spacing {shown} mm is outside {MIN_SPACING_MM} to {MAX_SPACING_MM}"
        )
    if not math.isfinite(offset_value) or offset_value != int(offset_value):
        raise FileRejected(f"{where}: malformed NIfTI header: voxel offset {offset_value}")
    vox_offset = int(offset_value)
    if vox_offset < size:
        raise FileRejected(
            f"{where}: malformed NIfTI header: voxel offset {vox_offset} lies inside the header"
        )
    if vox_offset > MAX_VOX_OFFSET:
        raise FileRejected(
            f"{where}: voxel offset {vox_offset} is over the limit of {MAX_VOX_OFFSET} bytes"
        )
    name, bpv = DATATYPES[datatype]
    header = NiftiHeader(version, dims, name, bpv, spacing, vox_offset)
    if header.decoded_bytes > limits.max_decoded_bytes:
        raise FileRejected(
            f"{where}: decodes to {header.decoded_bytes} bytes ({'x'.join(map(str, dims))} "
            f"voxels of {bpv} bytes), over the limit of {limits.max_decoded_bytes}"
        )
    return header


def _length_mismatch(where: str, actual: int, header: NiftiHeader) -> FileRejected:
    declared = header.decoded_bytes
    if actual < declared:
        return FileRejected(
            f"{where}: truncated: {actual} bytes of image, its header declares {declared} "
            "(voxel offset + voxels x bytes per voxel)"
        )
    return FileRejected(
        f"{where}: {actual} bytes of image, {actual - declared} more than its header declares "
        f"({declared}): the header does not describe the data"
    )


def check_nifti_file(path: Path, size: int, limits: FileLimits, where: str = "file") -> NiftiHeader:
    """An uncompressed ``.nii``: its header, and a length of exactly what the header declares."""
    with path.open("rb") as fh:
        block = fh.read(NIFTI2_HEADER)
    header = parse_header(block, where, limits)
    if size != header.decoded_bytes:
        raise _length_mismatch(where, size, header)
    return header


class _Inflater:
    """One gzip stream fed in chunks; decoded output is yielded a bounded piece at a time."""

    def __init__(self, where: str) -> None:
        self.where = where
        self._d = zlib.decompressobj(16 + zlib.MAX_WBITS)
        self.decoded = 0
        self.trailing = 0  # bytes after the end of the gzip stream

    @property
    def finished(self) -> bool:
        return self._d.eof

    def feed(self, data: bytes) -> Iterator[bytes]:
        while data:
            if self._d.eof:
                self.trailing += len(data)
                return
            try:
                out = self._d.decompress(data, _INFLATE_CHUNK)
            except zlib.error as exc:
                raise FileRejected(f"{self.where}: corrupt gzip stream ({exc})") from None
            self.decoded += len(out)
            yield out
            data = self._d.unconsumed_tail
            if self._d.eof:
                self.trailing += len(self._d.unused_data)


_NIFTI1_SIZES = (struct.pack("<i", NIFTI1_HEADER), struct.pack(">i", NIFTI1_HEADER))


def _header_from(
    head: bytearray, where: str, limits: FileLimits, *, done: bool, gzip: bool
) -> NiftiHeader | None:
    """The header once enough of the decoded stream is in ``head`` (or the stream ended)."""
    if (len(head) >= 4 or done) and not looks_like_nifti(head):
        what = "a gzip file that does not hold" if gzip else "not"
        raise FileRejected(f"{where}: {what} a NIfTI image")
    if len(head) >= NIFTI2_HEADER or (
        len(head) >= NIFTI1_HEADER and bytes(head[:4]) in _NIFTI1_SIZES
    ):
        return parse_header(bytes(head[:NIFTI2_HEADER]), where, limits)
    if not done:
        return None
    raise FileRejected(f"{where}: truncated inside the NIfTI header ({len(head)} bytes)")


def _isize(trailer: bytes) -> int:
    return int(struct.unpack("<I", trailer[-4:])[0])


def _check_isize(where: str, isize: int, header: NiftiHeader) -> None:
    if isize != header.decoded_bytes % 2**32:
        raise FileRejected(
            f"{where}: truncated, or a header that does not describe the data: the gzip "
            f"trailer records {isize} decoded bytes, the NIfTI header declares "
            f"{header.decoded_bytes} (a .nii.gz must be one gzip stream)"
        )


def check_nifti_gzip_file(
    path: Path, size: int, limits: FileLimits, where: str = "file"
) -> NiftiHeader:
    """A ``.nii.gz``: header, trailer length, then the whole stream inflated and CRC-checked."""
    if size < 18:
        raise FileRejected(f"{where}: truncated gzip stream ({size} bytes)")
    with path.open("rb") as fh:
        fh.seek(-4, 2)
        isize = _isize(fh.read(4))
        fh.seek(0)
        inflater = _Inflater(where)
        head = bytearray()
        header: NiftiHeader | None = None
        while chunk := fh.read(READ_CHUNK):
            for out in inflater.feed(chunk):
                if header is None:
                    head += out
                    header = _header_from(head, where, limits, done=False, gzip=True)
                    if header is not None:
                        _check_isize(where, isize, header)
                        del head[:]
                if header is not None and inflater.decoded > header.decoded_bytes:
                    raise _length_mismatch(where, inflater.decoded, header)
    if header is None:
        header = _header_from(head, where, limits, done=True, gzip=True)
        assert header is not None
        _check_isize(where, isize, header)
    if not inflater.finished:
        raise FileRejected(
            f"{where}: truncated gzip stream: it ends after {inflater.decoded} decoded bytes, "
            f"the NIfTI header declares {header.decoded_bytes}"
        )
    if inflater.trailing:
        raise FileRejected(
            f"{where}: {inflater.trailing} bytes follow the end of the gzip stream "
            "(expected one gzip stream)"
        )
    if inflater.decoded != header.decoded_bytes:
        raise _length_mismatch(where, inflater.decoded, header)
    return header


class NiftiMemberCheck:
    """A NIfTI mask read from a zip member, fed in chunks: header, then its declared length.

    A ``.nii`` must be exactly the declared length; a ``.nii.gz`` is inflated only as far as its
    header and must record the declared length in its gzip trailer.
    """

    def __init__(self, where: str, limits: FileLimits) -> None:
        self.where = where
        self.limits = limits
        self.header: NiftiHeader | None = None
        self._gzip: bool | None = None
        self._inflater = _Inflater(where)
        self._head = bytearray()
        self._tail = b""
        self.raw_bytes = 0

    def feed(self, chunk: bytes) -> None:
        self.raw_bytes += len(chunk)
        self._tail = chunk[-4:] if len(chunk) >= 4 else (self._tail + chunk)[-4:]
        if self._gzip is None:
            self._head += chunk
            if len(self._head) < 2:
                return
            self._gzip = bytes(self._head[:2]) == GZIP_MAGIC
            pending, self._head = bytes(self._head), bytearray()
        else:
            pending = chunk
        if self.header is not None:
            return
        if not self._gzip:
            self._head += pending
            self.header = _header_from(self._head, self.where, self.limits, done=False, gzip=False)
            return
        for out in self._inflater.feed(pending):
            self._head += out
            self.header = _header_from(self._head, self.where, self.limits, done=False, gzip=True)
            if self.header is not None:
                return

    def finish(self) -> NiftiHeader:
        if self._gzip is None:
            raise FileRejected(f"{self.where}: not a NIfTI image ({self.raw_bytes} bytes)")
        if self.header is None:
            self.header = _header_from(
                self._head, self.where, self.limits, done=True, gzip=self._gzip
            )
            assert self.header is not None
        if self._gzip:
            _check_isize(self.where, _isize(self._tail), self.header)
        elif self.raw_bytes != self.header.decoded_bytes:
            raise _length_mismatch(self.where, self.raw_bytes, self.header)
        return self.header
