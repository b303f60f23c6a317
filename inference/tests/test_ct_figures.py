"""The files a CT analysis draws (``ct_figures``, ``ct_mesh``): the three-plane PNG, the label
NIfTI and the Plotly mesh, on synthetic volumes whose answers are known, then on the example CT."""

from __future__ import annotations

import gzip
import io
import json
from pathlib import Path

import nibabel as nib
import numpy as np
import pytest
from matplotlib import font_manager
from PIL import Image

from inference.engines.imaging.ct_figures import (
    _panels,
    font_families,
    labelmap_nifti_bytes,
    slices_png,
    volume_nifti_write,
)
from inference.engines.imaging.ct_labels import CT_LABEL_IDS
from inference.engines.imaging.ct_mesh import mesh_figure
from inference.engines.imaging.segmentation import load_labelmap
from inference.engines.imaging.volume import Volume, VolumeLimits

EXAMPLE_CT = Path("/work/shared/datasets/imaging/totalsegmentator_example_ct/example_ct.nii.gz")
LUNG, BONE, LESION = CT_LABEL_IDS["lung"], CT_LABEL_IDS["bone"], CT_LABEL_IDS["liver_lesion"]


def _affine(spacing: tuple[float, float, float]) -> np.ndarray:
    affine = np.diag([*spacing, 1.0])
    affine[:3, 3] = (-120.0, 35.5, -300.0)
    return affine


def _phantom(
    spacing: tuple[float, float, float] = (0.8, 0.8, 2.5),
    shape: tuple[int, int, int] = (96, 80, 40),
) -> tuple[Volume, np.ndarray]:
    """A soft-tissue block with a lesion on the patient's right (high first index), lung on the
    patient's left, and a bone ball at the front (high second index), all crossing the centre
    slice."""
    i, j, k = np.meshgrid(*(np.arange(n, dtype=float) for n in shape), indexing="ij")
    ci, cj, ck = (n / 2 for n in shape)
    data = np.full(shape, 40.0, dtype=np.float32)
    labels = np.zeros(shape, dtype=np.uint8)
    mm = [(i - ci) * spacing[0], (j - cj) * spacing[1], (k - ck) * spacing[2]]

    def ball(x: float, y: float, z: float, r: float) -> np.ndarray:
        return (mm[0] - x) ** 2 + (mm[1] - y) ** 2 + (mm[2] - z) ** 2 < r * r

    labels[ball(22.0, 0.0, 0.0, 8.0)] = LESION  # patient's right
    labels[ball(-22.0, 0.0, 0.0, 10.0)] = LUNG  # patient's left
    labels[ball(0.0, 20.0, 0.0, 7.0)] = BONE  # anterior
    data[labels == LUNG] = -850.0
    data[labels == BONE] = 700.0
    volume = Volume(data=data, affine=_affine(spacing), source_format="nifti")
    return volume, labels


# --- the PNG ---------------------------------------------------------------------------------


def _png(volume: Volume, labels: np.ndarray, **kwargs: object) -> Image.Image:
    data = slices_png(
        volume,
        labels,
        focus=kwargs.get("focus"),  # type: ignore[arg-type]
        title=str(kwargs.get("title", "CT 분석 (예시)")),
        subtitle="synthetic phantom",
    )
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert len(data) < 1_000_000
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


def test_png_decodes_with_the_expected_size() -> None:
    volume, labels = _phantom()
    image = _png(volume, labels)
    assert image.size == (1600, 600)


def test_png_shows_the_patients_right_on_the_left_of_the_axial_panel() -> None:
    """The lesion (patient's right) is drawn left of the lung (patient's left) in the axial
    panel, the leftmost third of the figure."""
    volume, labels = _phantom()
    pixels = np.asarray(_png(volume, labels).convert("RGB")).astype(int)
    axial = pixels[120:480, : 1600 // 3]  # the panel rows, above the legend
    r, g, b = axial[..., 0], axial[..., 1], axial[..., 2]
    lesion = (r - g > 60) & (r - b > 20)  # #e0245e over grey
    lung = (b - r > 40) & (b - g > 10)  # #4fa3e0 over grey
    assert lesion.sum() > 200 and lung.sum() > 200
    assert np.nonzero(lesion)[1].mean() < np.nonzero(lung)[1].mean()


def test_panels_orientation_and_physical_size() -> None:
    """Rows run from anterior (axial) or superior (coronal, sagittal) at the top; columns from
    the patient's right (axial, coronal) or anterior (sagittal) at the left; each panel's size
    is its extent in mm, so anisotropic voxels keep their aspect."""
    spacing = (0.8, 0.8, 2.5)
    volume, labels = _phantom(spacing)
    ni, nj, nk = volume.shape
    axial, coronal, sagittal = _panels(volume, labels, (ni // 2, nj // 2, nk // 2))
    assert axial.size_mm == pytest.approx((ni * 0.8, nj * 0.8))
    assert coronal.size_mm == pytest.approx((ni * 0.8, nk * 2.5))
    assert sagittal.size_mm == pytest.approx((nj * 0.8, nk * 2.5))
    assert axial.edges == ("R", "L", "A", "P")
    assert coronal.edges == ("R", "L", "S", "I")
    assert sagittal.edges == ("A", "P", "S", "I")
    rows, cols = np.nonzero(axial.labels == LESION)
    assert cols.mean() < axial.labels.shape[1] / 2  # right on the left
    rows, cols = np.nonzero(axial.labels == BONE)
    assert rows.mean() < axial.labels.shape[0] / 2  # anterior at the top
    rows, cols = np.nonzero(sagittal.labels == BONE)
    assert cols.mean() < sagittal.labels.shape[1] / 2  # anterior on the left

    marker = np.zeros_like(labels)
    marker[:, :, nk - 3 :] = 1  # the top (superior) slices
    _, coronal, sagittal = _panels(volume, marker, (ni // 2, nj // 2, nk // 2))
    for panel in (coronal, sagittal):
        rows, _ = np.nonzero(panel.labels == 1)
        assert rows.max() < panel.labels.shape[0] / 2


def test_png_draws_a_volume_without_labels() -> None:
    volume, labels = _phantom()
    image = _png(volume, np.zeros_like(labels), focus=(0, 0, 0))
    assert image.size == (1600, 600)


def test_png_rejects_a_label_map_off_the_grid() -> None:
    volume, labels = _phantom()
    with pytest.raises(ValueError, match="grid"):
        slices_png(volume, labels[:-1], focus=None, title="t", subtitle="s")


def test_fonts_prefer_a_korean_font_and_end_with_the_fallback() -> None:
    families = font_families()
    assert families[-1] == "DejaVu Sans"
    installed = {entry.name for entry in font_manager.fontManager.ttflist}
    if "Noto Sans CJK KR" in installed:
        assert families[0] == "Noto Sans CJK KR"


# --- the label NIfTI -------------------------------------------------------------------------


def test_labelmap_nifti_round_trips_with_its_affine(tmp_path: Path) -> None:
    volume, labels = _phantom((0.7, 0.6, 1.25))
    data = labelmap_nifti_bytes(labels, volume.affine)
    assert data[:2] == b"\x1f\x8b"
    image = nib.Nifti1Image.from_bytes(gzip.decompress(data))
    assert image.get_data_dtype() == np.uint8
    assert np.array_equal(np.asarray(image.dataobj), labels)
    assert np.allclose(image.affine, volume.affine)
    assert np.allclose(image.get_qform(), volume.affine, atol=1e-4)
    assert int(image.header["sform_code"]) == 1 and int(image.header["qform_code"]) == 1
    # The system's own reader puts it back on the volume's grid unchanged.
    path = tmp_path / "segmentation.nii.gz"
    path.write_bytes(data)
    again = load_labelmap(path, volume, VolumeLimits())
    assert np.array_equal(again, labels)


def test_labelmap_nifti_refuses_labels_above_255() -> None:
    labels = np.zeros((4, 4, 4), dtype=np.uint16)
    labels[0, 0, 0] = 300
    with pytest.raises(ValueError, match="uint8"):
        labelmap_nifti_bytes(labels, np.eye(4))


# --- the mesh --------------------------------------------------------------------------------


def _world_box(volume: Volume) -> tuple[np.ndarray, np.ndarray]:
    corners = np.array(
        [
            [a, b, c, 1.0]
            for a in (-0.5, volume.shape[0] - 0.5)
            for b in (-0.5, volume.shape[1] - 0.5)
            for c in (-0.5, volume.shape[2] - 0.5)
        ]
    )
    world = corners @ volume.affine.T
    return world[:, :3].min(axis=0), world[:, :3].max(axis=0)


def test_mesh_has_one_trace_per_label_in_world_coordinates() -> None:
    volume, labels = _phantom()
    fig = mesh_figure(labels, volume.affine, max_bytes=2_000_000)
    assert len(json.dumps(fig)) < 2_000_000
    names = [trace["name"] for trace in fig["data"]]
    assert names == ["lung", "bone", "liver_lesion"]
    lo, hi = _world_box(volume)
    for trace in fig["data"]:
        assert trace["type"] == "mesh3d"
        xyz = np.array([trace["x"], trace["y"], trace["z"]]).T
        assert np.all(xyz >= lo - 1e-6) and np.all(xyz <= hi + 1e-6)
        assert np.allclose(xyz, np.round(xyz, 1))
        faces = np.array([trace["i"], trace["j"], trace["k"]])
        assert faces.min() >= 0 and faces.max() < len(xyz)
    # The lesion ball's surface is centred where its centre is in the world.
    lesion = next(t for t in fig["data"] if t["name"] == "liver_lesion")
    centre_voxel = np.array([*(np.array(volume.shape) / 2 - 0.5), 1.0])
    centre_world = (volume.affine @ centre_voxel)[:3] + np.array([22.0, 0.0, 0.0])
    found = np.array([np.mean(lesion["x"]), np.mean(lesion["y"]), np.mean(lesion["z"])])
    assert np.allclose(found, centre_world, atol=2.0)
    assert fig["layout"]["scene"]["aspectmode"] == "data"
    assert lesion["color"] == "#e0245e"


def test_mesh_is_coarsened_to_fit_a_small_budget() -> None:
    volume, labels = _phantom((0.5, 0.5, 0.5), (160, 160, 120))
    full = mesh_figure(labels, volume.affine, max_bytes=10_000_000)
    budget = len(json.dumps(full)) // 3
    fig = mesh_figure(labels, volume.affine, max_bytes=budget)
    assert len(json.dumps(fig)) < budget
    assert len(fig["data"]) == 3  # coarser, none dropped
    assert "meta" not in fig["layout"]


def test_mesh_drops_what_cannot_fit_and_says_so() -> None:
    volume, labels = _phantom()
    fig = mesh_figure(labels, volume.affine, max_bytes=1_500)
    assert len(json.dumps(fig)) < 1_500
    kept = {trace["name"] for trace in fig["data"]}
    dropped = fig["layout"]["meta"]["dropped_for_size"]
    assert dropped and kept.isdisjoint(dropped)
    assert len(kept) + len(dropped) == 3


def test_mesh_keeps_a_lesion_smaller_than_a_block() -> None:
    """A 4 mm lesion on 0.8 mm voxels fills no 3 mm block to half: it still gets a surface."""
    volume, _ = _phantom()
    labels = np.zeros(volume.shape, dtype=np.uint8)
    labels[46:51, 38:43, 19:21] = LESION
    fig = mesh_figure(labels, volume.affine)
    assert [t["name"] for t in fig["data"]] == ["liver_lesion"]


def test_mesh_of_an_empty_label_map_has_no_traces() -> None:
    fig = mesh_figure(np.zeros((8, 8, 8), dtype=np.uint8), np.eye(4))
    assert fig["data"] == []


# --- the example CT --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def example() -> tuple[Volume, np.ndarray]:
    if not EXAMPLE_CT.is_file():
        pytest.skip(f"shared example CT not present at {EXAMPLE_CT}")
    from inference.engines.imaging.body import body_composition
    from inference.engines.imaging.loader import load_volume

    volume = load_volume(EXAMPLE_CT)
    return volume, body_composition(volume).labelmap()


def test_example_png_and_mesh(example: tuple[Volume, np.ndarray]) -> None:
    volume, labels = example
    image = _png(volume, labels, focus=(61, 50, 74))
    assert image.size == (1600, 600)
    fig = mesh_figure(labels, volume.affine)
    assert len(json.dumps(fig)) < 2_000_000
    assert [t["name"] for t in fig["data"]] == [
        "lung",
        "bone",
        "subcutaneous_fat",
        "visceral_fat",
    ]
    lo, hi = _world_box(volume)
    for trace in fig["data"]:
        assert lo[0] - 1e-6 <= min(trace["x"]) and max(trace["x"]) <= hi[0] + 1e-6
        assert lo[2] - 1e-6 <= min(trace["z"]) and max(trace["z"]) <= hi[2] + 1e-6


def test_the_volume_file_keeps_whole_hu_as_int16_and_fractions_as_float(tmp_path: Path) -> None:
    affine = np.diag([0.8, 0.8, 2.5, 1.0])
    whole = np.arange(-1024, -1024 + 4 * 5 * 6, dtype=np.float32).reshape(4, 5, 6)
    volume_nifti_write(whole, affine, tmp_path / "whole.nii.gz")
    written = nib.load(str(tmp_path / "whole.nii.gz"))
    assert written.get_data_dtype() == np.int16
    assert np.array_equal(np.asarray(written.dataobj), whole)
    assert np.allclose(written.affine, affine)

    fraction = whole.copy()
    fraction[3, 4, 5] = 0.5
    volume_nifti_write(fraction, affine, tmp_path / "fraction.nii.gz")
    kept = nib.load(str(tmp_path / "fraction.nii.gz"))
    assert kept.get_data_dtype() == np.float32
    assert np.array_equal(np.asarray(kept.dataobj), fraction)
