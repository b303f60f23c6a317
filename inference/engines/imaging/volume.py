"""The in-memory CT volume, the limits every input is checked against, and RAS reorientation.

A ``Volume`` always holds HU as float32 in RAS+ voxel order (increasing the first, second and third
index moves towards the patient's Right, Anterior and Superior) with its 4x4 voxel-to-mm affine.
Reorienting only permutes and flips axes (no resampling), so every HU value is kept exactly.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import nibabel as nib
import numpy as np
from nibabel import orientations as ornt

from inference.errors import InvalidInput


@dataclass(frozen=True)
class VolumeLimits:
    """Caps applied before any voxel is read (all inclusive)."""

    max_file_bytes: int = 1024 * 1024 * 1024
    max_dim: int = 2048
    max_voxels: int = 512 * 512 * 1200
    min_spacing_mm: float = 0.05
    max_spacing_mm: float = 20.0
    # Zipped DICOM series.
    max_zip_members: int = 4000
    max_uncompressed_bytes: int = 2 * 1024 * 1024 * 1024
    max_compression_ratio: float = 200.0


@dataclass
class Volume:
    """HU voxels (float32, RAS order), the voxel-to-RAS-mm affine, and where they came from."""

    data: np.ndarray
    affine: np.ndarray
    source_format: str
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def shape(self) -> tuple[int, int, int]:
        s = self.data.shape
        return (int(s[0]), int(s[1]), int(s[2]))

    @property
    def spacing_mm(self) -> tuple[float, float, float]:
        z = np.sqrt((self.affine[:3, :3] ** 2).sum(axis=0))
        return (float(z[0]), float(z[1]), float(z[2]))

    @property
    def orientation(self) -> str:
        return "".join(nib.aff2axcodes(self.affine))

    @property
    def voxel_volume_ml(self) -> float:
        return float(abs(np.linalg.det(self.affine[:3, :3]))) / 1000.0

    def summary(self) -> dict[str, Any]:
        lo, hi = (float(self.data.min()), float(self.data.max())) if self.data.size else (0.0, 0.0)
        return {
            "shape": list(self.shape),
            "spacing_mm": [round(s, 4) for s in self.spacing_mm],
            "orientation": self.orientation,
            "hu_range": [lo, hi],
            "source_format": self.source_format,
        }


def check_grid(
    shape: tuple[int, ...],
    spacing: tuple[float, ...] | np.ndarray,
    limits: VolumeLimits,
    field_name: str,
) -> None:
    """Header sanity shared by every reader: 3 positive dims within caps, finite sane spacing."""
    if len(shape) != 3:
        raise InvalidInput(
            f"{field_name}: expected a 3D volume, got {len(shape)} dimensions", field=field_name
        )
    if any(int(s) < 1 for s in shape):
        raise InvalidInput(f"{field_name}: has an empty dimension {tuple(shape)}", field=field_name)
    if max(shape) > limits.max_dim:
        raise InvalidInput(
            f"{field_name}: dimension {max(shape)} exceeds the limit of {limits.max_dim}",
            field=field_name,
        )
    n = int(np.prod([int(s) for s in shape]))
    if n > limits.max_voxels:
        raise InvalidInput(
            f"{field_name}: {n} voxels exceed the limit of {limits.max_voxels}", field=field_name
        )
    sp = np.asarray(spacing, dtype=float)
    if (
        not np.all(np.isfinite(sp))
        or np.any(sp < limits.min_spacing_mm)
        or np.any(sp > limits.max_spacing_mm)
    ):
        raise InvalidInput(
            f"{field_name}: voxel spacing {[round(float(s), 4) for s in sp]} mm is outside "
            f"[{limits.min_spacing_mm}, {limits.max_spacing_mm}]",
            field=field_name,
        )


def check_affine(affine: np.ndarray, field_name: str) -> None:
    if affine.shape != (4, 4) or not np.all(np.isfinite(affine)):
        raise InvalidInput(
            f"{field_name}: the voxel-to-world transform is not finite", field=field_name
        )
    if abs(np.linalg.det(affine[:3, :3])) < 1e-9:
        raise InvalidInput(
            f"{field_name}: the voxel-to-world transform is singular", field=field_name
        )


def reorient_to_ras(data: np.ndarray, affine: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Permute/flip ``data`` to the closest RAS+ orientation and return the matching affine."""
    current = ornt.io_orientation(affine)
    target = ornt.axcodes2ornt(("R", "A", "S"))
    transform = ornt.ornt_transform(current, target)
    if np.array_equal(transform, [[0, 1], [1, 1], [2, 1]]):
        return data, affine
    out = ornt.apply_orientation(data, transform)
    new_affine = affine @ ornt.inv_ornt_aff(transform, data.shape)
    # order="K" keeps the source's memory layout (a C-order copy of a Fortran array is slow).
    return out.copy(order="K"), new_affine
