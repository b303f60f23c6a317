"""Body composition by HU rules (``inference.engines.imaging.body``): synthetic phantoms with known
answers, then the TotalSegmentator example CT against its per-structure masks."""

from __future__ import annotations

import json
from pathlib import Path
from typing import NamedTuple

import nibabel as nib
import numpy as np
import pytest

from inference.engines.imaging.body import BodyComposition, body_composition
from inference.engines.imaging.loader import load_volume
from inference.engines.imaging.volume import Volume

EXAMPLE = Path("/work/shared/datasets/imaging/totalsegmentator_example_ct")
BONE_PREFIXES = (
    "vertebrae_",
    "rib_",
    "sacrum",
    "hip_",
    "femur_",
    "humerus_",
    "scapula_",
    "clavicula_",
    "sternum",
    "skull",
)


def _volume(data: np.ndarray, spacing: tuple[float, float, float]) -> Volume:
    affine = np.diag([*spacing, 1.0])
    affine[:3, 3] = (-100.0, -120.0, 40.0)
    return Volume(
        data=np.asfortranarray(data, dtype=np.float32), affine=affine, source_format="nifti"
    )


# --- phantoms --------------------------------------------------------------------------------


def _abdomen_phantom() -> tuple[Volume, dict[str, float]]:
    """An abdomen-like cylinder, 1 x 1 x 2.5 mm voxels: skin, a subcutaneous fat ring, a muscle
    wall with a 16 mm fat-filled gap at the front (a diastasis of the recti), visceral fat around
    an organ, a vertebra with back muscles behind it. Returns the volume and the true fat areas
    (cm², one slice) by construction."""
    rng = np.random.default_rng(7)
    n, nz = 220, 12
    c = n / 2
    i, j = np.meshgrid(np.arange(n) + 0.5 - c, np.arange(n) + 0.5 - c, indexing="ij")
    r = np.hypot(i, j)
    sl = np.full((n, n), -1000.0)
    sl[r < 95] = 40.0  # skin and everything under it starts lean
    sat = (r >= 72) & (r < 93)
    sl[sat] = -100.0
    wall = (r >= 60) & (r < 72)
    gap = wall & (np.abs(i) < 8) & (j > 0)  # j > 0 is anterior
    sl[wall] = 50.0
    sl[gap] = -100.0
    cavity = r < 60
    sl[cavity] = -100.0
    organ = np.hypot(i, j - 5) < 25
    spine = np.hypot(i, j + 38) < 14
    back = cavity & (j < -45) & (np.abs(i) < 30)
    sl[organ] = 40.0
    sl[back] = 50.0
    sl[spine] = 400.0
    vat = cavity & ~organ & ~spine & ~back
    data = np.repeat(sl[:, :, None], nz, axis=2) + rng.normal(0.0, 8.0, (n, n, nz))
    truth = {"sat_cm2": float(sat.sum()) / 100.0, "vat_cm2": float(vat.sum()) / 100.0}
    return _volume(data, (1.0, 1.0, 2.5)), truth


def test_phantom_fat_areas_match_construction() -> None:
    volume, truth = _abdomen_phantom()
    bc = body_composition(volume, l3_hint=6)
    assert bc.l3["method"] == "segmentation"
    assert bc.l3["slice"] == 6
    assert bc.l3["subcutaneous_fat_cm2"] == pytest.approx(truth["sat_cm2"], rel=0.05)
    # The gap between the recti is bridged: its fat is neither visceral nor subcutaneous.
    assert bc.l3["visceral_fat_cm2"] == pytest.approx(truth["vat_cm2"], rel=0.05)
    # Whole-scan volumes: every slice is the same.
    per_slice_ml = 0.25  # 1 cm² x 2.5 mm
    assert bc.summary()["subcutaneous_fat_ml"] == pytest.approx(
        truth["sat_cm2"] * per_slice_ml * 12, rel=0.05
    )
    assert not bc.lungs.any()
    assert bc.bone[:, :, 6].sum() == pytest.approx(np.pi * 14**2, rel=0.1)


def test_phantom_without_ribs_reports_l3_not_found() -> None:
    volume, _ = _abdomen_phantom()
    bc = body_composition(volume)
    assert bc.l3["method"] == "not found"
    assert bc.l3["slice"] is None
    assert "rib" in bc.l3["note"]
    assert bc.l3["subcutaneous_fat_cm2"] is None


def test_l3_hint_outside_the_volume_is_not_used() -> None:
    volume, _ = _abdomen_phantom()
    bc = body_composition(volume, l3_hint=500)
    assert bc.l3["method"] == "not found"
    assert "outside the volume" in bc.l3["note"]


def test_lung_is_told_from_bowel_gas_by_median_hu() -> None:
    """Two air pockets of the same size inside a soft-tissue body: aerated lung (median about
    -850 HU) is lung, bowel gas (about -1000 HU) is not, though both are below -400 HU."""
    rng = np.random.default_rng(3)
    n, nz = 200, 80
    i, j, k = np.meshgrid(
        np.arange(n) - 100.0, np.arange(n) - 100.0, np.arange(nz) - 40.0, indexing="ij"
    )
    data = np.where(np.hypot(i, j) < 95, 40.0, -1000.0)
    lung = np.sqrt((i + 45) ** 2 + j**2 + k**2) < 28
    gas = np.sqrt((i - 45) ** 2 + j**2 + k**2) < 28
    data[lung] = -850.0 + rng.normal(0.0, 40.0, int(lung.sum()))
    data[gas] = -1000.0 + rng.normal(0.0, 10.0, int(gas.sum()))
    volume = _volume(data, (1.0, 1.0, 1.0))
    bc = body_composition(volume)
    found = bc.lungs
    dice = 2 * (found & lung).sum() / (found.sum() + lung.sum())
    assert dice > 0.95
    assert not (found & gas).any()
    assert next(r for r in bc.rows if r["name"] == "lung")["hu_mean"] == pytest.approx(-850, abs=15)


# --- the example CT --------------------------------------------------------------------------


class Example(NamedTuple):
    volume: Volume
    bc: BodyComposition
    masks: dict[str, np.ndarray]
    offset: int


@pytest.fixture(scope="module")
def example() -> Example:
    """The example CT, its body composition, the reference masks and the first slice of the
    CT that the masks' grid starts at (they come from ``example_ct_sm``, a 30-slice crop)."""
    ct, small, masks_dir = (
        EXAMPLE / "example_ct.nii.gz",
        EXAMPLE / "example_ct_sm.nii.gz",
        EXAMPLE / "example_seg_fast",
    )
    if not (ct.is_file() and small.is_file() and masks_dir.is_dir()):
        pytest.skip(f"shared example CT not present under {EXAMPLE}")
    volume = load_volume(ct)
    crop = np.asarray(nib.load(small).dataobj, dtype=np.float32)
    offset = next(
        (
            k
            for k in range(volume.shape[2] - crop.shape[2] + 1)
            if np.array_equal(volume.data[:, :, k : k + crop.shape[2]], crop)
        ),
        None,
    )
    if offset is None:
        pytest.skip("example_ct_sm is not a slab of example_ct: the masks cannot be placed")
    masks = {
        path.name.removesuffix(".nii.gz"): np.asarray(nib.load(path).dataobj) > 0
        for path in sorted(masks_dir.glob("*.nii.gz"))
    }
    return Example(volume, body_composition(volume), masks, offset)


def _union(masks: dict[str, np.ndarray], keep: tuple[str, ...]) -> np.ndarray:
    chosen = [m for name, m in masks.items() if name.startswith(keep)]
    return np.logical_or.reduce(chosen)


def _dice(a: np.ndarray, b: np.ndarray) -> float:
    return float(2 * (a & b).sum() / (a.sum() + b.sum()))


def test_example_lungs_dice(example: Example) -> None:
    reference = _union(example.masks, ("lung_",))
    assert _dice(example.bc.lungs[:, :, example.offset :], reference) >= 0.9


def test_example_bone_dice(example: Example) -> None:
    reference = _union(example.masks, BONE_PREFIXES)
    assert _dice(example.bc.bone[:, :, example.offset :], reference) >= 0.75


def _z_centre(mask: np.ndarray) -> float:
    return float(np.nonzero(mask)[2].mean())


def test_example_vertebral_levels_and_l3(example: Example) -> None:
    """The example's masks hold T12, L1 and the top of L2 (their grid ends inside L2; the
    ``vertebrae_L3`` mask is empty), so the count is checked on T12-L2 and L3 must lie below L2
    by less than one and a half vertebral pitches (the L1-to-T12 centre distance)."""
    assert example.bc.l3["method"] == "hu_rules", example.bc.l3["note"]
    levels = example.bc.measurements["l3_detail"]["levels"]
    for name in ("T12", "L1"):
        first, last = levels[name]
        assert first <= example.offset + _z_centre(example.masks[f"vertebrae_{name}"]) <= last, name
    l2_mask_z = np.nonzero(example.masks["vertebrae_L2"])[2] + example.offset
    first, last = levels["L2"]
    assert first <= np.median(l2_mask_z) <= last
    pitch = _z_centre(example.masks["vertebrae_T12"]) - _z_centre(example.masks["vertebrae_L1"])
    l3 = example.bc.l3["slice"]
    assert l2_mask_z.min() - 1.5 * pitch < l3 < l2_mask_z.min()


def test_example_fat_areas_plausible(example: Example) -> None:
    l3 = example.bc.l3
    body_cm2 = example.bc.measurements["l3_detail"]["body_cm2"]
    assert 50 < l3["subcutaneous_fat_cm2"] < 500
    assert 50 < l3["visceral_fat_cm2"] < 500
    assert l3["subcutaneous_fat_cm2"] + l3["visceral_fat_cm2"] < body_cm2
    summary = example.bc.summary()
    assert summary["subcutaneous_fat_ml"] > 1000 and summary["visceral_fat_ml"] > 1000
    assert summary["subcutaneous_fat_ml"] + summary["visceral_fat_ml"] < summary["body_volume_ml"]


def test_example_rows_and_summary_are_json(example: Example) -> None:
    json.dumps(example.bc.summary())
    json.dumps(example.bc.measurements)
    names = {row["name"] for row in example.bc.rows}
    assert names == {"body", "lung", "bone", "subcutaneous_fat", "visceral_fat"}
    for row in example.bc.rows:
        assert row["source"] == "hu_rules"
        assert row["volume_ml"] > 0
        assert {"hu_mean", "hu_std"} <= row.keys()
    fat = next(row for row in example.bc.rows if row["name"] == "subcutaneous_fat")
    assert -190 <= fat["hu_mean"] <= -30
    assert set(example.bc.summary()) == {
        "body_volume_ml",
        "subcutaneous_fat_ml",
        "visceral_fat_ml",
        "l3",
        "muscle",
    }
    assert "needs a segmentation" in example.bc.summary()["muscle"]


def test_example_masks_are_disjoint_labels(example: Example) -> None:
    labels = example.bc.labelmap()
    assert labels.dtype == np.uint8
    assert set(np.unique(labels)) == {0, 1, 2, 3, 4}
    assert not (example.bc.subcutaneous_fat & example.bc.visceral_fat).any()
    assert not (
        example.bc.bone & (example.bc.subcutaneous_fat | example.bc.visceral_fat | example.bc.lungs)
    ).any()
