"""The 3D view of a CT analysis's labels: a Plotly figure (plain JSON-ready dicts, so the
``plotly`` package is not needed) with one ``mesh3d`` surface per label present.

Each label's mask is averaged over blocks of voxels (about 3 mm wide to start with, slab by slab
so memory stays bounded on large volumes), lightly smoothed, and its 0.5 iso-surface taken by
marching cubes; vertices are placed in RAS world millimetres through the volume's affine and
rounded to 0.1 mm. While the figure's JSON is too large, the label whose surface costs the most
bytes is meshed again on coarser blocks.
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np
from matplotlib.colors import to_hex
from scipy import ndimage as ndi
from skimage.measure import marching_cubes

from inference.engines.imaging.ct_labels import CT_LABELS, CtLabel

BASE_BLOCK_MM = 3.0
# Coarsening steps, as multiples of the base block.
LEVELS = (1, 2, 3, 4, 6, 8, 12, 16)
# Large, enclosing structures are drawn see-through so the organs inside stay visible.
OPACITY = {
    "lung": 0.25,
    "bone": 0.45,
    "subcutaneous_fat": 0.12,
    "visceral_fat": 0.3,
    "liver": 0.7,
    "liver_lesion": 1.0,
}
_SLAB_VOXELS = 8 * 1024 * 1024


def _present(labelmap: np.ndarray) -> list[CtLabel]:
    """The labels of ``ct_labels`` that have a voxel (one pass, no sort)."""
    flat = labelmap.ravel(order="K")
    top = max(label.id for label in CT_LABELS)
    counts = np.zeros(top + 1, dtype=np.int64)
    for start in range(0, flat.size, _SLAB_VOXELS):
        chunk = flat[start : start + _SLAB_VOXELS]
        counts += np.bincount(chunk[chunk <= top].astype(np.int64), minlength=top + 1)
    return [label for label in CT_LABELS if counts[label.id] > 0]


def _block_fraction(
    labelmap: np.ndarray, label_id: int, factors: tuple[int, int, int]
) -> np.ndarray:
    """The fraction of each block of ``factors`` voxels that holds ``label_id`` (float32),
    computed a slab of blocks at a time along the third axis."""
    fi, fj, fk = factors
    ni, nj, nk = labelmap.shape
    bi, bj, bk = -(-ni // fi), -(-nj // fj), -(-nk // fk)
    out = np.zeros((bi, bj, bk), dtype=np.float32)
    for b in range(bk):
        slab = labelmap[:, :, b * fk : (b + 1) * fk] == label_id
        if not slab.any():
            continue
        padded = np.zeros((bi * fi, bj * fj, fk), dtype=np.float32)
        padded[:ni, :nj, : slab.shape[2]] = slab
        out[:, :, b] = padded.reshape(bi, fi, bj, fj, fk).mean(axis=(1, 3, 4))
    return out


def _coarsen(grid: np.ndarray, m: int) -> np.ndarray:
    """Block mean of ``grid`` over ``m`` cells along every axis (padded with zeros)."""
    if m == 1:
        return grid
    shape = [-(-n // m) * m for n in grid.shape]
    padded = np.zeros(shape, dtype=np.float32)
    padded[: grid.shape[0], : grid.shape[1], : grid.shape[2]] = grid
    a, b, c = (n // m for n in shape)
    return padded.reshape(a, m, b, m, c, m).mean(axis=(1, 3, 5))


def _surface(
    grid: np.ndarray, factors: tuple[int, int, int], affine: np.ndarray
) -> tuple[np.ndarray, np.ndarray] | None:
    """Vertices (world mm, rounded to 0.1) and faces of the iso-surface of a block grid whose
    cells are ``factors`` voxels wide: at 0.5 of the lightly smoothed fractions, or, for a
    structure smaller than a block (a small lesion), at half its largest fraction."""
    if not grid.any():
        return None
    smooth = ndi.gaussian_filter(grid, sigma=0.6, mode="constant")
    if smooth.max() <= 0.5:
        smooth = grid
    peak = float(smooth.max())
    level = 0.5 if peak > 0.5 else 0.5 * peak
    padded = np.pad(smooth, 1)  # closed surfaces where a structure meets the volume's edge
    try:
        verts, faces, _, _ = marching_cubes(padded, level=level, allow_degenerate=False)
    except (ValueError, RuntimeError):
        return None
    if len(faces) == 0:
        return None
    f = np.asarray(factors, dtype=np.float64)
    voxel = (verts - 1.0) * f + (f - 1.0) / 2.0  # block centre, in voxel indices
    world = voxel @ affine[:3, :3].T + affine[:3, 3]
    return np.round(world, 1), faces.astype(np.int64)


def _trace(label: CtLabel, verts: np.ndarray, faces: np.ndarray) -> dict[str, Any]:
    return {
        "type": "mesh3d",
        "name": label.name,
        "x": verts[:, 0].tolist(),
        "y": verts[:, 1].tolist(),
        "z": verts[:, 2].tolist(),
        "i": faces[:, 0].tolist(),
        "j": faces[:, 1].tolist(),
        "k": faces[:, 2].tolist(),
        "color": to_hex(label.colour),
        "opacity": OPACITY.get(label.name, 0.5),
        "flatshading": False,
        "showlegend": True,
        "hoverinfo": "name",
        "lighting": {"ambient": 0.5, "diffuse": 0.7, "specular": 0.1, "roughness": 0.8},
    }


def _layout(dropped: list[str]) -> dict[str, Any]:
    axis = {"showbackground": False, "gridcolor": "#dddddd", "zerolinecolor": "#bbbbbb"}
    layout: dict[str, Any] = {
        "scene": {
            "aspectmode": "data",
            "xaxis": {**axis, "title": {"text": "x: patient's right + (mm)"}},
            "yaxis": {**axis, "title": {"text": "y: anterior + (mm)"}},
            "zaxis": {**axis, "title": {"text": "z: superior + (mm)"}},
            # From the front, head up: the patient's right is on the viewer's left.
            "camera": {"eye": {"x": 0.0, "y": 2.0, "z": 0.4}, "up": {"x": 0, "y": 0, "z": 1}},
        },
        "legend": {"itemsizing": "constant"},
        "margin": {"l": 0, "r": 0, "t": 30, "b": 0},
        "title": {"text": "CT labels (RAS, mm)"},
    }
    if dropped:
        layout["meta"] = {"dropped_for_size": dropped}
    return layout


def _size(fig: dict[str, Any]) -> int:
    return len(json.dumps(fig))


def _digits(values: np.ndarray) -> np.ndarray:
    """Decimal digits of non-negative integers (as floats or ints)."""
    v = np.asarray(values, dtype=np.float64)
    return np.where(v < 10, 1, np.floor(np.log10(np.maximum(v, 1.0))) + 1).astype(np.int64)


def _json_list_chars(values: np.ndarray, *, tenths: bool) -> int:
    """``len(json.dumps(values.tolist()))`` without making the list: ints, or floats already
    rounded to 0.1 (whose repr is always sign, integer digits, a point and one digit)."""
    n = values.size
    if n == 0:
        return 2
    if tenths:
        chars = np.signbit(values).astype(np.int64) + _digits(np.floor(np.abs(values))) + 2
    else:
        chars = _digits(values)
    return int(chars.sum()) + 2 * (n - 1) + 2


def _trace_size(label: CtLabel, verts: np.ndarray, faces: np.ndarray) -> int:
    empty = _trace(label, np.zeros((0, 3)), np.zeros((0, 3), dtype=np.int64))
    lists = sum(_json_list_chars(verts[:, a], tenths=True) for a in range(3))
    lists += sum(_json_list_chars(faces[:, a], tenths=False) for a in range(3))
    return _size(empty) - 6 * 2 + lists


def mesh_figure(
    labelmap: np.ndarray, affine: np.ndarray, *, max_bytes: int = 2_000_000
) -> dict[str, Any]:
    """A Plotly figure dict ``{"data": [...], "layout": {...}}`` with one ``mesh3d`` trace per
    label of ``ct_labels`` present in ``labelmap``, whose ``json.dumps`` is under ``max_bytes``
    (a label that cannot fit even at the coarsest level is left out and named in
    ``layout.meta.dropped_for_size``)."""
    if labelmap.ndim != 3:
        raise ValueError("a label map is 3D")
    affine = np.asarray(affine, dtype=np.float64)
    spacing = np.sqrt((affine[:3, :3] ** 2).sum(axis=0))
    factors = [max(1, round(BASE_BLOCK_MM / float(s))) for s in spacing]
    base = (factors[0], factors[1], factors[2])

    labels = _present(labelmap)
    by_id = {label.id: label for label in labels}
    grids = {label.id: _block_fraction(labelmap, label.id, base) for label in labels}
    level = dict.fromkeys(grids, 0)
    surfaces: dict[int, tuple[np.ndarray, np.ndarray]] = {}
    sizes: dict[int, int] = {}
    dropped: list[str] = []

    def build(label_id: int) -> bool:
        """Mesh ``label_id`` at its level; ``False`` (keeping the last mesh) if it vanishes."""
        m = LEVELS[level[label_id]]
        found = _surface(
            _coarsen(grids[label_id], m), (base[0] * m, base[1] * m, base[2] * m), affine
        )
        if found is None:
            return False
        surfaces[label_id] = found
        sizes[label_id] = _trace_size(by_id[label_id], *found)
        return True

    def total() -> int:
        # json.dumps of the figure: the traces, ", " between them and the frame around them.
        frame = len(json.dumps({"data": [], "layout": _layout(dropped)}))
        return frame + sum(sizes.values()) + 2 * max(len(sizes) - 1, 0)

    for label in labels:
        if not build(label.id):
            dropped.append(label.name)  # present, but no surface even on the finest blocks
    coarsest: set[int] = set()
    while sizes and total() >= max_bytes:
        # Coarsen the label that costs the most; drop it once it cannot be coarsened further
        # (the coarsest level, or a level at which it would vanish).
        worst = max(sizes, key=lambda k: sizes[k])
        if worst not in coarsest and level[worst] + 1 < len(LEVELS):
            level[worst] += 1
            if not build(worst):
                coarsest.add(worst)
        else:
            surfaces.pop(worst)
            sizes.pop(worst)
            dropped.append(by_id[worst].name)
    data = [_trace(label, *surfaces[label.id]) for label in labels if label.id in surfaces]
    return {"data": data, "layout": _layout(dropped)}
