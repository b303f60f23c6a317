"""The files a CT analysis draws from its labels: the three-plane slice figure (PNG), the label
map as a NIfTI file and the analysed volume on the same grid (so a viewer lays one on the other
voxel for voxel, whatever the input's format or axis order).

The figure is drawn with Matplotlib's object API on an Agg canvas (no pyplot, no global figure
state); the fonts and the minus sign are set for the figure only, through ``rc_context``. Slices
are shown in the radiological convention: the patient's right on the image's left in the axial
and coronal panels, anterior on the left in the sagittal panel, each edge lettered.
"""

from __future__ import annotations

import gzip
import io
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import nibabel as nib
import numpy as np
from matplotlib import font_manager, rc_context
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.colors import to_rgb
from matplotlib.figure import Figure
from matplotlib.patches import Patch

from inference.engines.imaging.ct_labels import CT_LABELS, CtLabel
from inference.engines.imaging.volume import Volume

FOOTER = "Not a medical device; for decision support only."
CONVENTION = (
    "Radiological convention: patient's right on the image's left (axial, coronal); "
    "anterior on the left (sagittal)."
)
WINDOW = (400.0, 40.0)  # width, level: soft tissue
_FIG_INCHES = (16.0, 6.0)
_DPI = 100
_ALPHA = 0.45
_LESION_ALPHA = 0.7
# Fonts that hold Hangul, in order of preference; DejaVu Sans is Matplotlib's own.
_FONT_PREFERENCE = ("Noto Sans CJK KR", "Noto Sans KR", "NanumGothic", "Malgun Gothic")


@lru_cache(maxsize=1)
def font_families() -> tuple[str, ...]:
    """The installed fonts to draw with, Korean-capable first, then DejaVu Sans as fallback
    (Matplotlib falls back glyph by glyph along the list)."""
    installed = {entry.name for entry in font_manager.fontManager.ttflist}
    return (*[name for name in _FONT_PREFERENCE if name in installed], "DejaVu Sans")


@dataclass(frozen=True)
class _Panel:
    """One plane: CT and label images (row 0 at the top), size in mm, the letters at its left,
    right, top and bottom edges, and where the other two planes cross it (mm)."""

    name: str
    ct: np.ndarray
    labels: np.ndarray
    size_mm: tuple[float, float]
    edges: tuple[str, str, str, str]
    cross_mm: tuple[float, float]


def _panels(volume: Volume, labelmap: np.ndarray, focus: tuple[int, int, int]) -> list[_Panel]:
    """The three planes through ``focus``. Volume axes are RAS: ``i`` to the patient's right,
    ``j`` to anterior, ``k`` to superior; every image shows the higher index on the left and at
    the top (right on the left, anterior or superior at the top)."""
    hu = volume.data
    sx, sy, sz = volume.spacing_mm
    x, y, z = focus
    ni, nj, nk = volume.shape

    def show(plane: np.ndarray) -> np.ndarray:
        # plane[a, b] -> rows b (high first), columns a (high first).
        return np.ascontiguousarray(plane.T[::-1, ::-1])

    return [
        _Panel(
            f"Axial (slice {z})",
            show(hu[:, :, z]),
            show(labelmap[:, :, z]),
            (ni * sx, nj * sy),
            ("R", "L", "A", "P"),
            ((ni - 0.5 - x) * sx, (nj - 0.5 - y) * sy),
        ),
        _Panel(
            f"Coronal (row {y})",
            show(hu[:, y, :]),
            show(labelmap[:, y, :]),
            (ni * sx, nk * sz),
            ("R", "L", "S", "I"),
            ((ni - 0.5 - x) * sx, (nk - 0.5 - z) * sz),
        ),
        _Panel(
            f"Sagittal (column {x})",
            show(hu[x, :, :]),
            show(labelmap[x, :, :]),
            (nj * sy, nk * sz),
            ("A", "P", "S", "I"),
            ((nj - 0.5 - y) * sy, (nk - 0.5 - z) * sz),
        ),
    ]


def _overlay(labels: np.ndarray, present: Sequence[CtLabel]) -> np.ndarray:
    """An RGBA image: each label's colour, semi-transparent; background transparent."""
    rgba = np.zeros((*labels.shape, 4), dtype=np.float32)
    for label in present:
        where = labels == label.id
        if where.any():
            alpha = _LESION_ALPHA if label.name == "liver_lesion" else _ALPHA
            rgba[where] = (*to_rgb(label.colour), alpha)
    return rgba


def _scale_bar_cm(width_mm: float) -> int:
    """A round length (cm) of about a quarter of the panel's width."""
    for cm in (20, 10, 5, 2, 1):
        if cm * 10.0 <= width_mm / 4.0:
            return cm
    return 1


def _draw_panel(ax: Axes, panel: _Panel, present: Sequence[CtLabel]) -> None:
    width, height = panel.size_mm
    extent = (0.0, width, height, 0.0)
    window, level = WINDOW
    ax.imshow(
        panel.ct,
        cmap="gray",
        vmin=level - window / 2,
        vmax=level + window / 2,
        extent=extent,
        interpolation="bilinear",
        aspect="equal",
    )
    ax.imshow(_overlay(panel.labels, present), extent=extent, interpolation="nearest")
    cross: dict[str, Any] = {
        "color": "#ffffff",
        "alpha": 0.35,
        "linewidth": 0.6,
        "linestyle": (0, (4, 4)),
    }
    ax.axvline(panel.cross_mm[0], **cross)
    ax.axhline(panel.cross_mm[1], **cross)
    ax.set_xlim(0, width)
    ax.set_ylim(height, 0)
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_facecolor("black")
    ax.set_title(panel.name, fontsize=11)

    cm = _scale_bar_cm(width)
    x0, y0 = 0.05 * width, 0.95 * height
    ax.plot([x0, x0 + cm * 10.0], [y0, y0], color="white", linewidth=3, solid_capstyle="butt")
    ax.text(
        x0 + cm * 5.0,
        y0 - 0.015 * height,
        f"{cm} cm",
        color="white",
        ha="center",
        va="bottom",
        fontsize=9,
    )
    left, right, top, bottom = panel.edges
    style: dict[str, Any] = {
        "color": "#ffd54f",
        "fontsize": 12,
        "fontweight": "bold",
        "transform": ax.transAxes,
    }
    ax.text(0.012, 0.5, left, ha="left", va="center", **style)
    ax.text(0.988, 0.5, right, ha="right", va="center", **style)
    ax.text(0.5, 0.985, top, ha="center", va="top", **style)
    ax.text(0.5, 0.015, bottom, ha="center", va="bottom", **style)


def slices_png(
    volume: Volume,
    labelmap: np.ndarray,
    *,
    focus: tuple[int, int, int] | None,
    title: str,
    subtitle: str,
) -> bytes:
    """A PNG (about 1600 x 600 px) of the axial, coronal and sagittal slices through ``focus``
    (a voxel index; the volume's centre when ``None``), CT soft-tissue window (W400/L40), each
    label of ``ct_labels`` present in them as a semi-transparent overlay, named in the legend."""
    if labelmap.shape != volume.shape:
        raise ValueError(f"label map {labelmap.shape} is not on the volume's grid {volume.shape}")
    shape = volume.shape
    if focus is None:
        focus = (shape[0] // 2, shape[1] // 2, shape[2] // 2)
    focus = (
        int(np.clip(focus[0], 0, shape[0] - 1)),
        int(np.clip(focus[1], 0, shape[1] - 1)),
        int(np.clip(focus[2], 0, shape[2] - 1)),
    )
    panels = _panels(volume, labelmap, focus)
    shown: set[int] = set()
    for panel in panels:
        shown.update(int(v) for v in np.unique(panel.labels))
    present = [label for label in CT_LABELS if label.id in shown]

    with rc_context({"font.family": list(font_families()), "axes.unicode_minus": False}):
        fig = Figure(figsize=_FIG_INCHES, dpi=_DPI, facecolor="white")
        FigureCanvasAgg(fig)
        ratios = [p.size_mm[0] / p.size_mm[1] for p in panels]
        grid = fig.add_gridspec(
            1, 3, width_ratios=ratios, left=0.01, right=0.99, top=0.82, bottom=0.125, wspace=0.04
        )
        for column, panel in enumerate(panels):
            _draw_panel(fig.add_subplot(grid[0, column]), panel, present)
        fig.text(0.5, 0.975, title, ha="center", va="top", fontsize=15, fontweight="bold")
        fig.text(0.5, 0.918, subtitle, ha="center", va="top", fontsize=11, color="#333333")
        if present:
            handles = [
                Patch(
                    facecolor=label.colour, edgecolor="#333333", label=label.name.replace("_", " ")
                )
                for label in present
            ]
            fig.legend(
                handles=handles,
                loc="lower center",
                bbox_to_anchor=(0.5, 0.045),
                ncol=len(handles),
                frameon=False,
                fontsize=10,
            )
        fig.text(0.01, 0.012, FOOTER, ha="left", va="bottom", fontsize=9, fontweight="bold")
        fig.text(0.99, 0.012, CONVENTION, ha="right", va="bottom", fontsize=8, color="#555555")
        buffer = io.BytesIO()
        fig.savefig(buffer, format="png", dpi=_DPI, facecolor="white")
    return buffer.getvalue()


def labelmap_nifti_bytes(labelmap: np.ndarray, affine: np.ndarray) -> bytes:
    """``labelmap`` as a gzipped NIfTI-1 of uint8 labels on the volume's grid: the same voxel
    order (RAS) and the same affine as sform and qform, so a viewer overlays it on the volume."""
    if labelmap.ndim != 3:
        raise ValueError("a label map is 3D")
    if labelmap.size and int(labelmap.max()) > 255:
        raise ValueError("labels above 255 do not fit uint8")
    data = np.asarray(labelmap, dtype=np.uint8)
    image = nib.Nifti1Image(data, np.asarray(affine, dtype=np.float64))
    header = image.header
    header.set_data_dtype(np.uint8)
    header.set_xyzt_units("mm")
    header.set_intent("label")
    image.set_sform(affine, code="scanner")
    image.set_qform(affine, code="scanner")
    header["cal_min"], header["cal_max"] = 0, max(int(data.max()) if data.size else 0, 1)
    return gzip.compress(image.to_bytes(), compresslevel=6)


def volume_nifti_write(data: np.ndarray, affine: np.ndarray, path: Path) -> None:
    """The analysed HU volume as a gzipped NIfTI-1 on the label map's grid (RAS voxel order, the
    same affine). CT values are whole HU, so they are stored as int16 (half of float32's size)
    unless some voxel is not a whole number in int16's range; gzip level 1 because the file is
    as big as the input and a higher level costs seconds for a few per cent."""
    if data.ndim != 3:
        raise ValueError("a volume is 3D")
    info = np.iinfo(np.int16)
    out: np.ndarray = data
    if data.size and info.min <= float(data.min()) and float(data.max()) <= info.max:
        as16 = data.astype(np.int16)
        # Slab by slab: comparing the whole volume at once would hold a third copy of it.
        if all(np.array_equal(as16[:, :, k], data[:, :, k]) for k in range(data.shape[2])):
            out = as16
    image = nib.Nifti1Image(out, np.asarray(affine, dtype=np.float64))
    image.header.set_xyzt_units("mm")
    image.set_sform(affine, code="scanner")
    image.set_qform(affine, code="scanner")
    # nibabel streams the voxels into the file (its gzip level is 1), no second copy in memory.
    nib.save(image, str(path))
