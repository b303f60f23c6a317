"""Decompression bombs and bounded memory: a volume is refused from its header before anything is
inflated, or read slab by slab into float32 with no second full-size copy.

Memory is measured with ``tracemalloc`` (numpy reports its buffers to it), on volumes small enough
for a unit test; bench/imaging_decoded_memory.py measures the process RSS on a 512x512x1000 one.
"""

from __future__ import annotations

import gzip
import io
import json
import os
import struct
import tracemalloc
import zipfile
from pathlib import Path

import nibabel as nib
import numpy as np
import pydicom
import pytest
from flask.testing import FlaskClient

from inference.app import create_app
from inference.config import REPO_ROOT, InferenceConfig
from inference.engines.imaging import nifti_io, segmentation, volume
from inference.engines.imaging.loader import load_volume
from inference.engines.imaging.segmentation import iter_masks, load_labelmap
from inference.engines.imaging.volume import VolumeLimits
from inference.errors import InvalidInput, PayloadTooLarge

DATASETS = Path(os.environ.get("CDSS_DATASETS_DIR", REPO_ROOT.parent / "shared" / "datasets"))
EXAMPLE = DATASETS / "imaging" / "totalsegmentator_example_ct"
needs_example = pytest.mark.skipif(not EXAMPLE.is_dir(), reason="example CT not found")
LPS = np.diag([-0.8, -0.8, 2.0, 1.0])


def _header(shape: tuple[int, ...], dtype: type, *, vox_offset: float = 352.0) -> bytes:
    hdr = nib.Nifti1Header()
    hdr.set_data_shape(shape)
    hdr.set_data_dtype(dtype)
    hdr.set_zooms((0.8, 0.8, 1.0)[: len(shape)])
    hdr.set_sform(np.diag([0.8, 0.8, 1.0, 1.0]), code=1)
    hdr["vox_offset"] = vox_offset
    return hdr.binaryblock + b"\x00" * 4


def test_a_header_that_decodes_past_the_cap_is_a_413_before_inflating(tmp_path: Path) -> None:
    # 512x512x1000 float64 = 2 GB decoded; the file holds the header alone (a few hundred bytes),
    # so anything that started inflating the voxels would fail on a truncated stream instead.
    path = tmp_path / "bomb.nii.gz"
    path.write_bytes(gzip.compress(_header((512, 512, 1000), np.float64)))
    with pytest.raises(PayloadTooLarge, match="decodes to 2097152352 bytes") as info:
        load_volume(path)
    assert info.value.field == "volume" and info.value.status_code == 413


def test_a_real_volume_over_a_lower_cap_is_a_413(tmp_path: Path) -> None:
    path = tmp_path / "v.nii.gz"
    nib.save(nib.Nifti1Image(np.zeros((64, 64, 64), np.float64), np.eye(4)), str(path))
    limits = VolumeLimits(max_decoded_bytes=1024 * 1024)
    with pytest.raises(PayloadTooLarge, match="over the limit of 1048576"):
        load_volume(path, limits)
    assert load_volume(path, VolumeLimits(max_decoded_bytes=4 * 1024 * 1024)).shape == (64, 64, 64)


def test_a_huge_voxel_offset_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "offset.nii.gz"
    path.write_bytes(gzip.compress(_header((8, 8, 8), np.int16, vox_offset=2.0e9)))
    with pytest.raises(PayloadTooLarge, match="voxel offset"):
        load_volume(path)


def test_a_stream_longer_than_its_header_says_is_refused(tmp_path: Path) -> None:
    # The header says 8x8x8 int16 (1 KiB); the gzip stream holds 50 MB more.
    path = tmp_path / "liar.nii.gz"
    with gzip.open(path, "wb", compresslevel=1) as fh:
        fh.write(_header((8, 8, 8), np.int16))
        for _ in range(50):
            fh.write(b"\x00" * 1024 * 1024)
    with pytest.raises(InvalidInput, match="truncated or malformed"):
        load_volume(path)


def test_a_float64_volume_within_the_caps_is_read_exactly_as_float32(tmp_path: Path) -> None:
    data = np.random.default_rng(0).normal(0, 500, (33, 20, 17))
    path = tmp_path / "f64.nii.gz"
    nib.save(nib.Nifti1Image(data, np.diag([0.8, 0.8, 2.0, 1.0])), str(path))
    vol = load_volume(path)
    assert vol.data.dtype == np.float32
    np.testing.assert_array_equal(vol.data, data.astype(np.float32))


def test_scaled_values_beyond_float32_are_refused(tmp_path: Path) -> None:
    img = nib.Nifti1Image(np.full((4, 4, 4), 1000, np.int16), np.eye(4))
    img.header.set_slope_inter(1e38, 0.0)
    path = tmp_path / "scaled.nii"
    nib.save(img, str(path))
    with pytest.raises(InvalidInput, match="infinite"):
        load_volume(path)
    big = tmp_path / "big.nii"
    nib.save(nib.Nifti1Image(np.full((4, 4, 4), 1e300), np.eye(4)), str(big))
    with pytest.raises(InvalidInput, match="infinite"):
        load_volume(big)


def _peak_bytes(fn: object) -> tuple[object, int]:
    tracemalloc.start()
    try:
        result = fn()  # type: ignore[operator]
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return result, peak


@pytest.mark.parametrize("affine", [np.diag([0.8, 0.8, 2.0, 1.0]), LPS], ids=["RAS", "LPS"])
def test_a_float64_volume_is_read_in_bounded_memory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, affine: np.ndarray
) -> None:
    shape = (128, 128, 96)  # 12 MiB as float64, 6 MiB as float32
    path = tmp_path / "f64.nii.gz"
    nib.save(nib.Nifti1Image(np.ones(shape), affine), str(path))
    monkeypatch.setattr(nifti_io, "SLAB_BYTES", 512 * 1024)
    monkeypatch.setattr(volume, "_FLIP_CHUNK_BYTES", 512 * 1024)
    vol, peak = _peak_bytes(lambda: load_volume(path))
    output = int(np.prod(shape)) * 4
    assert vol.orientation == "RAS"  # type: ignore[attr-defined]
    # The float32 result plus about one slab: no float64 copy, no second float32 copy.
    assert peak < output + 3 * 1024 * 1024, (peak, output)


def test_a_segmentation_is_read_as_uint16_in_bounded_memory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    shape = (128, 128, 96)
    ct = tmp_path / "ct.nii.gz"
    nib.save(nib.Nifti1Image(np.zeros(shape, np.int16), LPS), str(ct))
    labels = np.zeros(shape, np.float64)
    labels[10:20, 10:20, 10:20] = 3
    seg = tmp_path / "seg.nii.gz"
    nib.save(nib.Nifti1Image(labels, LPS), str(seg))
    monkeypatch.setattr(nifti_io, "SLAB_BYTES", 512 * 1024)
    monkeypatch.setattr(volume, "_FLIP_CHUNK_BYTES", 512 * 1024)
    ct_volume = load_volume(ct)
    labelmap, peak = _peak_bytes(lambda: load_labelmap(seg, ct_volume, VolumeLimits()))
    assert labelmap.dtype == np.uint8 and int(labelmap.max()) == 3  # type: ignore[attr-defined]
    voxels = int(np.prod(shape))
    assert peak < 3 * voxels + 3 * 1024 * 1024, (peak, voxels)  # uint16 read + uint8 result


def test_a_segmentation_on_another_grid_is_refused_before_its_voxels_are_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ct = tmp_path / "ct.nii.gz"
    nib.save(nib.Nifti1Image(np.zeros((16, 16, 8), np.int16), np.eye(4)), str(ct))
    seg = tmp_path / "seg.nii.gz"
    nib.save(nib.Nifti1Image(np.zeros((16, 16, 9), np.uint8), np.eye(4)), str(seg))
    ct_volume = load_volume(ct)

    def no_reading(*args: object) -> None:
        raise AssertionError("voxels were read")

    monkeypatch.setattr(segmentation, "read_labels", no_reading)
    with pytest.raises(InvalidInput, match="does not match"):
        load_labelmap(seg, ct_volume, VolumeLimits())


def _encrypted_zip(path: Path, members: dict[str, bytes]) -> None:
    """A zip whose members are flagged encrypted (zipfile then needs a password to read them)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    raw = bytearray(buffer.getvalue())
    for signature, flag_at in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
        start = 0
        while (start := raw.find(signature, start)) >= 0:
            flags = struct.unpack_from("<H", raw, start + flag_at)[0]
            struct.pack_into("<H", raw, start + flag_at, flags | 1)
            start += 4
    path.write_bytes(bytes(raw))


def test_unreadable_zip_members_are_400(tmp_path: Path) -> None:
    series = tmp_path / "series.zip"
    _encrypted_zip(series, {"slice1.dcm": b"\x00" * 200})
    with pytest.raises(InvalidInput, match="cannot be read"):
        load_volume(series)
    ct = tmp_path / "ct.nii.gz"
    nib.save(nib.Nifti1Image(np.zeros((4, 4, 4), np.int16), np.eye(4)), str(ct))
    masks = tmp_path / "masks.zip"
    _encrypted_zip(masks, {"liver.nii.gz": b"\x1f\x8b" + b"\x00" * 100})
    with pytest.raises(InvalidInput, match="cannot be read"):
        list(iter_masks(masks, load_volume(ct), VolumeLimits()))


@needs_example
def test_a_dicom_series_over_the_decoded_cap_is_a_413(tmp_path: Path) -> None:
    path = tmp_path / "series.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for f in sorted((EXAMPLE / "example_ct_dicom").iterdir()):
            zf.writestr(f.name, f.read_bytes())
    # 20 slices of 512x512 16-bit pixels: 10 MiB of pixel data.
    with pytest.raises(PayloadTooLarge, match="decodes to 10485760 bytes"):
        load_volume(path, VolumeLimits(max_decoded_bytes=8 * 1024 * 1024))
    with pytest.raises(PayloadTooLarge, match="per-slice limit"):
        load_volume(path, VolumeLimits(max_member_bytes=100 * 1024))
    assert load_volume(path).shape == (512, 512, 20)


@needs_example
def test_a_multi_frame_dicom_is_refused_before_decoding(tmp_path: Path) -> None:
    f = sorted((EXAMPLE / "example_ct_dicom").iterdir())[0]
    ds = pydicom.dcmread(f)
    ds.NumberOfFrames = 3
    buffer = io.BytesIO()
    ds.save_as(buffer)
    path = tmp_path / "multi.zip"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("frame.dcm", buffer.getvalue())
    with pytest.raises(InvalidInput, match="multi-frame"):
        load_volume(path)


def test_the_decoded_cap_comes_from_the_server_config(tmp_path: Path) -> None:
    config = InferenceConfig.from_env({"CDSS_IMAGING_MAX_DECODED_BYTES": "1048576"})
    assert config.imaging_max_decoded_bytes == 1024 * 1024
    assert InferenceConfig().imaging_max_decoded_bytes == 1024**3
    app = create_app(
        InferenceConfig(
            engines=("imaging",),
            runtime_models_dir=tmp_path / "runtime",
            imaging_max_decoded_bytes=1024 * 1024,
        )
    )
    volume = io.BytesIO()
    nib.save(
        nib.Nifti1Image(np.zeros((64, 64, 64), np.float64), np.eye(4)), str(tmp_path / "v.nii.gz")
    )
    volume.write((tmp_path / "v.nii.gz").read_bytes())
    volume.seek(0)
    client: FlaskClient = app.test_client()
    response = client.post(
        "/api/v1/imaging/analyze",
        data={"volume": (volume, "v.nii.gz")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 413, response.data[:300]
    assert "decodes to" in response.get_json()["error"]


def test_an_over_long_or_odd_media_path_is_a_400(fake_client: FlaskClient) -> None:
    field = "volume_path"
    for raw in ("a" * 5000, "x/" * 2000 + "ct.nii.gz", "a" * 300 + "/ct.nii.gz", "ct\udc00.nii"):
        body = {field: raw}
        response = fake_client.post(
            "/api/v1/imaging/analyze",
            data=json.dumps(body, ensure_ascii=True),
            content_type="application/json",
        )
        assert response.status_code == 400, (field, raw[:20], response.data[:200])
        assert response.get_json()["field"] in (field, "body")
