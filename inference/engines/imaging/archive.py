"""Reading zip archives with zip-bomb caps (member count, inflated size per member and in all,
compression ratio); a member is inflated only up to its declared size, read whole only when it is
under ``VolumeLimits.max_member_bytes``, and otherwise streamed to disk or read a header at a time.
"""

from __future__ import annotations

import zipfile
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

from inference.engines.imaging.volume import VolumeLimits
from inference.errors import InvalidInput, PayloadTooLarge

ZIP_MAGIC = b"PK\x03\x04"
_SKIP_PREFIXES = ("__MACOSX/",)
_SKIP_NAMES = {"DICOMDIR", ".DS_Store", "Thumbs.db"}


def open_zip(path: Path, field_name: str) -> zipfile.ZipFile:
    """The archive at ``path``, or a 400 naming the field when it is not a readable zip."""
    try:
        return zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as exc:
        raise InvalidInput(
            f"{field_name}: not a readable zip archive ({exc})", field=field_name
        ) from exc


_COPY_CHUNK = 1024 * 1024
# What reading a member can raise besides a clean read: a bad CRC or stream, an encrypted member
# (RuntimeError), a compression method zipfile lacks (NotImplementedError).
_MEMBER_ERRORS = (
    zipfile.BadZipFile,
    zlib.error,
    EOFError,
    OSError,
    RuntimeError,
    NotImplementedError,
    ValueError,
)


@contextmanager
def open_member(zf: zipfile.ZipFile, info: zipfile.ZipInfo, field_name: str) -> Iterator[IO[bytes]]:
    """The member as a stream; a member zipfile cannot read is a 400 naming it."""
    try:
        with zf.open(info) as fh:
            yield fh
    except _MEMBER_ERRORS as exc:
        raise InvalidInput(
            f"{field_name}: zip member {info.filename!r} cannot be read "
            f"({type(exc).__name__}: {exc})",
            field=field_name,
        ) from exc


def _inflates_past(info: zipfile.ZipInfo, field_name: str) -> InvalidInput:
    return InvalidInput(
        f"{field_name}: zip member {info.filename!r} inflates past its declared size",
        field=field_name,
    )


def read_zip_member(zf: zipfile.ZipFile, info: zipfile.ZipInfo, field_name: str) -> bytes:
    """Read one member, refusing to inflate past its declared size."""
    with open_member(zf, info, field_name) as fh:
        data = fh.read(info.file_size + 1)
    if len(data) > info.file_size:
        raise _inflates_past(info, field_name)
    return data


def extract_zip_member(
    zf: zipfile.ZipFile,
    info: zipfile.ZipInfo,
    target: Path,
    limits: VolumeLimits,
    field_name: str,
) -> None:
    """Stream one member to ``target`` in bounded chunks, never past its declared size."""
    if info.file_size > limits.max_decoded_bytes + 16 * 1024 * 1024:
        raise PayloadTooLarge(
            f"{field_name}: zip member {info.filename!r} inflates to {info.file_size} bytes, over "
            f"the limit of {limits.max_decoded_bytes}",
            field=field_name,
        )
    written = 0
    with open_member(zf, info, field_name) as src, target.open("wb") as dst:
        while chunk := src.read(_COPY_CHUNK):
            written += len(chunk)
            if written > info.file_size:
                raise _inflates_past(info, field_name)
            dst.write(chunk)


def zip_members(
    zf: zipfile.ZipFile, limits: VolumeLimits, field_name: str
) -> list[zipfile.ZipInfo]:
    infos = [
        i
        for i in zf.infolist()
        if not i.is_dir()
        and not i.filename.startswith(_SKIP_PREFIXES)
        and Path(i.filename).name not in _SKIP_NAMES
    ]
    if not infos:
        raise InvalidInput(f"{field_name}: the zip archive holds no files", field=field_name)
    if len(infos) > limits.max_zip_members:
        raise InvalidInput(
            f"{field_name}: the zip archive holds {len(infos)} files, over the limit of "
            f"{limits.max_zip_members}",
            field=field_name,
        )
    total = sum(i.file_size for i in infos)
    if total > limits.max_uncompressed_bytes:
        raise PayloadTooLarge(
            f"{field_name}: the zip archive inflates to {total} bytes, over the limit of "
            f"{limits.max_uncompressed_bytes}",
            field=field_name,
        )
    for i in infos:
        if i.file_size > 1024 * 1024 and i.file_size > limits.max_compression_ratio * max(
            i.compress_size, 1
        ):
            raise InvalidInput(
                f"{field_name}: zip member {i.filename!r} has a compression ratio over "
                f"{limits.max_compression_ratio:.0f} (zip bomb?)",
                field=field_name,
            )
    return infos
