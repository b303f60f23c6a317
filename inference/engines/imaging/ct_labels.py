"""The labels of the system's own CT segmentation (``segmentation.nii.gz`` of a CT analysis).

One table for every part that writes or draws them: the HU-rule body composition
(``body.py``), the liver and liver-lesion U-Nets (``liver.py``), the slice figure, the 3D mesh
and the web viewer (which reads the same ids and colours from the result's ``labels``). The body
outline is measured but not written as a label: it would cover every other structure in a viewer.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class CtLabel:
    id: int
    name: str
    colour: str  # "#rrggbb", the same in the PNG, the mesh and the viewer
    source: str  # "hu_rules" or "liver_unet"


CT_LABELS: tuple[CtLabel, ...] = (
    CtLabel(1, "lung", "#4fa3e0", "hu_rules"),
    CtLabel(2, "bone", "#f2e6c2", "hu_rules"),
    CtLabel(3, "subcutaneous_fat", "#f5c242", "hu_rules"),
    CtLabel(4, "visceral_fat", "#e8853d", "hu_rules"),
    CtLabel(5, "liver", "#9b59b6", "liver_unet"),
    CtLabel(6, "liver_lesion", "#e0245e", "liver_unet"),
)
CT_LABEL_IDS: dict[str, int] = {label.name: label.id for label in CT_LABELS}
CT_LABEL_NAMES: dict[int, str] = {label.id: label.name for label in CT_LABELS}
