"""Zip archives: a DICOM series (``dicom-zip``) or one NIfTI mask per structure (``mask-zip``).

Before ``zipfile`` parses anything, the end-of-central-directory record is read on its own: an
archive that declares more than twice ``max_zip_members`` entries, or a central directory over
``MAX_CENTRAL_DIRECTORY`` bytes, is refused without building millions of entries in memory.
Then every entry's name must be relative with no ``..`` part, and no member may be encrypted or
use a compression method ``zipfile`` lacks. Directories and the litter of archivers
(``__MACOSX/``, ``.DS_Store``, ``Thumbs.db``, ``DICOMDIR``) are skipped; the rest are the members:
at least one, at most ``max_zip_members``, each declaring at most ``max_zip_member_bytes`` and
in all at most ``max_decoded_bytes``, none inflating more than ``MAX_RATIO`` times its stored
size (above 1 MiB). Every member is then read once through ``zipfile``, which never inflates past
the declared size and checks the CRC, so a bomb, a lying size or a corrupt member is a 400 that
names it.

A DICOM series: every member is a DICOM file ("DICM" at offset 128). A zip of masks: every member
is ``<structure>.nii`` or ``<structure>.nii.gz`` (letters, digits, ``_`` and ``-``), each a NIfTI
image (``nifti.NiftiMemberCheck``), all on one grid, no structure twice.
"""

from __future__ import annotations

import re
import struct
import zipfile
import zlib
from pathlib import Path, PurePosixPath
from typing import Any, Protocol

from cdss.files.validation.base import READ_CHUNK, FileLimits, FileRejected
from cdss.files.validation.nifti import NiftiHeader, NiftiMemberCheck

ZIP_MAGICS = (b"PK\x03\x04", b"PK\x05\x06")
MAX_CENTRAL_DIRECTORY = 64 * 1024 * 1024
MAX_RATIO = 200
_RATIO_FLOOR = 1024 * 1024
_SKIP_PREFIXES = ("__MACOSX/",)
_SKIP_NAMES = {"DICOMDIR", ".DS_Store", "Thumbs.db", "desktop.ini"}
_SUPPORTED_METHODS = {zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED, zipfile.ZIP_BZIP2, zipfile.ZIP_LZMA}
_MASK_NAME = re.compile(r"^([A-Za-z0-9_\-]{1,80})\.nii(\.gz)?$")
_EOCD = b"PK\x05\x06"
_EOCD64_LOCATOR = b"PK\x06\x07"
_EOCD64 = b"PK\x06\x06"
# What reading a member can raise besides a clean read: a bad CRC or stream, a truncated member,
# a compression method this Python lacks.
_MEMBER_ERRORS = (
    zipfile.BadZipFile,
    zlib.error,
    EOFError,
    OSError,
    RuntimeError,
    NotImplementedError,
    ValueError,
)


class MemberCheck(Protocol):
    def feed(self, chunk: bytes) -> None: ...


def _central_directory(path: Path, size: int) -> tuple[int, int]:
    """(entries, central directory bytes) from the end-of-central-directory record."""
    with path.open("rb") as fh:
        tail_size = min(size, 22 + 65535 + 20)
        fh.seek(size - tail_size)
        tail = fh.read(tail_size)
        at = tail.rfind(_EOCD)
        if at < 0 or len(tail) - at < 22:
            raise FileRejected(
                "file: not a readable zip archive (no end of central directory: truncated?)"
            )
        _sig, _disk, _cd_disk, _here, entries, cd_size, _cd_offset, _comment = struct.unpack(
            "<4s4H2LH", tail[at : at + 22]
        )
        if entries != 0xFFFF and cd_size != 0xFFFFFFFF:
            return entries, cd_size
        locator = tail[at - 20 : at] if at >= 20 else b""
        if len(locator) != 20 or not locator.startswith(_EOCD64_LOCATOR):
            raise FileRejected("file: not a readable zip archive (broken zip64 directory)")
        record_offset = struct.unpack("<4sLQL", locator)[2]
        fh.seek(record_offset)
        record = fh.read(56)
        if len(record) != 56 or not record.startswith(_EOCD64):
            raise FileRejected("file: not a readable zip archive (broken zip64 directory)")
        entries64, cd_size64 = struct.unpack("<QQ", record[32:48])
        return int(entries64), int(cd_size64)


def _unsafe_name(name: str) -> bool:
    if not name or "\x00" in name or name.startswith(("/", "\\")):
        return True
    if re.match(r"^[A-Za-z]:", name):
        return True
    return ".." in re.split(r"[\\/]", name)


def _skipped(info: zipfile.ZipInfo) -> bool:
    return (
        info.is_dir()
        or info.filename.startswith(_SKIP_PREFIXES)
        or PurePosixPath(info.filename).name in _SKIP_NAMES
    )


def _members(zf: zipfile.ZipFile, limits: FileLimits) -> list[zipfile.ZipInfo]:
    members: list[zipfile.ZipInfo] = []
    for info in zf.infolist():
        name = info.filename
        if _unsafe_name(name):
            raise FileRejected(f"file: zip member {name!r} is not a safe relative name")
        if info.flag_bits & 0x1:
            raise FileRejected(f"file: zip member {name!r} is encrypted")
        if info.compress_type not in _SUPPORTED_METHODS:
            raise FileRejected(
                f"file: zip member {name!r} uses an unsupported compression method "
                f"({info.compress_type})"
            )
        if not _skipped(info):
            members.append(info)
    if not members:
        raise FileRejected("file: the zip archive holds no files")
    if len(members) > limits.max_zip_members:
        raise FileRejected(
            f"file: the zip archive holds {len(members)} files, over the limit of "
            f"{limits.max_zip_members}"
        )
    total = 0
    for info in members:
        if info.file_size > limits.max_zip_member_bytes:
            raise FileRejected(
                f"file: zip member {info.filename!r} inflates to {info.file_size} bytes, over "
                f"the limit of {limits.max_zip_member_bytes}"
            )
        if info.file_size > _RATIO_FLOOR and info.file_size > MAX_RATIO * max(
            info.compress_size, 1
        ):
            raise FileRejected(
                f"file: zip member {info.filename!r} inflates over {MAX_RATIO} times its "
                "stored size (a zip bomb?)"
            )
        total += info.file_size
    if total > limits.max_decoded_bytes:
        raise FileRejected(
            f"file: the zip archive inflates to {total} bytes, over the limit of "
            f"{limits.max_decoded_bytes}"
        )
    return members


def _read_member(zf: zipfile.ZipFile, info: zipfile.ZipInfo, check: MemberCheck) -> None:
    """Feeds the member to ``check``; zipfile stops at the declared size and checks the CRC."""
    read = 0
    try:
        with zf.open(info) as fh:
            while chunk := fh.read(READ_CHUNK):
                read += len(chunk)
                if read > info.file_size:
                    raise FileRejected(
                        f"file: zip member {info.filename!r} inflates past its declared size"
                    )
                check.feed(chunk)
    except _MEMBER_ERRORS as exc:
        raise FileRejected(
            f"file: zip member {info.filename!r} cannot be read ({type(exc).__name__}: {exc})"
        ) from None


def _open(path: Path, size: int, limits: FileLimits) -> zipfile.ZipFile:
    entries, cd_size = _central_directory(path, size)
    if entries > 2 * limits.max_zip_members:
        raise FileRejected(
            f"file: the zip archive has {entries} entries, over the limit of "
            f"{limits.max_zip_members} files"
        )
    if cd_size > MAX_CENTRAL_DIRECTORY:
        raise FileRejected(
            f"file: the zip archive's directory is {cd_size} bytes, over the limit of "
            f"{MAX_CENTRAL_DIRECTORY}"
        )
    try:
        return zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError, ValueError, EOFError) as exc:
        raise FileRejected(f"file: not a readable zip archive ({exc})") from None


class _DicomCheck:
    def __init__(self) -> None:
        self.head = b""

    def feed(self, chunk: bytes) -> None:
        if len(self.head) < 132:
            self.head += chunk[: 132 - len(self.head)]


def check_dicom_zip(path: Path, size: int, limits: FileLimits) -> dict[str, Any]:
    with _open(path, size, limits) as zf:
        members = _members(zf, limits)
        for info in members:
            check = _DicomCheck()
            _read_member(zf, info, check)
            if check.head[128:132] != b"DICM":
                raise FileRejected(
                    f"file: zip member {info.filename!r} is not a DICOM file (no DICM marker at "
                    "byte 128); a ct_volume zip holds one DICOM series"
                )
    return {"members": len(members)}


def check_mask_zip(path: Path, size: int, limits: FileLimits) -> dict[str, Any]:
    structures: list[str] = []
    grid: tuple[str, NiftiHeader] | None = None
    with _open(path, size, limits) as zf:
        members = _members(zf, limits)
        for info in members:
            basename = PurePosixPath(info.filename.replace("\\", "/")).name
            match = _MASK_NAME.match(basename)
            if match is None:
                raise FileRejected(
                    f"file: zip member {info.filename!r} is not a <structure>.nii.gz mask "
                    "(letters, digits, _ and - in the name)"
                )
            if match.group(1) in structures:
                raise FileRejected(f"file: structure {match.group(1)!r} appears twice in the zip")
            check = NiftiMemberCheck(f"file: zip member {info.filename!r}", limits)
            _read_member(zf, info, check)
            header = check.finish()
            if grid is None:
                grid = (info.filename, header)
            elif (header.dims, header.spacing_mm) != (grid[1].dims, grid[1].spacing_mm):
                raise FileRejected(
                    f"file: zip member {info.filename!r} is on another grid "
                    f"({_grid_text(header)}) than {grid[0]!r} ({_grid_text(grid[1])}); "
                    "every mask must be on the grid of one CT"
                )
            structures.append(match.group(1))
    assert grid is not None
    return {
        "members": len(members),
        "structures": sorted(structures),
        "dims": list(grid[1].dims),
        "spacing_mm": [round(s, 6) for s in grid[1].spacing_mm],
    }


def _grid_text(header: NiftiHeader) -> str:
    spacing = "x".join(f"{s:g}" for s in header.spacing_mm)
    return f"{'x'.join(map(str, header.dims))} voxels of {spacing} mm"
