"""The omics analyses end to end: template, upload, analysis, artifacts (real inference server)."""

from __future__ import annotations

import csv
import io
import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from cdss.jobs.models import Analysis
from cdss.jobs.services import analysis_execute
from cdss.patients.tests.factories import PatientFactory

pytestmark = pytest.mark.django_db

PNG = b"\x89PNG\r\n\x1a\n"


def _template(client, model: str) -> str:
    response = client.get(f"/api/v1/omics/templates/{model}.csv")
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    return response.content.decode()


def _upload(client, patient, table: str, name: str = "sample.csv") -> int:
    response = client.post(
        reverse("patient-file-list", kwargs={"patient_id": patient.pk}),
        {"file": SimpleUploadedFile(name, table.encode()), "role": "omics_table"},
        format="multipart",
    )
    assert response.status_code == 201, response.content
    return int(response.json()["id"])


def _submit(client, kind: str, patient, file_id: int):
    return client.post(
        "/api/v1/analyses/",
        {"kind": kind, "patient": patient.pk, "inputs": {"table_file": file_id}},
        format="json",
    )


def _complete(client, kind: str, patient, file_id: int) -> tuple[dict, dict[str, bytes]]:
    submitted = _submit(client, kind, patient, file_id)
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


def test_rosmap_from_the_template_to_the_figures(make_client, clinician_a, use_omics_server):
    client = make_client(clinician_a)
    patient = PatientFactory(care_team=[clinician_a])
    file_id = _upload(client, patient, _template(client, "rosmap"))
    result, artifacts = _complete(client, "omics_rosmap", patient, file_id)
    assert result["predicted_class"] in {"AD", "NC"}
    assert result["probability"] == result["probabilities"][result["predicted_class"]]
    assert 0.5 <= result["probability"] <= 1.0
    assert len(result["top_features"]) == 20
    assert result["missing_layer"] is False and result["model_version"]
    assert "not a medical device" in result["disclaimer"].lower()
    assert set(artifacts) == {"features.png"}
    assert artifacts["features.png"].startswith(PNG)


def test_paad_survival_with_its_curve(make_client, clinician_a, use_omics_server):
    client = make_client(clinician_a)
    patient = PatientFactory(care_team=[clinician_a])
    file_id = _upload(client, patient, _template(client, "tcga_paad"))
    result, artifacts = _complete(client, "omics_paad_survival", patient, file_id)
    assert result["risk_group"] in {"high", "low"}
    assert 0.0 <= result["risk_percentile"] <= 1.0
    assert "C-index" in result["evidence"]
    assert set(artifacts) == {"features.png", "survival.png", "survival.json"}
    assert artifacts["survival.png"].startswith(PNG)
    survival = json.loads(artifacts["survival.json"])
    assert survival["risk_group"] == result["risk_group"]
    first, *rest = survival["points"]
    assert (first["day"], first["survival"]) == (0.0, 1.0)
    for point in rest:
        assert point["lower"] <= point["survival"] <= point["upper"]
    assert survival["at_risk"][0][0] == 0.0


def test_a_missing_layer_is_flagged(make_client, clinician_a, use_omics_server):
    client = make_client(clinician_a)
    patient = PatientFactory(care_team=[clinician_a])
    rows = list(csv.reader(io.StringIO(_template(client, "rosmap"))))
    keep = [i for i, name in enumerate(rows[0]) if not name.startswith("mirna:")]
    table = "\n".join(",".join(row[i] for i in keep) for row in rows) + "\n"
    result, _ = _complete(client, "omics_rosmap", patient, _upload(client, patient, table))
    assert result["missing_layer"] is True and result["missing_layers"] == ["mirna"]
    assert result["confidence"] == "low"


def test_someone_elses_table_is_the_same_400_as_a_missing_one(
    make_client, clinician_a, clinician_b, use_omics_server
):
    theirs = PatientFactory(care_team=[clinician_a])
    file_id = _upload(make_client(clinician_a), theirs, "id,mrna:X\ns,1\n")
    mine = PatientFactory(care_team=[clinician_b])
    other = make_client(clinician_b)
    refused = _submit(other, "omics_rosmap", mine, file_id)
    missing = _submit(other, "omics_rosmap", mine, 987654321)
    assert refused.status_code == missing.status_code == 400
    assert refused.json() == missing.json()
    assert "table_file" in refused.json()["error"]


def test_a_table_of_several_patients_is_refused(make_client, clinician_a, use_omics_server):
    client = make_client(clinician_a)
    patient = PatientFactory(care_team=[clinician_a])
    file_id = _upload(client, patient, "id,mrna:X\na,1\nb,2\n")
    refused = _submit(client, "omics_rosmap", patient, file_id)
    assert refused.status_code == 400 and "one patient's sample row" in refused.json()["error"]


def test_an_absurd_value_fails_the_analysis_naming_it(make_client, clinician_a, use_omics_server):
    client = make_client(clinician_a)
    patient = PatientFactory(care_team=[clinician_a])
    rows = list(csv.reader(io.StringIO(_template(client, "rosmap"))))
    rows[1][1] = "1e300"
    table = "\n".join(",".join(row) for row in rows) + "\n"
    submitted = _submit(client, "omics_rosmap", patient, _upload(client, patient, table))
    analysis_execute(analysis_id=submitted.json()["id"])
    analysis = Analysis.objects.get(pk=submitted.json()["id"])
    assert (analysis.status, analysis.error_code) == ("FAILED", "invalid_input")
    assert rows[0][1] in analysis.error_message


def test_templates_of_unknown_models_are_404(make_client, clinician_a):
    assert make_client(clinician_a).get("/api/v1/omics/templates/nope.csv").status_code == 404
    assert make_client(None).get("/api/v1/omics/templates/rosmap.csv").status_code == 401
