"""The in-memory CT volume, the limits every input is checked against, and RAS reorientation.

A ``Volume`` always holds HU as float32 in RAS+ voxel order (increasing the first, second and third
index moves towards the patient's Right, Anterior and Superior) with its 4x4 voxel-to-mm affine.
Reorienting only permutes and flips axes (no resampling), so every HU value is kept exactly; flips
are done in place, slab by slab (the common LPS/LAS to RAS case costs no second copy of the
volume); only an axis permutation copies.
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
    # What a volume may decode to, before any conversion (header dims x bytes per voxel; for a
    # DICOM series, the pixel data of all its slices). Set from CDSS_IMAGING_MAX_DECODED_BYTES.
    max_decoded_bytes: int = 1024 * 1024 * 1024
    max_dim: int = 2048
    max_voxels: int = 512 * 512 * 1200
    min_spacing_mm: float = 0.05
    max_spacing_mm: float = 20.0
    # Zipped DICOM series.
    max_zip_members: int = 4000
    max_uncompressed_bytes: int = 2 * 1024 * 1024 * 1024
    max_compression_ratio: float = 200.0
    # One member of a zip (one DICOM slice, one mask file): a 2048x2048 frame of 8-byte pixels is
    # 32 MiB; a bigger member is not a slice.
    max_member_bytes: int = 64 * 1024 * 1024


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


_FLIP_CHUNK_BYTES = 8 * 1024 * 1024


def _flip_in_place(data: np.ndarray, axes: list[int]) -> None:
    """Reverse ``data`` along ``axes`` in place, one bounded chunk (or one pair of planes) at a
    time along its slowest axis, so no second copy of the volume is made."""
    slow = 2 if data.flags.f_contiguous and not data.flags.c_contiguous else 0
    reverse = tuple(
        slice(None, None, -1) if axis in axes and axis != slow else slice(None) for axis in range(3)
    )
    in_plane = reverse[:slow] + reverse[slow + 1 :]
    n = data.shape[slow]

    def at(index: int | slice) -> tuple[int | slice, ...]:
        return (slice(None),) * slow + (index,) + (slice(None),) * (2 - slow)

    if slow in axes:
        for i in range((n + 1) // 2):
            j = n - 1 - i
            first = data[at(i)][in_plane].copy()
            data[at(i)] = data[at(j)][in_plane]
            data[at(j)] = first
        return
    plane = max(data[at(0)].nbytes, 1)
    step = max(1, _FLIP_CHUNK_BYTES // plane)
    for start in range(0, n, step):
        chunk = data[at(slice(start, start + step))]
        chunk[...] = chunk[reverse]  # numpy buffers the overlapping copy (one chunk)


def ras_grid(shape: tuple[int, ...], affine: np.ndarray) -> tuple[tuple[int, int, int], np.ndarray]:
    """The shape and affine ``reorient_to_ras`` gives a volume of ``shape``, without its voxels."""
    transform = ornt.ornt_transform(ornt.io_orientation(affine), ornt.axcodes2ornt("RAS"))
    new_shape = [0, 0, 0]
    for axis, (target, _) in enumerate(transform):
        new_shape[int(target)] = int(shape[axis])
    new_affine = affine @ ornt.inv_ornt_aff(transform, tuple(shape[:3]))
    return (new_shape[0], new_shape[1], new_shape[2]), new_affine


def reorient_to_ras(data: np.ndarray, affine: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Permute/flip ``data`` to the closest RAS+ orientation and return the matching affine.

    ``data`` must be 3D; it is flipped in place when it is C or Fortran contiguous (the readers
    hand over arrays they just made), so the caller must not use the array it passed in.
    """
    current = ornt.io_orientation(affine)
    target = ornt.axcodes2ornt(("R", "A", "S"))
    transform = ornt.ornt_transform(current, target)
    if np.array_equal(transform, [[0, 1], [1, 1], [2, 1]]):
        return data, affine
    new_affine = affine @ ornt.inv_ornt_aff(transform, data.shape)
    flips = [axis for axis in range(3) if transform[axis, 1] == -1]
    if flips:
        if data.flags.c_contiguous or data.flags.f_contiguous:
            _flip_in_place(data, flips)
        else:
            data = np.flip(data, tuple(flips)).copy(order="K")
    order = np.argsort(transform[:, 0])
    if not np.array_equal(order, [0, 1, 2]):
        # order="K" keeps the source's memory layout (a C-order copy of a Fortran array is slow).
        data = data.transpose(order).copy(order="K")
    return data, new_affine
