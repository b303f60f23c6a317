"""A minimal reader for R ``.rds`` files that hold a list of integer vectors (the PAAD data split).

R's serialization is gzip-compressed XDR. Only the shape used by ``data_split.rds`` is supported
(a generic vector of integer vectors, version 2 or 3); anything else is refused, so a changed file
fails loudly instead of being misread. This avoids a dependency for one 337-byte file.
"""

from __future__ import annotations

import gzip
import struct
from pathlib import Path

_VECSXP = 19
_INTSXP = 13


class RdsFormatError(ValueError):
    """The file is not an XDR-serialized list of integer vectors."""


def read_int_vector_list(path: Path) -> list[list[int]]:
    """Return the integer vectors of the list stored in ``path``, in order (names are ignored)."""
    raw = gzip.decompress(Path(path).read_bytes())
    if raw[:2] != b"X\n":
        raise RdsFormatError(f"{path}: not an XDR-format RDS file")
    pos = 2

    def u32() -> int:
        nonlocal pos
        if pos + 4 > len(raw):
            raise RdsFormatError(f"{path}: truncated")
        (value,) = struct.unpack(">i", raw[pos : pos + 4])
        pos += 4
        return int(value)

    version = u32()
    u32()  # the R version that wrote the file
    u32()  # the minimal R version that can read it
    if version == 3:
        skip = u32()  # length of the native encoding name that follows
        pos += skip
    elif version != 2:
        raise RdsFormatError(f"{path}: unsupported serialization version {version}")
    if u32() & 0xFF != _VECSXP:
        raise RdsFormatError(f"{path}: the top-level object is not a list")
    vectors: list[list[int]] = []
    for _ in range(u32()):
        if u32() & 0xFF != _INTSXP:
            raise RdsFormatError(f"{path}: a list element is not an integer vector")
        length = u32()
        end = pos + 4 * length
        if end > len(raw):
            raise RdsFormatError(f"{path}: truncated")
        vectors.append(list(struct.unpack(f">{length}i", raw[pos:end])))
        pos = end
    return vectors
