"""Seed 001's /api/v1/diagnosis/requests/: multipart in, 202, then status, result and artifacts."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from cdss.common.testing import PatientScopedRouteContract
from cdss.files.models import PatientFile
from cdss.jobs.services import analysis_execute
from cdss.jobs.tests.factories import AnalysisFactory
from cdss.patients.tests.factories import PatientFactory

pytestmark = pytest.mark.django_db

CREATE = "/api/v1/diagnosis/requests/"


class TestDiagnosisRequestRoute(PatientScopedRouteContract):
    route_name = "diagnosis-request-detail"

    def url_kwargs(self, patient, owner):
        analysis = AnalysisFactory(patient=patient, requested_by=owner, kind="pipeline_check")
        return {"request_id": analysis.pk}


def _table(client) -> bytes:
    return client.get("/api/v1/omics/templates/rosmap.csv").content


def test_the_seed_flow(make_client, clinician_a, use_omics_server):
    client = make_client(clinician_a)
    patient = PatientFactory(care_team=[clinician_a])
    response = client.post(
        CREATE,
        {
            "patient": patient.pk,
            "kind": "omics_rosmap",
            "table_file": SimpleUploadedFile("sample.csv", _table(client)),
        },
        format="multipart",
    )
    assert response.status_code == 202, response.content
    body = response.json()
    assert body["status"] == "PENDING" and response["Location"] == body["location"]
    assert PatientFile.objects.get(patient_id=patient.pk).role == "omics_table"
    pending = client.get(body["location"]).json()
    assert pending["status"] == "PENDING" and pending["result"] is None
    analysis_execute(analysis_id=body["id"])  # what a worker does
    done = client.get(body["location"]).json()
    assert done["status"] == "COMPLETED"
    assert done["result"]["predicted_class"] in {"AD", "NC"}
    assert [a["name"] for a in done["artifacts"]] == ["features.png"]
    assert client.get(done["artifacts"][0]["url"]).status_code == 200


@pytest.mark.parametrize(
    ("data", "named"),
    [
        ({"kind": "omics_rosmap"}, "table_file"),
        ({"kind": "nope"}, "kind"),
        ({"kind": "omics_rosmap", "volume_file": b"x"}, "volume_file"),
        ({"kind": "omics_rosmap", "table_file": b"not,a\n\xff\xfe"}, "file"),
    ],
)
def test_a_bad_request_is_a_400_and_queues_nothing(make_client, clinician_a, data, named):
    client = make_client(clinician_a)
    patient = PatientFactory(care_team=[clinician_a])
    files = {k: SimpleUploadedFile(f"{k}.bin", v) for k, v in data.items() if isinstance(v, bytes)}
    fields = {k: v for k, v in data.items() if not isinstance(v, bytes)}
    response = client.post(CREATE, {"patient": patient.pk, **fields, **files}, format="multipart")
    assert response.status_code == 400, response.content
    assert named in response.json()["error"]
    assert not client.get("/api/v1/analyses/").json()["results"]


def test_someone_elses_patient_is_the_same_400_as_a_missing_one(
    make_client, clinician_a, clinician_b
):
    theirs = PatientFactory(care_team=[clinician_a])
    other = make_client(clinician_b)

    def submit(patient_id: int):
        return other.post(
            CREATE,
            {
                "patient": patient_id,
                "kind": "omics_rosmap",
                "table_file": SimpleUploadedFile("t.csv", b"id,mrna:X\na,1\n"),
            },
            format="multipart",
        )

    refused, missing = submit(theirs.pk), submit(987654321)
    assert refused.status_code == missing.status_code == 400
    assert refused.json() == missing.json()
    assert not PatientFile.objects.exists()
