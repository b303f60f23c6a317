"""Per-structure measurements on a CT volume: voxel count, volume in mL, mean and SD of HU.

Works on a multi-label map (all labels in one pass with ``np.bincount``, in slabs so memory stays
bounded on large volumes) or on one binary mask at a time.
"""

from __future__ import annotations

from typing import Any, Literal

import numpy as np

_SLAB_VOXELS = 8 * 1024 * 1024


def _row(
    name: str, label: int | None, n: int, s: float, ss: float, voxel_ml: float
) -> dict[str, Any]:
    mean = s / n
    var = max(ss / n - mean * mean, 0.0)
    return {
        "name": name,
        "label": label,
        "voxels": int(n),
        "volume_ml": round(n * voxel_ml, 3),
        "hu_mean": round(float(mean), 2),
        "hu_std": round(float(np.sqrt(var)), 2),
    }


def measure_labelmap(
    hu: np.ndarray, labelmap: np.ndarray, voxel_ml: float, names: dict[int, str]
) -> list[dict[str, Any]]:
    """One row per nonzero label present, ordered by label id."""
    if hu.shape != labelmap.shape:
        raise ValueError(f"shape mismatch {hu.shape} vs {labelmap.shape}")
    # Flatten both in the same element order without copying (NIfTI arrays are Fortran-ordered;
    # a C-order reshape of them would be a slow transposing copy).
    order: Literal["C", "F"] = "F" if hu.flags.f_contiguous and not hu.flags.c_contiguous else "C"
    flat_hu = hu.reshape(-1, order=order)
    flat_lab = np.asarray(labelmap, order=order).reshape(-1, order=order)
    n_labels = int(flat_lab.max()) + 1 if flat_lab.size else 1
    count = np.zeros(n_labels, dtype=np.int64)
    total = np.zeros(n_labels)
    total_sq = np.zeros(n_labels)
    for start in range(0, flat_hu.size, _SLAB_VOXELS):
        lab = flat_lab[start : start + _SLAB_VOXELS]
        # Background is usually most of a CT: keep only labelled voxels before counting.
        fg = lab != 0
        lab = lab[fg]
        v = flat_hu[start : start + _SLAB_VOXELS][fg].astype(np.float64)
        count += np.bincount(lab, minlength=n_labels)
        total += np.bincount(lab, weights=v, minlength=n_labels)
        total_sq += np.bincount(lab, weights=v * v, minlength=n_labels)
    return [
        _row(
            names.get(label, f"label_{label}"),
            label,
            int(count[label]),
            total[label],
            total_sq[label],
            voxel_ml,
        )
        for label in range(1, n_labels)
        if count[label] > 0
    ]


def measure_mask(
    hu: np.ndarray, mask: np.ndarray, voxel_ml: float, name: str
) -> dict[str, Any] | None:
    """The row of one binary mask, or ``None`` when the mask is empty."""
    values = hu[mask].astype(np.float64)
    if values.size == 0:
        return None
    return _row(
        name, None, values.size, float(values.sum()), float((values * values).sum()), voxel_ml
    )
