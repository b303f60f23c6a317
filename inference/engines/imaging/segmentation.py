"""Reading a segmentation that belongs to a volume: a multi-label NIfTI (TotalSegmentator style) or
one binary NIfTI mask per structure (a folder, or a zip of ``<structure>.nii.gz`` files).

Every file passes the same header checks as a volume (including the decoded-bytes cap), and must
lie on the volume's grid after both are reoriented to RAS (TotalSegmentator writes its masks on
the input grid); otherwise a 400 says so, from the header, before any voxel is read. Labels are
read slab by slab into uint16; zipped masks are streamed to a temporary file one at a time, never
held in memory whole.
"""

from __future__ import annotations

import re
import tempfile
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from inference.engines.imaging.archive import ZIP_MAGIC, extract_zip_member, open_zip, zip_members
from inference.engines.imaging.nifti_io import (
    nifti_affine,
    open_nifti,
    read_labels,
    volume_shape,
)
from inference.engines.imaging.volume import Volume, VolumeLimits, ras_grid, reorient_to_ras
from inference.errors import InvalidInput

_MASK_NAME = re.compile(r"^([A-Za-z0-9_\-]{1,80})\.nii(\.gz)?$")


def is_multilabel(path: Path) -> bool:
    """A single NIfTI file is a multi-label map; a folder or a zip holds per-structure masks."""
    if path.is_dir():
        return False
    with path.open("rb") as fh:
        return fh.read(4) != ZIP_MAGIC


def _on_grid(path: Path, volume: Volume, limits: VolumeLimits, field_name: str) -> np.ndarray:
    """Read a NIfTI segmentation file (integers) reoriented to RAS on the volume's grid."""
    img = open_nifti(path, limits, field_name)
    shape, affine = ras_grid(volume_shape(img), nifti_affine(img))
    if shape != volume.shape:
        raise InvalidInput(
            f"{field_name}: grid {list(shape)} does not match the volume's {list(volume.shape)}",
            field=field_name,
        )
    tol = 1e-3 * max(volume.spacing_mm) + 1e-3
    if not np.allclose(affine, volume.affine, atol=tol):
        raise InvalidInput(
            f"{field_name}: its voxel-to-world transform differs from the volume's "
            "(not on the same grid)",
            field=field_name,
        )
    data, _ = reorient_to_ras(read_labels(img, path, field_name), nifti_affine(img))
    return data


def load_labelmap(
    path: Path, volume: Volume, limits: VolumeLimits, field_name: str = "segmentation"
) -> np.ndarray:
    """The multi-label map as an unsigned integer array on the volume's grid."""
    data = _on_grid(path, volume, limits, field_name)
    return data.astype(np.uint16 if data.size and data.max() > 255 else np.uint8, copy=False)


def iter_masks(
    path: Path, volume: Volume, limits: VolumeLimits, field_name: str = "segmentation"
) -> Iterator[tuple[str, np.ndarray]]:
    """``(structure name, boolean mask)`` for each ``<name>.nii[.gz]`` in a folder or a zip."""
    if path.is_dir():
        files = sorted(p for p in path.iterdir() if p.is_file() and _MASK_NAME.match(p.name))
        if not files:
            raise InvalidInput(
                f"{field_name}: folder holds no <structure>.nii.gz masks", field=field_name
            )
        for f in files:
            yield _stem(f.name), _on_grid(f, volume, limits, f"{field_name}:{f.name}") > 0
        return
    zf = open_zip(path, field_name)
    with zf, tempfile.TemporaryDirectory(prefix="cdss-masks-") as tmp:
        infos = [
            i
            for i in zip_members(zf, limits, field_name)
            if _MASK_NAME.match(Path(i.filename).name)
        ]
        if not infos:
            raise InvalidInput(
                f"{field_name}: zip holds no <structure>.nii.gz masks", field=field_name
            )
        for info in infos:
            name = Path(info.filename).name  # the basename only: nothing is written outside tmp
            target = Path(tmp) / name
            extract_zip_member(zf, info, target, limits, field_name)
            mask = _on_grid(target, volume, limits, f"{field_name}:{name}") > 0
            target.unlink()
            yield _stem(name), mask


def _stem(filename: str) -> str:
    m = _MASK_NAME.match(filename)
    assert m is not None
    return m.group(1)
