"""MONAI bundles: a tiny bundle in the Model Zoo layout, built here, runs through the engine code.

The bundle's network is a 1x1x1 convolution with fixed weights that labels voxels above 0 HU as
"dense" (channel 1) and the rest as background, so the expected output is known independently.
"""

from __future__ import annotations

import json
from pathlib import Path

import nibabel as nib
import numpy as np
import pytest
import torch

from inference.engines.imaging.bundle import run_bundle
from inference.engines.imaging.loader import load_volume
from inference.engines.imaging.measure import measure_labelmap
from inference.errors import InvalidInput

INFERENCE_JSON = {
    "imports": ["$import torch"],
    "bundle_root": ".",
    "device": "$torch.device('cpu')",
    "network_def": {
        "_target_": "torch.nn.Conv3d",
        "in_channels": 1,
        "out_channels": 2,
        "kernel_size": 1,
    },
    "preprocessing": {
        "_target_": "Compose",
        "transforms": [
            {"_target_": "LoadImaged", "keys": "image"},
            {"_target_": "EnsureChannelFirstd", "keys": "image"},
            {
                "_target_": "ScaleIntensityRanged",
                "keys": "image",
                "a_min": -1000,
                "a_max": 1000,
                "b_min": -1.0,
                "b_max": 1.0,
                "clip": True,
            },
        ],
    },
    "inferer": {"_target_": "SlidingWindowInferer", "roi_size": [16, 16, 16], "sw_batch_size": 2},
    "postprocessing": {
        "_target_": "Compose",
        "transforms": [
            {"_target_": "AsDiscreted", "keys": "pred", "argmax": True},
            {"_target_": "SaveImaged", "keys": "pred", "output_dir": "@output_dir"},
        ],
    },
}
METADATA = {
    "name": "tiny_dense_tissue",
    "version": "0.1.0",
    "network_data_format": {
        "outputs": {"pred": {"type": "image", "channel_def": {"0": "background", "1": "dense"}}}
    },
}


def _net() -> torch.nn.Conv3d:
    net = torch.nn.Conv3d(1, 2, kernel_size=1)
    with torch.no_grad():
        net.weight.copy_(torch.tensor([-1.0, 1.0]).reshape(2, 1, 1, 1, 1))
        net.bias.zero_()
    return net


def make_bundle(root: Path, *, torchscript: bool = False) -> Path:
    (root / "configs").mkdir(parents=True)
    (root / "models").mkdir()
    (root / "configs" / "inference.json").write_text(json.dumps(INFERENCE_JSON))
    (root / "configs" / "metadata.json").write_text(json.dumps(METADATA))
    if torchscript:
        torch.jit.script(_net()).save(str(root / "models" / "model.ts"))
    else:
        torch.save(_net().state_dict(), root / "models" / "model.pt")
    return root


def _volume(tmp_path: Path) -> Path:
    rng = np.random.default_rng(5)
    hu = rng.integers(-900, 900, size=(20, 18, 12)).astype(np.int16)
    affine = np.diag([-1.5, 1.5, 2.0, 1.0])  # stored as LAS, so the loader reorients it
    path = tmp_path / "ct.nii.gz"
    nib.save(nib.Nifti1Image(hu, affine), str(path))
    return path


@pytest.mark.parametrize("torchscript", [False, True])
def test_tiny_bundle_segments_dense_tissue(tmp_path: Path, torchscript: bool) -> None:
    bundle = make_bundle(tmp_path / "bundle", torchscript=torchscript)
    vol = load_volume(_volume(tmp_path))
    out = run_bundle(bundle, vol)
    assert (out.name, out.version) == ("tiny_dense_tissue", "0.1.0")
    assert out.labelmap is not None and out.labelmap.shape == vol.shape
    np.testing.assert_array_equal(out.labelmap == 1, vol.data > 0)
    rows = measure_labelmap(vol.data, out.labelmap, vol.voxel_volume_ml, out.label_names)
    assert [r["name"] for r in rows] == ["dense"]
    assert rows[0]["voxels"] == int((vol.data > 0).sum())
    # SaveImaged was dropped: the bundle wrote nothing anywhere in its folder.
    assert sorted(p.name for p in bundle.rglob("*") if p.is_file()) == sorted(
        ["inference.json", "metadata.json", "model.ts" if torchscript else "model.pt"]
    )


def test_bundle_layout_is_checked(tmp_path: Path) -> None:
    vol = load_volume(_volume(tmp_path))
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(InvalidInput, match=r"configs/inference\.json"):
        run_bundle(empty, vol)
    bundle = make_bundle(tmp_path / "b")
    (bundle / "models" / "model.pt").unlink()
    with pytest.raises(InvalidInput, match=r"model\.ts nor models/model\.pt"):
        run_bundle(bundle, vol)


def test_bundle_runs_through_the_engine(tmp_path: Path) -> None:
    from inference.config import REPO_ROOT
    from inference.engines.imaging import ImagingEngine

    models = REPO_ROOT / "models" / "imaging"
    engine = ImagingEngine()
    engine.load(models / (models / "CURRENT").read_text().strip())
    volume = _volume(tmp_path)
    result = engine.analyze(volume_path=volume, bundle_dir=make_bundle(tmp_path / "bundle"))
    assert result["bundle"] == {"name": "tiny_dense_tissue", "version": "0.1.0"}
    (row,) = result["structures"]
    assert row["name"] == "dense" and row["source"] == "bundle:tiny_dense_tissue"
    hu = np.asarray(nib.load(str(volume)).dataobj)
    assert row["voxels"] == int((hu > 0).sum())
    assert row["hu_mean"] == pytest.approx(float(hu[hu > 0].mean()), abs=0.01)
    assert result["findings"] == [] and result["notes"]
    assert result["model_version"] == engine.version


def test_a_bundle_runs_through_the_ct_analysis_too(tmp_path: Path) -> None:
    from inference.config import REPO_ROOT
    from inference.engines.imaging import ImagingEngine

    models = REPO_ROOT / "models" / "imaging"
    engine = ImagingEngine()
    engine.load(models / (models / "CURRENT").read_text().strip())
    volume = _volume(tmp_path)
    out = tmp_path / "work"
    out.mkdir()
    result = engine.analyze_ct(
        volume_path=volume, bundle_dir=make_bundle(tmp_path / "bundle"), output_dir=out
    )
    assert result["bundle"] == {"name": "tiny_dense_tissue", "version": "0.1.0"}
    rows = [r for r in result["structures"] if r["source"] == "bundle:tiny_dense_tissue"]
    hu = np.asarray(nib.load(str(volume)).dataobj)
    assert [r["name"] for r in rows] == ["dense"] and rows[0]["voxels"] == int((hu > 0).sum())
    assert {"name": "bundle:tiny_dense_tissue", "version": "0.1.0", "role": "bundle"} in result[
        "models"
    ]
    assert sorted(p.name for p in out.iterdir()) == [
        "mesh.json",
        "segmentation.nii.gz",
        "slices.png",
        "volume.nii.gz",
    ]


def test_a_classification_bundles_probabilities_are_ct_findings_with_their_number() -> None:
    from inference.engines.imaging.ct import bundle_findings

    (finding,) = bundle_findings("bundle:tumour_cls", {"tumour": 0.8712})
    assert finding["values"] == {"probability": 0.87}
    assert "0.87" in finding["text"] and finding["source"] == "bundle:tumour_cls"
