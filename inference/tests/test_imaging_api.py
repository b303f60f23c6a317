"""``POST /api/v1/imaging/analyze`` on the real server factory with the committed imaging model."""

from __future__ import annotations

import dataclasses
import io
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from inference.app import create_app
from inference.config import REPO_ROOT, InferenceConfig
from inference.engines.base import DISCLAIMER

DATASETS = Path(os.environ.get("CDSS_DATASETS_DIR", REPO_ROOT.parent / "shared" / "datasets"))
EXAMPLE = DATASETS / "imaging" / "totalsegmentator_example_ct"
pytestmark = pytest.mark.skipif(
    not EXAMPLE.is_dir(), reason=f"example CT not found at {EXAMPLE} (set CDSS_DATASETS_DIR)"
)
URL = "/api/v1/imaging/analyze"


@pytest.fixture(scope="module")
def media(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("media")
    (root / "case1").mkdir()
    shutil.copy(EXAMPLE / "example_ct_sm.nii.gz", root / "case1" / "ct.nii.gz")
    shutil.copy(EXAMPLE / "example_seg.nii.gz", root / "case1" / "seg.nii.gz")
    return root


@pytest.fixture(scope="module")
def app(media: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    config = InferenceConfig(
        engines=("imaging",),
        runtime_models_dir=tmp_path_factory.mktemp("runtime"),
        media_root=media,
        imaging_bundles_dir=tmp_path_factory.mktemp("bundles"),
    )
    yield create_app(config)


@pytest.fixture()
def client(app: Flask) -> FlaskClient:
    return app.test_client()


def test_model_info_lists_the_imaging_engine(client: FlaskClient) -> None:
    info = client.get("/api/v1/model-info").get_json()
    imaging = info["engines"]["imaging"]
    assert imaging["loaded"] is True
    assert imaging["model_name"] == "cdss-imaging"
    current = (REPO_ROOT / "models" / "imaging" / "CURRENT").read_text().strip()
    assert imaging["model_version"] == current
    assert 0.5 < imaging["metrics"]["test_auc"] <= 1.0


def test_upload_volume_and_segmentation(client: FlaskClient) -> None:
    data = {
        "volume": (io.BytesIO((EXAMPLE / "example_ct_sm.nii.gz").read_bytes()), "ct.nii.gz"),
        "segmentation": (io.BytesIO((EXAMPLE / "example_seg.nii.gz").read_bytes()), "seg.bin"),
    }
    resp = client.post(URL, data=data, content_type="multipart/form-data")
    assert resp.status_code == 200, resp.get_json()
    body = resp.get_json()
    assert body["disclaimer"] == DISCLAIMER
    assert body["model_name"] == "cdss-imaging" and body["model_version"]
    assert body["volume"]["shape"] == [122, 101, 30]
    assert body["volume"]["orientation"] == "RAS"
    names = {s["name"]: s for s in body["structures"]}
    assert {"liver", "spleen", "adrenal_gland_left", "adrenal_gland_right"} <= set(names)
    glands = {f["structure"]: f for f in body["findings"]}
    assert set(glands) == {"adrenal_gland_left", "adrenal_gland_right"}
    for f in glands.values():
        assert 0.0 <= f["probability"] <= 1.0
        assert f["label"] == ("mass" if f["probability"] >= f["threshold"] else "normal")


def test_json_paths_under_the_media_root(client: FlaskClient, media: Path) -> None:
    resp = client.post(
        URL, json={"volume_path": "case1/ct.nii.gz", "segmentation_path": "case1/seg.nii.gz"}
    )
    assert resp.status_code == 200, resp.get_json()
    assert len(resp.get_json()["findings"]) == 2
    absolute = client.post(URL, json={"volume_path": str(media / "case1" / "ct.nii.gz")})
    assert absolute.status_code == 200
    assert absolute.get_json()["findings"] == []


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"volume_path": "../../etc/passwd"}, "volume_path"),
        ({"volume_path": "/etc/hostname"}, "volume_path"),
        ({"volume_path": "case1/missing.nii.gz"}, "volume_path"),
        ({"volume_path": "case1"}, "volume_path"),
        ({"volume_path": 5}, "volume_path"),
        ({"segmentation_path": "case1/seg.nii.gz"}, "volume_path"),
        ({"volume_path": "case1/ct.nii.gz", "segmentation_path": "../x"}, "segmentation_path"),
        ({"volume_path": "case1/ct.nii.gz", "bundle": "../escape"}, "bundle"),
        ({"volume_path": "case1/ct.nii.gz", "bundle": "not_installed"}, "bundle"),
        ({"volume_path": "case1/ct.nii.gz", "extra": 1}, "extra"),
    ],
)
def test_bad_json_requests_are_400_naming_the_field(
    client: FlaskClient, body: dict[str, object], field: str
) -> None:
    resp = client.post(URL, json=body)
    assert resp.status_code == 400
    assert resp.get_json()["field"] == field
    assert resp.get_json()["error"].startswith(field)


def test_bad_uploads_are_400(client: FlaskClient) -> None:
    blob = (EXAMPLE / "example_ct_sm.nii.gz").read_bytes()
    truncated = {"volume": (io.BytesIO(blob[: len(blob) // 3]), "ct.nii.gz")}
    resp = client.post(URL, data=truncated, content_type="multipart/form-data")
    assert resp.status_code == 400
    assert resp.get_json()["field"] == "volume"
    assert "truncated" in resp.get_json()["error"]
    missing = client.post(URL, data={}, content_type="multipart/form-data")
    assert missing.status_code == 400 and missing.get_json()["field"] == "volume"
    empty = {"volume": (io.BytesIO(b""), "ct.nii.gz")}
    resp = client.post(URL, data=empty, content_type="multipart/form-data")
    assert resp.status_code == 400 and "empty" in resp.get_json()["error"]
    notjson = client.post(URL, data=b"{not json", content_type="application/json")
    assert notjson.status_code == 400


def test_segmentation_on_another_grid_is_400(client: FlaskClient) -> None:
    data = {
        "volume": (io.BytesIO((EXAMPLE / "example_ct.nii.gz").read_bytes()), "ct.nii.gz"),
        "segmentation": (io.BytesIO((EXAMPLE / "example_seg.nii.gz").read_bytes()), "s.nii.gz"),
    }
    resp = client.post(URL, data=data, content_type="multipart/form-data")
    assert resp.status_code == 400
    assert resp.get_json()["field"] == "segmentation"


def test_upload_over_the_imaging_limit_is_413(app: Flask) -> None:
    state = app.extensions["cdss"]
    small = create_app(
        dataclasses.replace(state.config, imaging_max_upload=1000), registry=state.registry
    )
    data = {"volume": (io.BytesIO(b"\x1f\x8b" + b"\x00" * 5000), "ct.nii.gz")}
    resp = small.test_client().post(URL, data=data, content_type="multipart/form-data")
    assert resp.status_code == 413
    assert "1000" in resp.get_json()["error"]


def test_upload_zipped_dicom_series(client: FlaskClient, tmp_path: Path) -> None:
    import zipfile

    path = tmp_path / "series.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for f in sorted((EXAMPLE / "example_ct_dicom").iterdir()):
            zf.write(f, f"series/{f.name}")
    data = {"volume": (io.BytesIO(path.read_bytes()), "upload")}
    resp = client.post(URL, data=data, content_type="multipart/form-data")
    assert resp.status_code == 200, resp.get_json()
    vol = resp.get_json()["volume"]
    assert vol["source_format"] == "dicom_zip"
    assert vol["shape"] == [512, 512, 20] and vol["orientation"] == "RAS"
    assert vol["hu_range"][0] >= -1024
