"""The CT analysis: one volume in, findings with their numbers and three files out.

Steps, each timed: load and validate the volume; measure the uploaded segmentation (if any; it
also gives the L3 level when it holds ``vertebrae_L3``); body composition by HU rules (``body.py``:
body, lungs, bone, subcutaneous and visceral fat); liver and liver lesions by the converted
U-Nets (``liver.py``); the adrenal classifier on each adrenal gland mask; a MONAI bundle when one is
named. The system's own labels (``ct_labels.py``) are drawn into ``slices.png``, written as
``segmentation.nii.gz`` on the volume's RAS grid and turned into ``mesh.json`` (a Plotly figure);
the volume itself is written on that grid as ``volume.nii.gz`` (the web viewer's background: a
zipped DICOM series has no NIfTI, and an input whose axes were permuted would not line up with the
labels voxel for voxel); all in ``output_dir``.

Every finding is a plain statement built from numbers in the same result (``values``), so a
reader, a report or an interpretation can check each number against the structured fields.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from inference.engines.imaging.body import BodyComposition
from inference.engines.imaging.ct_figures import (
    labelmap_nifti_bytes,
    slices_png,
    volume_nifti_write,
)
from inference.engines.imaging.ct_labels import CT_LABEL_IDS, CT_LABEL_NAMES, CT_LABELS
from inference.engines.imaging.ct_mesh import mesh_figure
from inference.engines.imaging.liver import LiverOutput, LiverSegmenter
from inference.engines.imaging.measure import measure_labelmap
from inference.engines.imaging.volume import Volume

# The HU rules are code, not weights: their version changes when the rules do.
HU_RULES_NAME = "cdss-ct-hu-rules"
HU_RULES_VERSION = "2026.11.1"
LESION_CAUTION = "decision support, unvalidated on our data"
MESH_MAX_BYTES = 2_000_000

ARTIFACTS: dict[str, str] = {
    "slices.png": "image/png",
    "segmentation.nii.gz": "application/gzip",
    "mesh.json": "application/json",
    "volume.nii.gz": "application/gzip",
}


@dataclass
class CtParts:
    """What the steps before the drawing found, gathered for the findings and the files."""

    volume: Volume
    body: BodyComposition
    liver: LiverOutput | None


def own_labelmap(parts: CtParts) -> np.ndarray:
    """The system's labels on the volume's grid (uint8); later rules win where masks overlap:
    lungs, bone, fat, then liver and lesions."""
    labels = np.zeros(parts.volume.shape, dtype=np.uint8)
    body = parts.body
    labels[body.lungs] = CT_LABEL_IDS["lung"]
    labels[body.subcutaneous_fat] = CT_LABEL_IDS["subcutaneous_fat"]
    labels[body.visceral_fat] = CT_LABEL_IDS["visceral_fat"]
    labels[body.bone] = CT_LABEL_IDS["bone"]
    if parts.liver is not None:
        labels[parts.liver.liver] = CT_LABEL_IDS["liver"]
        labels[parts.liver.lesions] = CT_LABEL_IDS["liver_lesion"]
    return labels


def own_structures(
    volume: Volume, labels: np.ndarray, liver_source: str | None
) -> list[dict[str, Any]]:
    """Volume and HU of each of the system's labels."""
    rows = measure_labelmap(volume.data, labels, volume.voxel_volume_ml, CT_LABEL_NAMES)
    sources = {label.id: label.source for label in CT_LABELS}
    for row in rows:
        source = sources[int(row["label"])]
        row["source"] = liver_source if source == "liver_unet" and liver_source else HU_RULES_NAME
    return rows


def _fmt(value: float, digits: int = 0) -> str:
    return f"{value:,.{digits}f}"


def findings(
    parts: CtParts, structures: list[dict[str, Any]], liver_model: str | None
) -> list[dict[str, Any]]:
    """Plain statements, each with the numbers it states in ``values``."""
    out: list[dict[str, Any]] = []
    by_name = {row["name"]: row for row in structures}
    body = parts.body
    if "lung" in by_name:
        ml = float(by_name["lung"]["volume_ml"])
        out.append(
            {
                "code": "lung_volume",
                "text": f"Aerated lung volume in the scan: {_fmt(ml)} mL.",
                "values": {"volume_ml": ml},
                "source": HU_RULES_NAME,
            }
        )
    l3 = body.l3
    if l3.get("slice") is not None and l3.get("subcutaneous_fat_cm2") is not None:
        sat, vat = float(l3["subcutaneous_fat_cm2"]), float(l3["visceral_fat_cm2"])
        out.append(
            {
                "code": "fat_at_l3",
                "text": (
                    f"At the L3 level (slice {l3['slice']}, found by {l3['method']}): "
                    f"subcutaneous fat {_fmt(sat, 1)} cm², visceral fat {_fmt(vat, 1)} cm²."
                ),
                "values": {
                    "slice": int(l3["slice"]),
                    "subcutaneous_fat_cm2": sat,
                    "visceral_fat_cm2": vat,
                },
                "source": HU_RULES_NAME,
            }
        )
    else:
        out.append(
            {
                "code": "fat_at_l3",
                "text": f"L3 level not found ({l3.get('note') or 'no reason given'}): fat areas "
                "at L3 not measured.",
                "values": {},
                "source": HU_RULES_NAME,
            }
        )
    out.append(
        {
            "code": "muscle",
            "text": "Skeletal muscle needs a segmentation: no HU rule measures it reliably.",
            "values": {},
            "source": HU_RULES_NAME,
        }
    )
    liver = parts.liver
    if liver is not None and liver_model is not None:
        ml, hu = float(liver.liver_volume_ml), float(liver.liver_hu_mean)
        out.append(
            {
                "code": "liver_volume",
                "text": f"Liver volume {_fmt(ml)} mL, mean attenuation {_fmt(hu)} HU.",
                "values": {"volume_ml": ml, "hu_mean": hu},
                "source": liver_model,
            }
        )
        rows = liver.lesion_rows
        if rows:
            largest = max(float(r["largest_diameter_mm"]) for r in rows)
            total = float(sum(float(r["volume_ml"]) for r in rows))
            out.append(
                {
                    "code": "liver_lesions",
                    "text": (
                        f"{len(rows)} liver lesion candidate(s), {_fmt(total, 1)} mL in all; "
                        f"the largest diameter is {_fmt(largest)} mm ({LESION_CAUTION})."
                    ),
                    "values": {
                        "count": len(rows),
                        "total_volume_ml": total,
                        "largest_diameter_mm": largest,
                    },
                    "source": liver_model,
                }
            )
        else:
            out.append(
                {
                    "code": "liver_lesions",
                    "text": f"Liver lesion candidates found: 0 ({LESION_CAUTION}).",
                    "values": {"count": 0},
                    "source": liver_model,
                }
            )
    return out


def focus_voxel(parts: CtParts) -> tuple[int, int, int] | None:
    """Where the three slice panels cross: the largest lesion, else the liver's centre, else the
    L3 slice's body centre, else the volume's centre (``None``)."""
    volume = parts.volume
    liver = parts.liver
    if liver is not None and liver.lesion_rows:
        centroid = np.asarray(liver.lesion_rows[0]["centroid_mm"], dtype=float)
        ijk = np.linalg.inv(volume.affine) @ np.append(centroid, 1.0)
        clipped = [
            int(np.clip(round(float(v)), 0, n - 1))
            for v, n in zip(ijk[:3], volume.shape, strict=True)
        ]
        return (clipped[0], clipped[1], clipped[2])
    if liver is not None and liver.liver.any():
        return _centre(liver.liver)
    l3 = parts.body.l3.get("slice")
    if l3 is not None:
        return (volume.shape[0] // 2, volume.shape[1] // 2, int(l3))
    return None


def _centre(mask: np.ndarray) -> tuple[int, int, int]:
    """The middle of ``mask``'s bounding box (cheap, and inside the organ for a convex one)."""
    centre = []
    for axis in range(3):
        other = tuple(a for a in range(3) if a != axis)
        present = np.flatnonzero(mask.any(axis=other))
        centre.append(int((present[0] + present[-1]) // 2))
    return (centre[0], centre[1], centre[2])


def write_artifacts(
    parts: CtParts, labels: np.ndarray, output_dir: Path, *, title: str, subtitle: str
) -> tuple[list[dict[str, Any]], dict[str, float]]:
    """``slices.png``, ``segmentation.nii.gz``, ``mesh.json`` and ``volume.nii.gz`` in
    ``output_dir``."""
    timings: dict[str, float] = {}
    volume = parts.volume
    t = time.perf_counter()
    png = slices_png(volume, labels, focus=focus_voxel(parts), title=title, subtitle=subtitle)
    (output_dir / "slices.png").write_bytes(png)
    timings["figure"] = time.perf_counter() - t
    t = time.perf_counter()
    (output_dir / "segmentation.nii.gz").write_bytes(labelmap_nifti_bytes(labels, volume.affine))
    timings["segmentation_file"] = time.perf_counter() - t
    t = time.perf_counter()
    mesh = mesh_figure(labels, volume.affine, max_bytes=MESH_MAX_BYTES)
    (output_dir / "mesh.json").write_text(json.dumps(mesh, separators=(",", ":")))
    timings["mesh"] = time.perf_counter() - t
    t = time.perf_counter()
    volume_nifti_write(volume.data, volume.affine, output_dir / "volume.nii.gz")
    timings["volume_file"] = time.perf_counter() - t
    listed = [
        {
            "name": name,
            "content_type": content_type,
            "bytes": (output_dir / name).stat().st_size,
        }
        for name, content_type in ARTIFACTS.items()
    ]
    return listed, timings


def volume_meta(volume: Volume) -> dict[str, Any]:
    """What a DICOM series adds to the volume summary: its description, slice count and spacing."""
    meta = volume.meta
    return {
        "series_description": meta.get("series_description") or None,
        "slices": int(meta.get("slices", volume.shape[2])),
    }


def liver_summary(liver: LiverOutput | None, segmenter: LiverSegmenter | None) -> dict[str, Any]:
    """The liver and its lesion candidates, or ``{"status": "not segmented"}``."""
    if liver is None or segmenter is None:
        return {"status": "not segmented", "reason": "liver model not installed"}
    rows = liver.lesion_rows
    return {
        "status": "segmented",
        "model": segmenter.name,
        "version": segmenter.version,
        "volume_ml": round(float(liver.liver_volume_ml), 3),
        "hu_mean": round(float(liver.liver_hu_mean), 2),
        "lesion_count": len(rows),
        "lesion_volume_ml": round(float(sum(float(r["volume_ml"]) for r in rows)), 3),
        "lesions": rows,
        "lesion_caution": LESION_CAUTION,
    }


def bundle_findings(source: str, probabilities: dict[str, float]) -> list[dict[str, Any]]:
    """A classification bundle's class probabilities, as findings of the CT analysis (they were
    dropped before: only ``/analyze`` reported them)."""
    return [
        {
            "code": "bundle_class",
            "text": f"{source}: {name} with probability {p:.2f}.",
            "values": {"probability": round(float(p), 2)},
            "source": source,
        }
        for name, p in probabilities.items()
    ]
