"""Tiny files of every format the upload checks know, built byte by byte (struct, gzip, zipfile)."""

from __future__ import annotations

import gzip
import io
import struct
import zipfile


def nifti_header(
    dims: tuple[int, ...] = (4, 4, 4),
    *,
    datatype: int = 4,
    bitpix: int = 16,
    pixdim: tuple[float, float, float] = (1.0, 1.0, 1.0),
    vox_offset: float | None = None,
    version: int = 1,
    endian: str = "<",
    magic: bytes | None = None,
) -> bytes:
    dim = [len(dims), *dims] + [1] * (7 - len(dims))
    if version == 1:
        block = bytearray(348)
        struct.pack_into(endian + "i", block, 0, 348)
        struct.pack_into(endian + "8h", block, 40, *dim)
        struct.pack_into(endian + "2h", block, 70, datatype, bitpix)
        struct.pack_into(endian + "8f", block, 76, 1.0, *pixdim, 1.0, 1.0, 1.0, 1.0)
        struct.pack_into(endian + "f", block, 108, 352.0 if vox_offset is None else vox_offset)
        block[344:348] = magic if magic is not None else b"n+1\x00"
    else:
        block = bytearray(540)
        struct.pack_into(endian + "i", block, 0, 540)
        block[4:12] = magic if magic is not None else b"n+2\x00\r\n\x1a\n"
        struct.pack_into(endian + "2h", block, 12, datatype, bitpix)
        struct.pack_into(endian + "8q", block, 16, *dim)
        struct.pack_into(endian + "8d", block, 104, 1.0, *pixdim, 1.0, 1.0, 1.0, 1.0)
        struct.pack_into(endian + "q", block, 168, int(544 if vox_offset is None else vox_offset))
    return bytes(block)


def nifti(
    dims: tuple[int, ...] = (4, 4, 4),
    *,
    bytes_per_voxel: int = 2,
    voxels: bytes | None = None,
    **header: object,
) -> bytes:
    """A whole single-file NIfTI: header, the 4-byte extension flag, the voxels (zeros)."""
    block = nifti_header(dims, **header)  # type: ignore[arg-type]
    count = 1
    for d in dims:
        count *= d
    data = voxels if voxels is not None else bytes(count * bytes_per_voxel)
    return block + bytes(4) + data


def nifti_gz(dims: tuple[int, ...] = (4, 4, 4), **kwargs: object) -> bytes:
    return gzip.compress(nifti(dims, **kwargs), mtime=0)  # type: ignore[arg-type]


def dicom_slice(payload: bytes = b"\x08\x00\x05\x00CS\x0a\x00ISO_IR 100") -> bytes:
    return bytes(128) + b"DICM" + payload


def zip_of(members: dict[str, bytes], compression: int = zipfile.ZIP_DEFLATED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return buffer.getvalue()


def dicom_zip(slices: int = 3) -> bytes:
    return zip_of({f"series/IM{i:04d}.dcm": dicom_slice() for i in range(slices)})


def mask_zip(names: tuple[str, ...] = ("liver", "spleen"), dims: tuple[int, ...] = (4, 4, 4)):
    return zip_of(
        {
            f"{name}.nii.gz": nifti_gz(dims, datatype=2, bitpix=8, bytes_per_voxel=1)
            for name in names
        }
    )


OMICS_CSV = b"id,mrna:GENE1,mrna:GENE2,mirna:hsa-mir-1\r\nS1,1.5,2.0,0.1\r\nS2,0.3,,4\r\n"
OMICS_TSV = b"\xef\xbb\xbfsample_id\tmrna:GENE1\tmeth:cg001\nS1\t1.5\t0.2\n"
PDF = b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
MARKDOWN = "# Discharge summary\n\n- Hong Gildong, 홍길동\n".encode()
HTML = b"<!DOCTYPE html>\n<html><body><p>Report</p></body></html>\n"
