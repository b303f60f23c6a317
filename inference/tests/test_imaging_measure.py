"""Structure measurements and the TotalSegmentator label table, on synthetic and real data."""

from __future__ import annotations

import json
import os
import zipfile
from pathlib import Path

import nibabel as nib
import numpy as np
import pytest

from inference.engines.imaging.labels import TOTALSEG_V2
from inference.engines.imaging.loader import load_volume
from inference.engines.imaging.measure import measure_labelmap, measure_mask
from inference.engines.imaging.segmentation import iter_masks, load_labelmap
from inference.engines.imaging.volume import VolumeLimits
from inference.errors import InvalidInput

REPO = Path(__file__).resolve().parents[2]
DATASETS = Path(os.environ.get("CDSS_DATASETS_DIR", REPO.parent / "shared" / "datasets"))
EXAMPLE = DATASETS / "imaging" / "totalsegmentator_example_ct"
needs_example = pytest.mark.skipif(
    not EXAMPLE.is_dir(), reason=f"example CT not found at {EXAMPLE} (set CDSS_DATASETS_DIR)"
)


def test_labelmap_measurements_match_numpy() -> None:
    rng = np.random.default_rng(3)
    hu = rng.normal(40, 30, size=(40, 30, 20)).astype(np.float32)
    labels = rng.integers(0, 5, size=hu.shape).astype(np.uint8)
    labels[labels == 3] = 0  # a label id that is absent
    rows = measure_labelmap(hu, labels, voxel_ml=0.027, names={1: "a", 2: "b"})
    assert [r["label"] for r in rows] == [1, 2, 4]
    assert [r["name"] for r in rows] == ["a", "b", "label_4"]
    for r in rows:
        sel = hu[labels == r["label"]].astype(np.float64)
        assert r["voxels"] == sel.size
        assert r["volume_ml"] == pytest.approx(sel.size * 0.027, abs=1e-3)
        assert r["hu_mean"] == pytest.approx(sel.mean(), abs=0.01)
        assert r["hu_std"] == pytest.approx(sel.std(), abs=0.01)
    one = measure_mask(hu, labels == 2, 0.027, "b")
    assert one is not None and one["hu_mean"] == rows[1]["hu_mean"]
    assert measure_mask(hu, np.zeros(hu.shape, bool), 0.027, "none") is None


@needs_example
def test_label_table_matches_the_example_masks() -> None:
    seg = np.asarray(nib.load(str(EXAMPLE / "example_seg_fast.nii.gz")).dataobj)
    present = [int(v) for v in np.unique(seg) if v != 0]
    assert len(present) > 30
    for label in present:
        mask_file = EXAMPLE / "example_seg_fast" / f"{TOTALSEG_V2[label]}.nii.gz"
        mask = np.asarray(nib.load(str(mask_file)).dataobj) > 0
        overlap = (seg == label) & mask
        assert overlap.sum() >= 0.9 * (seg == label).sum(), TOTALSEG_V2[label]


@needs_example
def test_per_structure_masks_match_totalsegmentator_statistics(tmp_path: Path) -> None:
    vol = load_volume(EXAMPLE / "example_ct_sm.nii.gz")
    stats = json.loads((EXAMPLE / "example_seg_fast" / "statistics.json").read_text())
    rows = {}
    for name, mask in iter_masks(EXAMPLE / "example_seg_fast", vol, VolumeLimits()):
        row = measure_mask(vol.data, mask, vol.voxel_volume_ml, name)
        if row is not None:
            rows[name] = row
    assert {"liver", "spleen", "adrenal_gland_left", "adrenal_gland_right"} <= set(rows)
    for name, row in rows.items():
        # TotalSegmentator reports volume in mm^3 and the mean intensity (HU) of each mask.
        assert row["volume_ml"] == pytest.approx(stats[name]["volume"] / 1000.0, rel=1e-6, abs=1e-3)
        assert row["hu_mean"] == pytest.approx(stats[name]["intensity"], abs=0.01)
    # The same masks zipped (as an upload would send them) give the same rows.
    zpath = tmp_path / "masks.zip"
    with zipfile.ZipFile(zpath, "w") as zf:
        for name in ("liver", "adrenal_gland_left"):
            zf.write(EXAMPLE / "example_seg_fast" / f"{name}.nii.gz", f"masks/{name}.nii.gz")
    zipped = dict(iter_masks(zpath, vol, VolumeLimits()))
    assert set(zipped) == {"liver", "adrenal_gland_left"}
    again = measure_mask(vol.data, zipped["liver"], vol.voxel_volume_ml, "liver")
    assert again == rows["liver"]


@needs_example
def test_multilabel_segmentation_on_the_example() -> None:
    vol = load_volume(EXAMPLE / "example_ct_sm.nii.gz")
    labelmap = load_labelmap(EXAMPLE / "example_seg.nii.gz", vol, VolumeLimits())
    rows = {
        r["name"]: r for r in measure_labelmap(vol.data, labelmap, vol.voxel_volume_ml, TOTALSEG_V2)
    }
    raw = np.asarray(nib.load(str(EXAMPLE / "example_seg.nii.gz")).dataobj)
    assert rows["liver"]["voxels"] == int((raw == 5).sum())
    assert 900 < rows["liver"]["volume_ml"] < 1200
    assert 20 < rows["liver"]["hu_mean"] < 80  # soft tissue, not air or bone


def test_segmentation_on_another_grid_is_rejected(tmp_path: Path) -> None:
    data = np.zeros((10, 10, 10), np.int16)
    nib.save(nib.Nifti1Image(data, np.eye(4)), str(tmp_path / "v.nii.gz"))
    vol = load_volume(tmp_path / "v.nii.gz")
    nib.save(
        nib.Nifti1Image(np.zeros((10, 10, 9), np.uint8), np.eye(4)), str(tmp_path / "s.nii.gz")
    )
    with pytest.raises(InvalidInput, match="does not match") as exc:
        load_labelmap(tmp_path / "s.nii.gz", vol, VolumeLimits())
    assert exc.value.field == "segmentation"
    shifted = np.eye(4)
    shifted[0, 3] = 5.0
    nib.save(nib.Nifti1Image(np.zeros((10, 10, 10), np.uint8), shifted), str(tmp_path / "t.nii.gz"))
    with pytest.raises(InvalidInput, match="same grid"):
        load_labelmap(tmp_path / "t.nii.gz", vol, VolumeLimits())
    neg = np.zeros((10, 10, 10), np.int16)
    neg[0, 0, 0] = -3
    nib.save(nib.Nifti1Image(neg, np.eye(4)), str(tmp_path / "n.nii.gz"))
    with pytest.raises(InvalidInput, match="label values"):
        load_labelmap(tmp_path / "n.nii.gz", vol, VolumeLimits())
    empty = tmp_path / "empty_masks"
    empty.mkdir()
    with pytest.raises(InvalidInput, match="no <structure>"):
        list(iter_masks(empty, vol, VolumeLimits()))
