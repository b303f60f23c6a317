"""Adrenal-mass classification of the adrenal gland masks of a segmentation.

Each gland mask is resampled into the classifier's input space, the one AdrenalMNIST3D was built in:
a 64 mm cube at 1 mm voxels centred on the gland's centroid, axes in RAS order (linear
interpolation of the mask, threshold 0.5), then area-downsampled for a 28^3 model. The shipped
model is an ensemble of seeds; each member's probability is averaged over the 8 flip views.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from scipy import ndimage

from inference.engines.imaging.network import (
    CUBE_MM,
    AdrenalNet,
    predict_proba,
    to_model_input,
)

CONFIG_FILE = "adrenal_config.json"
MIN_GLAND_ML = 0.2


def crop_cube(mask: np.ndarray, affine: np.ndarray, size_mm: int = CUBE_MM) -> np.ndarray:
    """``(64, 64, 64)`` uint8 {0, 1}: the mask resampled at 1 mm around its centroid (RAS axes)."""
    idx = np.argwhere(mask)
    if idx.size == 0:
        raise ValueError("empty mask")
    centre_vox = idx.mean(axis=0)
    centre_mm = affine[:3, :3] @ centre_vox + affine[:3, 3]
    offsets = np.arange(size_mm, dtype=float) - (size_mm - 1) / 2.0
    grid = np.stack(np.meshgrid(offsets, offsets, offsets, indexing="ij"), axis=0).reshape(3, -1)
    world = grid + centre_mm[:, None]
    inv = np.linalg.inv(affine)
    vox = inv[:3, :3] @ world + inv[:3, 3:4]
    # Resample from a sub-block around the gland only (the cube spans at most ~64 mm).
    lo = np.maximum(np.floor(vox.min(axis=1)).astype(int) - 1, 0)
    hi = np.minimum(np.ceil(vox.max(axis=1)).astype(int) + 2, mask.shape)
    block = mask[lo[0] : hi[0], lo[1] : hi[1], lo[2] : hi[2]].astype(np.float32)
    if block.size == 0:
        return np.zeros((size_mm,) * 3, dtype=np.uint8)
    values = ndimage.map_coordinates(block, vox - lo[:, None], order=1, mode="constant", cval=0.0)
    return (values.reshape((size_mm,) * 3) >= 0.5).astype(np.uint8)


@dataclass
class AdrenalClassifier:
    """An ensemble of ``AdrenalNet`` state_dicts read from a model version folder."""

    input_size: int
    threshold: float
    members: list[AdrenalNet]
    info: dict[str, Any]

    @classmethod
    def load(cls, model_dir: Path) -> AdrenalClassifier:
        cfg = json.loads((model_dir / CONFIG_FILE).read_text(encoding="utf-8"))
        members = []
        for name in cfg["members"]:
            net = AdrenalNet(cfg["input_size"], cfg["width"], cfg.get("dropout", 0.0))
            state = torch.load(model_dir / name, map_location="cpu", weights_only=True)
            net.load_state_dict(state)
            # channels-last makes the 3D convolutions faster on CPU (torch's stubs lack the kwarg).
            net.to(memory_format=torch.channels_last_3d)  # type: ignore[call-overload]
            net.eval()
            members.append(net)
        if not members:
            raise ValueError(f"{model_dir / CONFIG_FILE} lists no ensemble members")
        return cls(cfg["input_size"], float(cfg.get("threshold", 0.5)), members, cfg)

    def predict_cubes(self, cubes: np.ndarray) -> np.ndarray:
        """Probability of a mass for each ``(64, 64, 64)`` cube."""
        x = to_model_input(cubes, self.input_size)
        return np.mean([predict_proba(m, x, tta=True) for m in self.members], axis=0)

    def classify(
        self, glands: dict[str, tuple[np.ndarray, np.ndarray]], voxel_ml: float
    ) -> list[dict[str, Any]]:
        """One finding per gland (``name -> (mask, affine)``), all cubes scored in one batch.

        ``probability`` is None when a mask is too small to judge.
        """
        findings, cubes, scored = [], [], []
        for name, (mask, affine) in glands.items():
            volume_ml = float(mask.sum()) * voxel_ml
            finding: dict[str, Any] = {
                "structure": name,
                "finding": "adrenal mass",
                "model": "adrenal-shape-cnn",
                "input_size": self.input_size,
                "threshold": self.threshold,
                "gland_volume_ml": round(volume_ml, 3),
            }
            if volume_ml < MIN_GLAND_ML:
                finding.update(
                    probability=None,
                    label="not assessed",
                    note=f"gland mask of {volume_ml:.2f} mL is below {MIN_GLAND_ML} mL",
                )
            else:
                cubes.append(crop_cube(mask, affine))
                scored.append(finding)
            findings.append(finding)
        if cubes:
            for finding, p in zip(scored, self.predict_cubes(np.stack(cubes)), strict=True):
                finding.update(
                    probability=round(float(p), 4),
                    label="mass" if p >= self.threshold else "normal",
                )
        return findings


def bounding_crop(mask: np.ndarray, affine: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The mask cut to its bounding box, with the affine of that sub-block (cheap to resample)."""
    lo, hi = [], []
    for axis in range(3):
        other = tuple(a for a in range(3) if a != axis)
        hit = np.flatnonzero(mask.any(axis=other))
        if hit.size == 0:
            return mask[:0, :0, :0], affine
        lo.append(int(hit[0]))
        hi.append(int(hit[-1]) + 1)
    return mask[lo[0] : hi[0], lo[1] : hi[1], lo[2] : hi[2]], shifted_affine(affine, lo)


def shifted_affine(affine: np.ndarray, offset: list[int] | tuple[int, ...]) -> np.ndarray:
    """The affine of a sub-block that starts at voxel ``offset``."""
    out = affine.copy()
    out[:3, 3] = affine[:3, :3] @ np.asarray(offset, dtype=float) + affine[:3, 3]
    return out
