"""The ImagingEngine with the committed model: adrenal cropping, end-to-end analysis, bundles."""

from __future__ import annotations

import os
from pathlib import Path

import nibabel as nib
import numpy as np
import pytest

from inference.config import REPO_ROOT
from inference.engines.base import DISCLAIMER, Engine
from inference.engines.imaging import ImagingEngine
from inference.engines.imaging.adrenal import bounding_crop, crop_cube
from inference.errors import NotReady

DATASETS = Path(os.environ.get("CDSS_DATASETS_DIR", REPO_ROOT.parent / "shared" / "datasets"))
EXAMPLE = DATASETS / "imaging" / "totalsegmentator_example_ct"
needs_example = pytest.mark.skipif(
    not EXAMPLE.is_dir(), reason=f"example CT not found at {EXAMPLE} (set CDSS_DATASETS_DIR)"
)
MODELS = REPO_ROOT / "models" / "imaging"


@pytest.fixture(scope="module")
def engine() -> ImagingEngine:
    eng = ImagingEngine()
    eng.load(MODELS / (MODELS / "CURRENT").read_text().strip())
    return eng


def _ellipsoid(
    shape: tuple[int, int, int], centre: np.ndarray, radii_vox: np.ndarray
) -> np.ndarray:
    grid = np.indices(shape).astype(float)
    d = sum(((grid[i] - centre[i]) / radii_vox[i]) ** 2 for i in range(3))
    return d <= 1.0


def test_crop_cube_centres_the_gland_and_keeps_its_volume() -> None:
    spacing = np.array([3.0, 2.0, 1.5])
    affine = np.diag([*spacing, 1.0])
    affine[:3, 3] = [-100.0, 50.0, 10.0]
    radii_mm = np.array([6.0, 12.0, 15.0])
    mask = _ellipsoid((40, 60, 80), np.array([13.0, 31.0, 47.0]), radii_mm / spacing)
    cube = crop_cube(mask, affine)
    assert cube.shape == (64, 64, 64)
    ml_mask = mask.sum() * spacing.prod() / 1000
    assert cube.sum() / 1000 == pytest.approx(ml_mask, rel=0.15)
    centre = np.argwhere(cube).mean(axis=0)
    np.testing.assert_allclose(centre, 31.5, atol=1.0)
    extents = np.ptp(np.argwhere(cube), axis=0) + 1
    np.testing.assert_allclose(extents, 2 * radii_mm, atol=3)  # 1 mm voxels, RAS order
    sub, sub_affine = bounding_crop(mask, affine)
    assert sub.size < mask.size
    np.testing.assert_array_equal(crop_cube(sub, sub_affine), cube)


def test_engine_protocol_and_not_loaded() -> None:
    eng = ImagingEngine()
    assert isinstance(eng, Engine)
    assert eng.name == "imaging" and not eng.loaded
    with pytest.raises(NotReady):
        eng.analyze(volume_path=Path("x.nii.gz"))


@needs_example
def test_analyze_example_with_multilabel_and_per_structure_masks(engine: ImagingEngine) -> None:
    info = engine.info()
    assert info["model_version"] == engine.version and info["metrics"]["test_auc"] > 0.5
    multi = engine.analyze(
        volume_path=EXAMPLE / "example_ct_sm.nii.gz",
        segmentation_path=EXAMPLE / "example_seg_fast.nii.gz",
    )
    per = engine.analyze(
        volume_path=EXAMPLE / "example_ct_sm.nii.gz",
        segmentation_path=EXAMPLE / "example_seg_fast",
    )
    for result in (multi, per):
        assert result["disclaimer"] == DISCLAIMER
        assert result["model_name"] == "cdss-imaging"
        assert result["model_version"] == engine.version
        assert set(result["timings_s"]) >= {"load", "measure", "classify", "total"}
    liver_multi = next(s for s in multi["structures"] if s["name"] == "liver")
    assert liver_multi["label"] == 5 and 900 < liver_multi["volume_ml"] < 1200
    # Where the two encodings hold the same gland voxels, the findings must agree exactly.
    seg = np.asarray(nib.load(str(EXAMPLE / "example_seg_fast.nii.gz")).dataobj)
    for f_multi, f_per in zip(multi["findings"], per["findings"], strict=True):
        assert f_multi["structure"] == f_per["structure"]
        label = 9 if f_multi["structure"] == "adrenal_gland_left" else 8
        mask = np.asarray(
            nib.load(str(EXAMPLE / "example_seg_fast" / f"{f_multi['structure']}.nii.gz")).dataobj
        )
        if np.array_equal(seg == label, mask > 0):
            assert f_multi["probability"] == pytest.approx(f_per["probability"], abs=1e-6)
        assert 0.0 <= f_multi["probability"] <= 1.0


@needs_example
def test_tiny_gland_is_not_assessed(engine: ImagingEngine, tmp_path: Path) -> None:
    img = nib.load(str(EXAMPLE / "example_seg.nii.gz"))
    seg = np.zeros(img.shape, np.uint8)
    seg[60, 50, 15] = 9  # one 27 mm^3 voxel of "adrenal_gland_left"
    nib.save(nib.Nifti1Image(seg, img.affine), str(tmp_path / "seg.nii.gz"))
    result = engine.analyze(
        volume_path=EXAMPLE / "example_ct_sm.nii.gz", segmentation_path=tmp_path / "seg.nii.gz"
    )
    (finding,) = result["findings"]
    assert finding["probability"] is None and finding["label"] == "not assessed"
