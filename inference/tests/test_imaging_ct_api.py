"""``POST /api/v1/imaging/ct`` on the real server factory: the CT analysis and its work folder."""

from __future__ import annotations

import gzip
import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import nibabel as nib
import numpy as np
import pytest
from flask import Flask
from flask.testing import FlaskClient
from jsonschema import Draft202012Validator

from inference.app import create_app
from inference.config import REPO_ROOT, InferenceConfig
from inference.engines.imaging.ct_labels import CT_LABELS

DATASETS = Path(os.environ.get("CDSS_DATASETS_DIR", REPO_ROOT.parent / "shared" / "datasets"))
EXAMPLE = DATASETS / "imaging" / "totalsegmentator_example_ct"
pytestmark = pytest.mark.skipif(
    not EXAMPLE.is_dir(), reason=f"example CT not found at {EXAMPLE} (set CDSS_DATASETS_DIR)"
)
URL = "/api/v1/imaging/ct"


@pytest.fixture(scope="module")
def media(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("media")
    (root / "case1").mkdir()
    (root / "work").mkdir()
    shutil.copy(EXAMPLE / "example_ct_sm.nii.gz", root / "case1" / "ct.nii.gz")
    shutil.copy(EXAMPLE / "example_seg_fast.nii.gz", root / "case1" / "seg.nii.gz")
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


def _work(media: Path, name: str) -> Path:
    folder = media / "work" / name
    folder.mkdir()
    return folder


def test_the_ct_analysis_writes_its_three_files(client: FlaskClient, media: Path) -> None:
    out = _work(media, "a1")
    response = client.post(
        URL,
        json={
            "volume_path": "case1/ct.nii.gz",
            "segmentation_path": "case1/seg.nii.gz",
            "output_dir": "work/a1",
        },
    )
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    listed = {a["name"]: a for a in body["artifacts"]}
    assert set(listed) == {"slices.png", "segmentation.nii.gz", "mesh.json", "volume.nii.gz"}
    for name, item in listed.items():
        assert (out / name).stat().st_size == item["bytes"] > 0
    assert (out / "slices.png").read_bytes().startswith(b"\x89PNG")
    assert json.loads((out / "mesh.json").read_text())["data"]
    assert gzip.decompress((out / "segmentation.nii.gz").read_bytes())
    # The viewer's background: the input's HU on exactly the label map's grid.
    labels = nib.load(str(out / "segmentation.nii.gz"))
    volume = nib.load(str(out / "volume.nii.gz"))
    assert volume.shape == labels.shape
    assert np.allclose(volume.affine, labels.affine)
    assert volume.get_data_dtype() == np.int16
    source = nib.as_closest_canonical(nib.load(str(media / "case1" / "ct.nii.gz")))
    assert np.array_equal(np.asarray(volume.dataobj), np.asarray(source.dataobj).astype(np.int16))
    assert [label["id"] for label in body["labels"]] == [label.id for label in CT_LABELS]
    assert {f["structure"] for f in body["adrenal"]} == {
        "adrenal_gland_left",
        "adrenal_gland_right",
    }
    names = {m["name"] for m in body["models"]}
    assert "cdss-ct-hu-rules" in names and "adrenal-shape-cnn" in names
    # The answer is what model-info publishes: exactly one branch of the engine's schema.
    schema = client.get("/api/v1/model-info").get_json()["engines"]["imaging"]["result_schema"]
    errors = list(Draft202012Validator(schema).iter_errors(body))
    assert not errors, [e.message[:300] for e in errors[:3]]


@pytest.mark.parametrize(
    ("output_dir", "message"),
    [
        ("case1", "work/ folder"),
        ("work", "work/ folder"),
        ("work/../case1", "work/ folder"),
        ("work/missing", "not found"),
        ("/etc", "under the media root"),
        ("case1/ct.nii.gz", "work/ folder"),
    ],
)
def test_the_output_folder_must_be_an_empty_folder_under_work(
    client: FlaskClient, media: Path, output_dir: str, message: str
) -> None:
    response = client.post(URL, json={"volume_path": "case1/ct.nii.gz", "output_dir": output_dir})
    assert response.status_code == 400
    body = response.get_json()
    assert body["field"] == "output_dir" and message in body["error"], body


def test_a_folder_that_is_not_empty_is_refused(client: FlaskClient, media: Path) -> None:
    out = _work(media, "full")
    (out / "x").write_text("kept")
    response = client.post(URL, json={"volume_path": "case1/ct.nii.gz", "output_dir": "work/full"})
    assert response.status_code == 400 and "empty" in response.get_json()["error"]
    assert (out / "x").read_text() == "kept"


def test_a_symlink_out_of_work_is_refused(client: FlaskClient, media: Path) -> None:
    (media / "work" / "link").symlink_to(media / "case1")
    response = client.post(URL, json={"volume_path": "case1/ct.nii.gz", "output_dir": "work/link"})
    assert response.status_code == 400 and response.get_json()["field"] == "output_dir"


def test_unknown_and_missing_fields_are_named(client: FlaskClient, media: Path) -> None:
    response = client.post(URL, json={"volume_path": "case1/ct.nii.gz"})
    assert response.status_code == 400 and response.get_json()["field"] == "output_dir"
    response = client.post(
        URL, json={"volume_path": "case1/ct.nii.gz", "output_dir": "work/x", "shell": "rm"}
    )
    assert response.status_code == 400 and response.get_json()["field"] == "shell"
