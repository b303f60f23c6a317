"""The converted liver and liver-lesion U-Nets: weights, the Keras mapping, resampling, masks and
lesion rows, and the Dice against TotalSegmentator on the example CT."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest
import torch

from inference.config import REPO_ROOT
from inference.engines.imaging.liver import (
    CONFIG_FILE,
    MIN_LESION_ML,
    Grid,
    LiverOutput,
    LiverSegmenter,
    axis_weights,
    lesion_rows,
    liver_probability,
    load_net,
    resample,
)
from inference.engines.imaging.loader import load_volume
from inference.engines.imaging.unet import UNet3d, build_unet
from inference.engines.imaging.volume import Volume
from training.imaging.convert_liver import (
    CHECK_TOLERANCE,
    PACKAGE,
    WHEEL_NAME,
    KerasConv,
    check_first_stage,
    check_layers,
    conv_order,
    convert,
    float64_net,
    np_keras_unet,
    read_keras_convs,
    torch_to_keras,
)
from training.imaging.eval_liver import TARGET_DICE, dice, reference_mask, slab_offset

DATASETS = Path(os.environ.get("CDSS_DATASETS_DIR", REPO_ROOT.parent / "shared" / "datasets"))
EXAMPLE = DATASETS / "imaging" / "totalsegmentator_example_ct"
needs_example = pytest.mark.skipif(
    not (EXAMPLE / "example_ct.nii.gz").is_file(),
    reason=f"example CT not found at {EXAMPLE} (set CDSS_DATASETS_DIR)",
)
MODELS = REPO_ROOT / "models" / "liver"
WHEEL = Path(
    os.environ.get("CDSS_LIVER_WHEEL") or REPO_ROOT / "var" / "cache" / PACKAGE / WHEEL_NAME
)


def model_dir() -> Path:
    return MODELS / (MODELS / "CURRENT").read_text(encoding="utf-8").strip()


def config() -> dict:
    return json.loads((model_dir() / CONFIG_FILE).read_text(encoding="utf-8"))


def keras_convs_of(net: UNet3d) -> list[KerasConv]:
    """The Keras layers the converted weights stand for, in Keras creation order."""
    convs = []
    for i, prefix in enumerate(conv_order(net)):
        conv = net.get_submodule(prefix)
        assert isinstance(conv, torch.nn.Conv3d) and conv.bias is not None
        convs.append(
            KerasConv(
                f"conv3d_{i + 1}", torch_to_keras(conv.weight), conv.bias.detach().numpy().copy()
            )
        )
    return convs


@pytest.fixture(scope="module")
def nets() -> dict[str, UNet3d]:
    return {
        key: load_net(model_dir() / e["file"], e["spec"]) for key, e in config()["nets"].items()
    }


@pytest.fixture(scope="module")
def segmenter() -> LiverSegmenter:
    return LiverSegmenter.load(model_dir(), threads=2)


# Weights and the conversion ---------------------------------------------------------------------


def test_weights_load_strictly_in_float16_and_stay_small() -> None:
    total = 0
    for entry in config()["nets"].values():
        path = model_dir() / entry["file"]
        state = torch.load(path, map_location="cpu", weights_only=True)
        assert {v.dtype for v in state.values()} == {torch.float16}
        net = build_unet(entry["spec"])
        net.load_state_dict({k: v.float() for k, v in state.items()}, strict=True)
        with pytest.raises(RuntimeError):  # strict: a missing weight is an error
            build_unet(entry["spec"]).load_state_dict(
                {k: v.float() for k, v in list(state.items())[1:]}, strict=True
            )
        total += path.stat().st_size
    assert total < 16_000_000
    assert {e["voxel_mm"][2] for e in config()["nets"].values()} == {3.0}


@pytest.mark.parametrize("key", ["liver", "lesion"])
def test_each_layer_matches_numpy_keras(nets: dict[str, UNet3d], key: str) -> None:
    """Every convolution, then the first stage (conv, instance norm, leaky ReLU, conv and the
    lesion net's residual), against numpy's Keras semantics with the Keras-ordered kernels."""
    net64 = float64_net(nets[key])
    convs = keras_convs_of(nets[key])
    assert check_layers(convs, net64) < 1e-9
    assert check_first_stage(convs, net64) < 1e-9


def test_a_wrong_kernel_axis_order_is_caught(nets: dict[str, UNet3d]) -> None:
    """Reading the Keras kernel as (kz, ky, kx) fits every 3x3x3 layer's shape, so only the
    numbers can tell; the layer check must see it."""
    convs = keras_convs_of(nets["lesion"])
    swapped = [
        KerasConv(c.name, np.ascontiguousarray(c.kernel.transpose(2, 1, 0, 3, 4)), c.bias)
        if c.kernel.shape[:3] == (3, 3, 3)
        else c
        for c in convs
    ]
    wrong, _ = convert(swapped, "lesion")
    assert check_layers(convs, float64_net(wrong)) > 1e-3
    assert check_first_stage(convs, float64_net(wrong)) > 1e-3


@pytest.mark.slow
@pytest.mark.parametrize(("key", "shape"), [("liver", (54, 81, 54)), ("lesion", (92, 100, 46))])
def test_whole_network_matches_numpy_keras(
    nets: dict[str, UNet3d], key: str, shape: tuple[int, int, int]
) -> None:
    net64 = float64_net(nets[key])
    x = np.random.default_rng(3).uniform(-0.5, 0.5, size=(*shape, 1))
    ref = np_keras_unet(keras_convs_of(nets[key]), key, x)
    t = torch.from_numpy(np.ascontiguousarray(x.transpose(3, 0, 1, 2)))[None]
    with torch.inference_mode():
        ours = net64(t.contiguous(memory_format=torch.channels_last_3d))[0].numpy()
    assert ours.transpose(1, 2, 3, 0).shape == ref.shape
    assert np.abs(ours.transpose(1, 2, 3, 0) - ref).max() < CHECK_TOLERANCE * np.abs(ref).max()


@pytest.mark.skipif(not WHEEL.is_file(), reason=f"{WHEEL} absent (set CDSS_LIVER_WHEEL)")
@pytest.mark.parametrize("key", ["liver", "lesion"])
def test_hdf5_converts_to_the_shipped_weights(nets: dict[str, UNet3d], key: str) -> None:
    convs, info = read_keras_convs(WHEEL, key)
    net, _ = convert(convs, key)
    assert info["voxel_mm"] == config()["nets"][key]["voxel_mm"]
    for name, value in net.state_dict().items():
        shipped = nets[key].state_dict()[name]
        torch.testing.assert_close(value.half().float(), shipped, rtol=0, atol=0)


# Resampling ---------------------------------------------------------------------------------------


def test_a_grid_of_the_volumes_own_spacing_is_the_volume() -> None:
    shape = (12, 7, 5)
    grid = Grid.covering(np.zeros(3), np.array(shape) - 1, np.ones(3))
    assert grid == Grid.of_volume(shape)
    data = np.random.default_rng(0).normal(size=shape).astype(np.float32)
    np.testing.assert_array_equal(resample(data, grid, Grid.of_volume(shape)), data)


def test_resampling_keeps_a_ramp_and_the_field_of_view() -> None:
    shape = (40, 30, 20)
    ramp = np.broadcast_to(np.arange(shape[0], dtype=np.float32)[:, None, None], shape)
    src = Grid.of_volume(shape)
    coarse = Grid.covering(np.zeros(3), np.array(shape) - 1, np.array([4.0, 3.0, 2.5]))
    assert coarse.shape == (10, 10, 8)
    lo, hi = coarse.extent()
    np.testing.assert_allclose((lo + hi) / 2, (np.array(shape) - 1) / 2)
    down = resample(ramp, src, coarse)
    np.testing.assert_allclose(down[:, 0, 0], coarse.centres(0), atol=1e-4)  # area mean of a ramp
    up = resample(down, coarse, src)
    inner = slice(4, 36)  # edge voxels are repeated beyond the coarse grid's first centres
    np.testing.assert_allclose(up[inner, 5, 5], np.arange(shape[0])[inner], atol=1e-4)
    for axis in range(3):
        np.testing.assert_allclose(axis_weights(src, coarse, axis).sum(axis=1), 1.0, rtol=1e-6)


# Lesion rows --------------------------------------------------------------------------------------


def test_lesion_rows_measure_kept_lesions_and_drop_specks() -> None:
    spacing = np.array([0.8, 0.8, 2.0])
    affine = np.diag([*spacing, 1.0])
    affine[:3, 3] = [-50.0, 20.0, 100.0]
    shape = (80, 80, 30)
    data = np.full(shape, 40.0, dtype=np.float32)
    volume = Volume(data=data, affine=affine, source_format="nifti")
    idx = np.indices(shape).transpose(1, 2, 3, 0) * spacing
    big_centre = np.array([30.0, 28.0, 30.0])
    big = ((idx - big_centre) ** 2).sum(axis=-1) <= 10.0**2
    small_centre = np.array([50.0, 50.0, 20.0])
    small = ((idx - small_centre) ** 2).sum(axis=-1) <= 4.0**2
    speck = np.zeros(shape, dtype=bool)
    speck[5, 5, 5] = True
    data[big] = 10.0
    data[small] = -5.0
    offset = np.array([0, 0, 0])
    kept, rows = lesion_rows(big | small | speck, volume, offset)
    assert [r["index"] for r in rows] == [1, 2]
    assert rows[0]["volume_ml"] > rows[1]["volume_ml"] >= MIN_LESION_ML
    assert not kept[5, 5, 5] and kept[big].all() and kept[small].all()
    total = sum(r["volume_ml"] for r in rows)
    assert total == pytest.approx(kept.sum() * volume.voxel_volume_ml, abs=1e-3)
    assert rows[0]["volume_ml"] == pytest.approx(4 / 3 * np.pi * 10**3 / 1000, rel=0.1)
    assert rows[0]["largest_diameter_mm"] == pytest.approx(20.0, abs=1.6)
    assert rows[1]["largest_diameter_mm"] == pytest.approx(8.0, abs=1.6)
    assert rows[0]["hu_mean"] == pytest.approx(10.0)
    assert rows[1]["hu_mean"] == pytest.approx(-5.0)
    np.testing.assert_allclose(rows[0]["centroid_mm"], big_centre + affine[:3, 3], atol=0.2)


# The whole step on real and synthetic CTs -------------------------------------------------------


def _check_masks(volume: Volume, out: LiverOutput) -> None:
    assert out.liver.shape == volume.shape and out.liver.dtype == bool
    assert out.lesions.shape == volume.shape and out.lesions.dtype == bool
    assert not (out.lesions & ~out.liver).any(), "a lesion voxel outside the liver"
    assert out.liver_volume_ml == pytest.approx(out.liver.sum() * volume.voxel_volume_ml)
    total = sum(r["volume_ml"] for r in out.lesion_rows)
    assert total == pytest.approx(
        out.lesions.sum() * volume.voxel_volume_ml, abs=1e-3 * (1 + len(out.lesion_rows))
    )
    volumes = [r["volume_ml"] for r in out.lesion_rows]
    assert volumes == sorted(volumes, reverse=True)
    assert all(r["largest_diameter_mm"] > 0 for r in out.lesion_rows)
    assert all(r["volume_ml"] >= MIN_LESION_ML for r in out.lesion_rows)


@pytest.fixture(scope="module")
def example(segmenter: LiverSegmenter) -> tuple[Volume, LiverOutput]:
    if not (EXAMPLE / "example_ct.nii.gz").is_file():
        pytest.skip(f"example CT not found at {EXAMPLE} (set CDSS_DATASETS_DIR)")
    volume = load_volume(EXAMPLE / "example_ct.nii.gz")
    return volume, segmenter.segment(volume)


@needs_example
@pytest.mark.slow
def test_liver_dice_against_totalsegmentator(example: tuple[Volume, LiverOutput]) -> None:
    volume, out = example
    ref = reference_mask(EXAMPLE)
    k = slab_offset(volume.data, load_volume(EXAMPLE / "example_ct_sm.nii.gz").data)
    assert dice(out.liver[:, :, k : k + ref.shape[2]], ref) >= TARGET_DICE
    assert 35.0 < out.liver_hu_mean < 60.0  # TotalSegmentator's liver: 44.9 HU
    _check_masks(volume, out)


@needs_example
@pytest.mark.slow
def test_hypodense_spheres_in_the_liver_become_consistent_lesion_rows(
    segmenter: LiverSegmenter, example: tuple[Volume, LiverOutput]
) -> None:
    """Three spheres 70 HU darker than the liver (radii 15, 9 and 6 mm), placed inside it."""
    from scipy import ndimage

    volume, out = example
    spacing = np.asarray(volume.spacing_mm)
    depth = ndimage.distance_transform_edt(out.liver, sampling=spacing)
    mm = np.indices(volume.shape).transpose(1, 2, 3, 0) * spacing
    data = volume.data.copy()
    truth = np.zeros(volume.shape, dtype=bool)
    rng = np.random.default_rng(1)
    for radius in (15.0, 9.0, 6.0):
        apart = ndimage.distance_transform_edt(~truth, sampling=spacing) > radius + 8
        free = (depth > radius + 6) & apart
        centre = np.argwhere(free)[rng.integers(int(free.sum()))] * spacing
        dist = np.sqrt(((mm - centre) ** 2).sum(axis=-1))
        data -= 70.0 * np.clip((radius + 1.5 - dist) / 3.0, 0.0, 1.0)
        truth |= dist <= radius
    synthetic = Volume(data=data, affine=volume.affine.copy(), source_format="nifti")
    found = segmenter.segment(synthetic)
    _check_masks(synthetic, found)
    assert len(found.lesion_rows) >= 2
    assert dice(found.lesions, truth) > 0.6
    largest = found.lesion_rows[0]
    # The ramp darkens voxels up to 1.5 mm beyond the radius; at 3 mm voxels the net's mask is
    # about one voxel generous: 14 mL of sphere comes out at 18 to 21 mL.
    assert 0.8 < largest["volume_ml"] / (4 / 3 * np.pi * 15**3 / 1000) < 1.6
    assert largest["largest_diameter_mm"] == pytest.approx(30.0, abs=9.0)


@pytest.mark.parametrize("bfloat16", [False, True])
def test_masks_follow_an_anisotropic_grid(bfloat16: bool) -> None:
    """A small phantom on an unusual grid: masks on its own shape, lesions in the liver."""
    segmenter = LiverSegmenter.load(model_dir(), threads=2, bfloat16=bfloat16)
    shape = (70, 60, 24)
    spacing = np.array([0.9, 1.1, 2.5])
    idx = np.indices(shape).transpose(1, 2, 3, 0) * spacing
    centre = (np.array(shape) - 1) * spacing / 2
    body = (((idx - centre) / np.array([28.0, 24.0, 40.0])) ** 2).sum(axis=-1) <= 1
    data = np.where(body, 40.0, -1000.0).astype(np.float32)
    affine = np.diag([*spacing, 1.0])
    volume = Volume(data=data, affine=affine, source_format="nifti")
    out = segmenter.segment(volume)
    _check_masks(volume, out)
    assert set(out.timings_s) >= {"liver_preprocess", "liver_net", "liver_postprocess"}


class _ThresholdNet(UNet3d):
    """The liver net's geometry with a stand-in for its weights: logit 10 * (x - 0.1), i.e.
    "liver" wherever the windowed input is above 40 HU. Counts its tiles."""

    def __init__(self) -> None:
        super().__init__(build_unet("liver").spec)
        self.calls: list[tuple[int, ...]] = []

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self.calls.append(tuple(x.shape[2:]))
        m = self.margin(0)
        return 10.0 * (x[:, :, m:-m, m:-m, m:-m] - 0.1)


def test_a_body_wider_than_the_patch_gets_a_tile_centred_on_the_liver() -> None:
    shape = (200, 120, 60)  # 600 mm wide at 3 mm: two tiles across, then one on the liver
    image = np.full(shape, -0.5, dtype=np.float32)
    image[10:190, 10:110, :] = 0.0  # body, water
    image[120:170, 40:90, 10:50] = 0.15  # "liver", 60 HU
    net = _ThresholdNet()
    prob = liver_probability(net, image)
    assert len(net.calls) == 3
    assert net.calls[-1][0] == 189  # the package's whole patch, 163 + 2 * 13
    inside = prob[120:170, 40:90, 10:50]
    assert inside.min() > 0.5
    prob[120:170, 40:90, 10:50] = 0
    assert prob.max() < 0.5
