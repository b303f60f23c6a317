"""The CT analysis end to end: upload, analysis on a real inference server, every artifact."""

from __future__ import annotations

import gzip
import io
import json
import zipfile
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from cdss.files.tests.builders import nifti_gz
from cdss.files.tests.factories import patient_file_of
from cdss.jobs.models import Analysis
from cdss.jobs.services import analysis_execute
from cdss.patients.tests.factories import PatientFactory

pytestmark = pytest.mark.django_db

PNG = b"\x89PNG\r\n\x1a\n"
ARTIFACTS = {"slices.png", "segmentation.nii.gz", "mesh.json", "volume.nii.gz", "result.json"}


def _upload(client, patient, data: bytes, name: str, role: str) -> int:
    response = client.post(
        reverse("patient-file-list", kwargs={"patient_id": patient.pk}),
        {"file": SimpleUploadedFile(name, data), "role": role},
        format="multipart",
    )
    assert response.status_code == 201, response.content
    return int(response.json()["id"])


def _complete(client, patient, inputs: dict) -> tuple[dict, dict[str, bytes]]:
    submitted = client.post(
        "/api/v1/analyses/", {"kind": "ct", "patient": patient.pk, "inputs": inputs}, format="json"
    )
    assert submitted.status_code == 202, submitted.content
    analysis_id = submitted.json()["id"]
    analysis_execute(analysis_id=analysis_id)  # what a worker does
    analysis = Analysis.objects.get(pk=analysis_id)
    assert analysis.status == "COMPLETED", (analysis.error_code, analysis.error_message)
    result = client.get(f"/api/v1/analyses/{analysis_id}/result/").json()
    listed = client.get(f"/api/v1/analyses/{analysis_id}/artifacts/").json()["results"]
    artifacts = {}
    for artifact in listed:
        download = client.get(artifact["url"])
        assert download.status_code == 200
        artifacts[artifact["name"]] = b"".join(download.streaming_content)
    return result, artifacts


def _by_name(rows: list[dict]) -> dict[str, dict]:
    return {row["name"]: row for row in rows}


def test_the_example_ct_alone_gives_findings_and_every_artifact(
    make_client, clinician_a, use_imaging_server, example_dir
):
    client = make_client(clinician_a)
    patient = PatientFactory(care_team=[clinician_a])
    volume = _upload(
        client, patient, (example_dir / "example_ct.nii.gz").read_bytes(), "ct.nii.gz", "ct_volume"
    )
    result, artifacts = _complete(client, patient, {"volume_file": volume})

    assert set(artifacts) == ARTIFACTS
    assert artifacts["slices.png"].startswith(PNG)
    assert json.loads(artifacts["result.json"]) == result
    mesh = json.loads(artifacts["mesh.json"])
    assert len(artifacts["mesh.json"]) < 2_000_000
    assert {trace["name"] for trace in mesh["data"]} >= {"lung", "bone", "liver"}
    assert gzip.decompress(artifacts["segmentation.nii.gz"])[:4] in (
        (348).to_bytes(4, "little"),
        (348).to_bytes(4, "big"),
    )
    # Nothing of the work folder is left behind.
    assert not any((use_imaging_server / "work").iterdir())

    own = _by_name(result["structures"])
    assert {"lung", "bone", "liver"} <= set(own)
    assert 800 < own["liver"]["volume_ml"] < 3000
    assert result["liver"]["status"] == "segmented"
    assert result["liver"]["volume_ml"] == pytest.approx(own["liver"]["volume_ml"], rel=0.02)
    assert result["adrenal"] == []
    codes = {f["code"] for f in result["findings"]}
    assert {"lung_volume", "liver_volume", "liver_lesions", "fat_at_l3", "muscle"} <= codes
    for finding in result["findings"]:
        for value in finding["values"].values():
            digits = f"{value:,.0f}" if value >= 10 else f"{value:g}"
            assert digits.split(".")[0] in finding["text"], (finding, value)
    roles = {m["role"] for m in result["models"]}
    assert {"body composition", "liver and liver lesions"} <= roles
    assert all(m["version"] for m in result["models"])
    assert "not a medical device" in result["disclaimer"].lower()
    assert result["volume"]["shape"] == [122, 101, 112]
    assert result["volume"]["source_format"] == "nifti"


def test_with_its_segmentation_the_adrenal_glands_are_classified(
    make_client, clinician_a, use_imaging_server, example_dir
):
    client = make_client(clinician_a)
    patient = PatientFactory(care_team=[clinician_a])
    volume = _upload(
        client,
        patient,
        (example_dir / "example_ct_sm.nii.gz").read_bytes(),
        "sm.nii.gz",
        "ct_volume",
    )
    seg = _upload(
        client,
        patient,
        (example_dir / "example_seg_fast.nii.gz").read_bytes(),
        "seg.nii.gz",
        "segmentation",
    )
    result, artifacts = _complete(
        client, patient, {"volume_file": volume, "segmentation_file": seg}
    )
    assert set(artifacts) == ARTIFACTS
    uploaded = {r["name"]: r for r in result["structures"] if r["source"] == "segmentation"}
    assert {"liver", "spleen", "adrenal_gland_left", "adrenal_gland_right"} <= set(uploaded)
    assert {f["structure"] for f in result["adrenal"]} == {
        "adrenal_gland_left",
        "adrenal_gland_right",
    }
    assert any(m["role"] == "adrenal mass" for m in result["models"])


def _dicom_zip(folder: Path) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        for path in sorted(folder.iterdir()):
            zf.write(path, f"series/{path.name}")
    return buffer.getvalue()


def test_a_zipped_dicom_series_through_the_seed_route(
    make_client, clinician_a, use_imaging_server, example_dir
):
    client = make_client(clinician_a)
    patient = PatientFactory(care_team=[clinician_a])
    response = client.post(
        "/api/v1/diagnosis/requests/",
        {
            "patient": patient.pk,
            "kind": "ct",
            "volume_file": SimpleUploadedFile(
                "series.zip", _dicom_zip(example_dir / "example_ct_dicom")
            ),
        },
        format="multipart",
    )
    assert response.status_code == 202, response.content
    analysis_id = response.json()["id"]
    analysis_execute(analysis_id=analysis_id)
    analysis = Analysis.objects.get(pk=analysis_id)
    assert analysis.status == "COMPLETED", (analysis.error_code, analysis.error_message)
    volume = client.get(f"/api/v1/analyses/{analysis_id}/result/").json()["volume"]
    assert volume["source_format"] == "dicom_zip"
    assert volume["slices"] == 20
    assert volume["series_description"] == "CT Body 3.0"
    assert volume["shape"] == [512, 512, 20]


def _stored(patient, owner, role: str):
    name = "seg.nii.gz" if role == "segmentation" else "ct.nii.gz"
    return patient_file_of(patient, owner, nifti_gz(), role=role, name=name)


def test_another_clinicians_files_are_the_same_400_as_missing_ones(
    make_client, clinician_a, clinician_b, media_root
):
    client = make_client(clinician_a)
    mine = PatientFactory(care_team=[clinician_a])
    theirs = PatientFactory(care_team=[clinician_b])
    their_volume = _stored(theirs, clinician_b, "ct_volume")
    answers = [
        client.post(
            "/api/v1/analyses/",
            {"kind": "ct", "patient": mine.pk, "inputs": {"volume_file": file_id}},
            format="json",
        )
        for file_id in (their_volume.pk, 987654)
    ]
    assert [a.status_code for a in answers] == [400, 400]
    assert answers[0].json() == answers[1].json()


def test_a_segmentation_of_another_patient_is_refused(make_client, clinician_a, media_root):
    client = make_client(clinician_a)
    first = PatientFactory(care_team=[clinician_a])
    second = PatientFactory(care_team=[clinician_a])
    volume = _stored(first, clinician_a, "ct_volume")
    seg = _stored(second, clinician_a, "segmentation")
    response = client.post(
        "/api/v1/analyses/",
        {
            "kind": "ct",
            "patient": first.pk,
            "inputs": {"volume_file": volume.pk, "segmentation_file": seg.pk},
        },
        format="json",
    )
    assert response.status_code == 400
    assert "segmentation_file" in json.dumps(response.json())
