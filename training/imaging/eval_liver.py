"""``python -m training.imaging.eval_liver [--model DIR]``: Dice of our liver mask against
TotalSegmentator's on the example CT of the shared datasets.

The reference (``example_seg_fast/liver.nii.gz``, TotalSegmentator's ``--fast`` model output, not
a manual contour) lies on the grid of ``example_ct_sm.nii.gz`` (122x101x30 at 3 mm), which is the
top 30 slices of ``example_ct.nii.gz`` (122x101x112; checked here voxel by voxel, as the two files'
headers give the same origin). The headline Dice is our mask of the full CT on those 30 slices;
the Dice of the 30-slice CT segmented on its own (less context for the net) is reported beside it.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

import nibabel as nib
import numpy as np
import torch

from inference.engines.imaging.liver import LiverSegmenter
from inference.engines.imaging.loader import load_volume
from inference.engines.imaging.unet import UNet3d
from training.imaging.data import REPO_ROOT, datasets_dir

EXAMPLE_REL = Path("imaging/totalsegmentator_example_ct")
TARGET_DICE = 0.95


def example_dir() -> Path:
    return datasets_dir() / EXAMPLE_REL


def reference_mask(folder: Path) -> np.ndarray:
    """TotalSegmentator's liver (bool, RAS) on the 30-slice CT's grid."""
    img = nib.as_closest_canonical(nib.load(folder / "example_seg_fast" / "liver.nii.gz"))
    return np.asarray(img.dataobj) > 0


def slab_offset(full: np.ndarray, part: np.ndarray) -> int:
    """The first slice ``k`` with ``full[:, :, k : k + n] == part`` exactly."""
    n = part.shape[2]
    if full.shape[:2] != part.shape[:2]:
        raise ValueError(f"in-plane shapes differ: {full.shape} vs {part.shape}")
    for k in range(full.shape[2] - n + 1):
        if np.array_equal(full[:, :, k], part[:, :, 0]) and np.array_equal(
            full[:, :, k : k + n], part
        ):
            return k
    raise ValueError("the 30-slice CT is not a block of slices of the full CT")


def dice(a: np.ndarray, b: np.ndarray) -> float:
    total = int(a.sum()) + int(b.sum())
    return 2.0 * float(np.logical_and(a, b).sum()) / total if total else 1.0


def evaluate(segmenter: LiverSegmenter, folder: Path | None = None) -> dict[str, Any]:
    """Dice against TotalSegmentator (full CT on the reference's slices, and the 30-slice CT),
    liver volume and mean HU, lesion count and the time of ``segment`` on the full CT."""
    folder = folder or example_dir()
    ref = reference_mask(folder)
    full = load_volume(folder / "example_ct.nii.gz")
    part = load_volume(folder / "example_ct_sm.nii.gz")
    k = slab_offset(full.data, part.data)
    t0 = time.perf_counter()
    out = segmenter.segment(full)
    seconds = time.perf_counter() - t0
    on_slab = out.liver[:, :, k : k + ref.shape[2]]
    out_part = segmenter.segment(part)
    return {
        "liver_dice": round(dice(on_slab, ref), 4),
        "liver_dice_30_slice_ct": round(dice(out_part.liver, ref), 4),
        "reference_slices": [k, k + int(ref.shape[2])],
        "reference_ml": round(float(ref.sum()) * part.voxel_volume_ml, 1),
        "ours_on_those_slices_ml": round(float(on_slab.sum()) * full.voxel_volume_ml, 1),
        "liver_ml_full_ct": round(out.liver_volume_ml, 1),
        "liver_hu_mean": round(out.liver_hu_mean, 1),
        "lesions_found": len(out.lesion_rows),
        "segment_seconds": round(seconds, 1),
        "segment_timings_s": out.timings_s,
    }


def evaluate_all(model_dir: Path, float32_nets: dict[str, UNet3d] | None = None) -> dict[str, Any]:
    """``evaluate`` with the stored (float16) weights and, when given, the float32 nets."""
    stored = LiverSegmenter.load(model_dir)
    result: dict[str, Any] = {
        "reference": "TotalSegmentator example_seg_fast/liver.nii.gz (model output)",
        "data": str(EXAMPLE_REL),
        "float16": evaluate(stored),
    }
    if float32_nets is not None:
        exact = LiverSegmenter(
            float32_nets["liver"].to(memory_format=torch.channels_last_3d),  # type: ignore[call-overload]
            float32_nets["lesion"].to(memory_format=torch.channels_last_3d),  # type: ignore[call-overload]
            stored.config,
            version=stored.version,
        )
        result["float32"] = evaluate(exact)
    result["liver_dice_float16"] = result["float16"]["liver_dice"]
    if "float32" in result:
        result["liver_dice_float32"] = result["float32"]["liver_dice"]
    return result


def current_model_dir(root: Path) -> Path:
    return root / (root / "CURRENT").read_text(encoding="utf-8").strip()


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(prog="python -m training.imaging.eval_liver", description=__doc__)
    ap.add_argument("--model", type=Path, default=None, help="a models/liver/<version> folder")
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)
    model_dir = args.model or current_model_dir(REPO_ROOT / "models" / "liver")
    result = evaluate(LiverSegmenter.load(model_dir, threads=args.threads))
    print(json.dumps(result, indent=2))
    if result["liver_dice"] < TARGET_DICE:
        raise SystemExit(f"liver Dice {result['liver_dice']} is below {TARGET_DICE}")


if __name__ == "__main__":
    main()
