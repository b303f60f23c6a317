"""Reading zip archives in memory with zip-bomb caps (member count, inflated size, ratio)."""

from __future__ import annotations

import zipfile
from pathlib import Path

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


def read_zip_member(zf: zipfile.ZipFile, info: zipfile.ZipInfo, field_name: str) -> bytes:
    """Read one member, refusing to inflate past its declared size."""
    with zf.open(info) as fh:
        data = fh.read(info.file_size + 1)
    if len(data) > info.file_size:
        raise InvalidInput(
            f"{field_name}: zip member {info.filename!r} inflates past its declared size",
            field=field_name,
        )
    return data


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
