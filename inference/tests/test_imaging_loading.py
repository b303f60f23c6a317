"""Volume loading: real NIfTI and DICOM files, RAS reorientation keeping HU, and malformed input."""

from __future__ import annotations

import gzip
import io
import os
import zipfile
from pathlib import Path

import nibabel as nib
import numpy as np
import pydicom
import pytest

from inference.engines.imaging.loader import load_volume
from inference.engines.imaging.volume import VolumeLimits
from inference.errors import InvalidInput, PayloadTooLarge

REPO = Path(__file__).resolve().parents[2]
DATASETS = Path(os.environ.get("CDSS_DATASETS_DIR", REPO.parent / "shared" / "datasets"))
EXAMPLE = DATASETS / "imaging" / "totalsegmentator_example_ct"
needs_example = pytest.mark.skipif(
    not EXAMPLE.is_dir(), reason=f"example CT not found at {EXAMPLE} (set CDSS_DATASETS_DIR)"
)


def _nifti(tmp_path: Path, data: np.ndarray, affine: np.ndarray, name: str = "v.nii.gz") -> Path:
    path = tmp_path / name
    nib.save(nib.Nifti1Image(data, affine), str(path))
    return path


def _dicom_zip(tmp_path: Path, edit=None, skip: set[int] | None = None) -> Path:  # type: ignore[no-untyped-def]
    files = sorted((EXAMPLE / "example_ct_dicom").iterdir())
    path = tmp_path / "series.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for i, f in enumerate(files):
            if skip and i in skip:
                continue
            raw = f.read_bytes()
            if edit is not None:
                ds = pydicom.dcmread(io.BytesIO(raw))
                edit(i, ds)
                buf = io.BytesIO()
                ds.save_as(buf)
                raw = buf.getvalue()
            zf.writestr(f"series/{f.name}", raw)
    return path


@needs_example
def test_example_nifti_loads_in_ras_with_hu() -> None:
    vol = load_volume(EXAMPLE / "example_ct_sm.nii.gz")
    raw = np.asarray(nib.load(str(EXAMPLE / "example_ct_sm.nii.gz")).dataobj)
    assert vol.shape == raw.shape == (122, 101, 30)
    assert vol.orientation == "RAS"
    assert vol.spacing_mm == pytest.approx((3.0, 3.0, 3.0))
    np.testing.assert_array_equal(vol.data, raw.astype(np.float32))
    assert vol.summary()["hu_range"] == [float(raw.min()), float(raw.max())]


def test_reorientation_to_ras_keeps_every_hu_value(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    ras = rng.integers(-1024, 2000, size=(7, 9, 5)).astype(np.int16)
    ras_affine = np.diag([0.8, 0.9, 2.5, 1.0])
    ras_affine[:3, 3] = [-10.0, 20.0, 30.0]
    # The same image stored as LPI with the first two axes swapped: data and affine both change.
    ornt = nib.orientations.axcodes2ornt(("P", "L", "I"))
    transform = nib.orientations.ornt_transform(nib.orientations.axcodes2ornt("RAS"), ornt)
    stored = nib.orientations.apply_orientation(ras, transform)
    stored_affine = ras_affine @ nib.orientations.inv_ornt_aff(transform, ras.shape)
    path = _nifti(tmp_path, stored, stored_affine)
    assert "".join(nib.aff2axcodes(stored_affine)) == "PLI"
    vol = load_volume(path)
    assert vol.orientation == "RAS"
    np.testing.assert_array_equal(vol.data, ras.astype(np.float32))
    np.testing.assert_allclose(vol.affine, ras_affine, atol=1e-5)


def test_scl_slope_and_intercept_give_hu(tmp_path: Path) -> None:
    img = nib.Nifti1Image(np.arange(24, dtype=np.int16).reshape(2, 3, 4), np.eye(4))
    img.header.set_slope_inter(2.0, -1024.0)
    path = tmp_path / "scaled.nii"
    nib.save(img, str(path))
    vol = load_volume(path)
    np.testing.assert_array_equal(vol.data.ravel(), np.arange(24) * 2.0 - 1024.0)


def test_truncated_uncompressed_nifti_is_rejected_before_reading(tmp_path: Path) -> None:
    path = _nifti(tmp_path, np.zeros((20, 20, 20), np.int16), np.eye(4), "v.nii")
    path.write_bytes(path.read_bytes()[:-100])
    with pytest.raises(InvalidInput, match="truncated") as exc:
        load_volume(path)
    assert exc.value.field == "volume"


def test_truncated_gzip_nifti_is_rejected(tmp_path: Path) -> None:
    data = np.random.default_rng(1).integers(-1000, 1000, (30, 30, 30)).astype(np.int16)
    path = _nifti(tmp_path, data, np.eye(4))
    blob = path.read_bytes()
    path.write_bytes(blob[: len(blob) // 2])
    with pytest.raises(InvalidInput, match="truncated"):
        load_volume(path)


def test_garbage_and_empty_files_are_rejected(tmp_path: Path) -> None:
    junk = tmp_path / "junk.nii"
    junk.write_bytes(b"this is not a nifti file at all" * 20)
    with pytest.raises(InvalidInput, match="NIfTI"):
        load_volume(junk)
    gz = tmp_path / "junk.nii.gz"
    gz.write_bytes(gzip.compress(b"\x00" * 100))
    with pytest.raises(InvalidInput):
        load_volume(gz)
    empty = tmp_path / "empty.nii.gz"
    empty.write_bytes(b"")
    with pytest.raises(InvalidInput, match="empty"):
        load_volume(empty)
    other = tmp_path / "image.png"
    other.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 400)
    with pytest.raises(InvalidInput, match="NIfTI"):
        load_volume(other)


@pytest.mark.parametrize("name", ["v.nii.gz", "v.nii"])
def test_a_file_named_by_its_hash_loads_like_its_named_copy(tmp_path: Path, name: str) -> None:
    """The web backend stores uploads as files/<sha[:2]>/<sha256>, with no extension."""
    data = np.arange(4 * 5 * 6, dtype=np.int16).reshape(4, 5, 6)
    named = _nifti(tmp_path, data, np.diag([2.0, 2.0, 3.0, 1.0]), name)
    hashed = tmp_path / "3f0a9c"
    hashed.write_bytes(named.read_bytes())
    a, b = load_volume(named), load_volume(hashed)
    assert np.array_equal(a.data, b.data) and np.allclose(a.affine, b.affine)


def test_header_caps_apply_before_voxels_are_read(tmp_path: Path) -> None:
    # A header that claims 3000^3 voxels, with almost no data behind it.
    hdr = nib.Nifti1Header()
    hdr.set_data_shape((3000, 3000, 3000))
    hdr.set_data_dtype(np.int16)
    path = tmp_path / "huge.nii"
    path.write_bytes(hdr.binaryblock + b"\x00" * 4 + b"\x00" * 1000)
    with pytest.raises(InvalidInput, match="exceeds the limit"):
        load_volume(path)
    small = _nifti(tmp_path, np.zeros((8, 8, 8), np.int16), np.eye(4), "s.nii.gz")
    with pytest.raises(InvalidInput, match="voxels exceed"):
        load_volume(small, VolumeLimits(max_voxels=100))
    with pytest.raises(PayloadTooLarge):
        load_volume(small, VolumeLimits(max_file_bytes=50))


def test_4d_bad_spacing_and_bad_dtype_are_rejected(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match="3D"):
        load_volume(_nifti(tmp_path, np.zeros((4, 4, 4, 2), np.int16), np.eye(4), "4d.nii.gz"))
    with pytest.raises(InvalidInput, match="spacing"):
        load_volume(
            _nifti(tmp_path, np.zeros((4, 4, 4), np.int16), np.diag([50, 1, 1, 1.0]), "z.nii")
        )
    rgb = np.zeros((4, 4, 4), dtype=[("R", "u1"), ("G", "u1"), ("B", "u1")])
    with pytest.raises(InvalidInput, match="data type"):
        load_volume(_nifti(tmp_path, rgb, np.eye(4), "rgb.nii"))
    nan = np.zeros((4, 4, 4), np.float32)
    nan[0, 0, 0] = np.nan
    with pytest.raises(InvalidInput, match="NaN"):
        load_volume(_nifti(tmp_path, nan, np.eye(4), "nan.nii"))


@needs_example
def test_zipped_dicom_series_loads_in_ras_with_hu(tmp_path: Path) -> None:
    vol = load_volume(_dicom_zip(tmp_path))
    assert vol.source_format == "dicom_zip"
    assert vol.shape == (512, 512, 20)
    assert vol.orientation == "RAS"
    assert vol.spacing_mm == pytest.approx((0.9765625, 0.9765625, 2.0))
    # Check voxels against pydicom directly, through the world coordinates of each voxel.
    files = sorted((EXAMPLE / "example_ct_dicom").iterdir())
    for f in files[::7]:
        ds = pydicom.dcmread(f)
        hu = ds.pixel_array.astype(np.float32) * float(ds.RescaleSlope) + float(ds.RescaleIntercept)
        ipp = np.array([float(v) for v in ds.ImagePositionPatient])
        for row, col in [(0, 0), (100, 300), (256, 256), (511, 17)]:
            lps = (
                ipp
                + col * 0.9765625 * np.array([1.0, 0, 0])
                + row * 0.9765625 * np.array([0, 1.0, 0])
            )
            ras = np.array([-lps[0], -lps[1], lps[2], 1.0])
            ijk = np.rint(np.linalg.inv(vol.affine) @ ras)[:3].astype(int)
            assert vol.data[tuple(ijk)] == hu[row, col]


@needs_example
def test_dicom_series_problems_are_named(tmp_path: Path) -> None:
    def other_series(i: int, ds: pydicom.Dataset) -> None:
        if i == 3:
            ds.SeriesInstanceUID = "1.2.3.4"

    with pytest.raises(InvalidInput, match="mixes 2 DICOM series"):
        load_volume(_dicom_zip(tmp_path, edit=other_series))

    def mr(i: int, ds: pydicom.Dataset) -> None:
        ds.Modality = "MR"

    with pytest.raises(InvalidInput, match="expected CT"):
        load_volume(_dicom_zip(tmp_path, edit=mr))
    with pytest.raises(InvalidInput, match="not uniform"):
        load_volume(_dicom_zip(tmp_path, skip={10}))


def test_bad_zips_and_zip_bombs_are_rejected(tmp_path: Path) -> None:
    notzip = tmp_path / "a.zip"
    notzip.write_bytes(b"PK\x03\x04" + b"\x00" * 100)
    with pytest.raises(InvalidInput, match="zip"):
        load_volume(notzip)
    text = tmp_path / "text.zip"
    with zipfile.ZipFile(text, "w") as zf:
        zf.writestr("readme.txt", "hello")
    with pytest.raises(InvalidInput, match="not a readable DICOM"):
        load_volume(text)
    bomb = tmp_path / "bomb.zip"
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("slice.dcm", b"\x00" * (20 * 1024 * 1024))
    with pytest.raises(InvalidInput, match="compression ratio"):
        load_volume(bomb)
    with pytest.raises(PayloadTooLarge, match="inflates"):
        load_volume(bomb, VolumeLimits(max_uncompressed_bytes=1024 * 1024))
