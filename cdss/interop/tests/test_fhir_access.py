"""The access rule on FHIR: the inherited cross-clinician contract for every route that names a
patient's resource, searches that treat someone else's patient exactly like a missing one, and
AuditEvent for administrators only."""

from __future__ import annotations

from typing import Any

import pytest
from fhir.resources.R4B.auditevent import AuditEvent

from cdss.audit.models import AccessEvent, Outcome
from cdss.common.testing import PatientScopedRouteContract
from cdss.interop.tests.fhir_fixtures import (
    completed_ct,
    completed_paad,
    completed_sequences,
    ct_volume,
)
from cdss.patients.tests.factories import PatientFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _own_media_root(media_root):
    return media_root


class TestFhirPatientRoute(PatientScopedRouteContract):
    route_name = "fhir-patient"

    def url_kwargs(self, patient, owner):
        return {"resource_id": str(patient.pk)}


class TestFhirPatientEverythingRoute(PatientScopedRouteContract):
    route_name = "fhir-patient-everything"

    def url_kwargs(self, patient, owner):
        completed_sequences(patient, owner, chained=False)
        return {"resource_id": str(patient.pk)}


class TestFhirDiagnosticReportRoute(PatientScopedRouteContract):
    route_name = "fhir-diagnosticreport"

    def url_kwargs(self, patient, owner):
        return {"resource_id": f"a{completed_paad(patient, owner, chained=False).pk}"}


class TestFhirObservationRoute(PatientScopedRouteContract):
    route_name = "fhir-observation"

    def url_kwargs(self, patient, owner):
        analysis = completed_ct(patient, owner, chained=False)
        return {"resource_id": f"a{analysis.pk}-organ-volumes"}


class TestFhirRiskAssessmentRoute(PatientScopedRouteContract):
    route_name = "fhir-riskassessment"

    def url_kwargs(self, patient, owner):
        return {"resource_id": f"a{completed_paad(patient, owner, chained=False).pk}-paad-risk"}


class TestFhirDocumentReferenceRoute(PatientScopedRouteContract):
    route_name = "fhir-documentreference"

    def url_kwargs(self, patient, owner):
        return {"resource_id": f"f{ct_volume(patient, owner).pk}"}


def test_ids_that_look_alike_are_the_same_404(make_client, clinician_a, clinician_b):
    patient = PatientFactory(care_team=[clinician_a])
    analysis = completed_sequences(patient, clinician_a, chained=False)
    other = make_client(clinician_b)
    expected = other.get("/fhir/r4/Observation/a987654321-seq-0")
    assert expected.status_code == 404
    for path in (
        f"Observation/a{analysis.pk}-seq-0",  # someone else's finding
        f"Observation/a{analysis.pk}-seq-7",  # someone else's analysis, no such finding
        "Observation/a99999999999999999999-seq-0",  # past a database id
        "Observation/seq-0",  # not an id at all
        f"RiskAssessment/a{analysis.pk}-seq-0-pathogen",
        f"DiagnosticReport/a{analysis.pk}",
    ):
        response = other.get(f"/fhir/r4/{path}")
        assert (response.status_code, response.json()) == (404, expected.json()), path
        assert response["Content-Type"] == expected["Content-Type"]


SEARCHES = ["DiagnosticReport", "Observation", "RiskAssessment", "DocumentReference"]


@pytest.mark.parametrize("resource_type", SEARCHES)
def test_search_for_someone_elses_patient_is_a_search_for_a_missing_one(
    resource_type, make_client, clinician_a, clinician_b
):
    patient = PatientFactory(care_team=[clinician_a])
    completed_ct(patient, clinician_a, chained=False)
    completed_paad(patient, clinician_a, chained=False)
    owner, other = make_client(clinician_a), make_client(clinician_b)

    def search(client: Any, patient_id: int) -> tuple[int, dict[str, Any], str]:
        response = client.get(f"/fhir/r4/{resource_type}", {"patient": patient_id})
        body = response.json()
        link = body.pop("link")
        assert link == [{"relation": "self", "url": response.wsgi_request.build_absolute_uri()}]
        return response.status_code, body, response["Content-Type"]

    own = search(owner, patient.pk)
    assert own[0] == 200 and own[1]["total"] > 0
    before = AccessEvent.objects.count()
    theirs = search(other, patient.pk)
    missing = search(other, 987_654_321)
    assert theirs == missing
    assert theirs[:2] == (200, {"resourceType": "Bundle", "type": "searchset", "total": 0})
    # Both refusals are recorded, the one that exists as denied, with its patient.
    refused = list(AccessEvent.objects.order_by("id"))[before:]
    assert [(e.outcome, e.patient_id) for e in refused] == [
        (Outcome.DENIED, patient.pk),
        (Outcome.NOT_FOUND, None),
    ]


def test_search_by_another_patient_id_form_is_still_scoped(make_client, clinician_a, clinician_b):
    patient = PatientFactory(care_team=[clinician_a])
    completed_paad(patient, clinician_a, chained=False)
    ours = f"http://testserver/fhir/r4/Patient/{patient.pk}"
    forms = (str(patient.pk), f"Patient/{patient.pk}", ours)
    for value in forms:
        body = make_client(clinician_b).get("/fhir/r4/Observation", {"subject": value}).json()
        assert body["total"] == 0, value
        body = make_client(clinician_a).get("/fhir/r4/Observation", {"subject": value}).json()
        assert body["total"] == 1, value
    # Another server's Patient/<same id> is another patient.
    elsewhere = f"http://elsewhere.example/fhir/Patient/{patient.pk}"
    body = make_client(clinician_a).get("/fhir/r4/Observation", {"patient": elsewhere}).json()
    assert body["total"] == 0


def test_everything_of_someone_elses_patient_leaks_nothing(make_client, clinician_a, clinician_b):
    mine = PatientFactory(care_team=[clinician_b])
    theirs = PatientFactory(care_team=[clinician_a])
    completed_paad(theirs, clinician_a, chained=False)
    body = make_client(clinician_b).get(f"/fhir/r4/Patient/{mine.pk}/$everything").json()
    assert [e["resource"]["resourceType"] for e in body["entry"]] == ["Patient"]


def test_audit_events_are_for_administrators_only(make_client, clinician_a, admin_user):
    patient = PatientFactory(care_team=[clinician_a])
    make_client(clinician_a).get(f"/fhir/r4/Patient/{patient.pk}")
    refused = make_client(clinician_a).get("/fhir/r4/AuditEvent")
    assert refused.status_code == 403
    assert refused["Content-Type"].startswith("application/fhir+json")
    assert refused.json()["issue"][0]["code"] == "forbidden"
    denial = AccessEvent.objects.order_by("-id").first()
    assert (denial.action, denial.outcome, denial.user_id) == (
        "access.denied",
        Outcome.DENIED,
        clinician_a.pk,
    )
    assert make_client(clinician_a).get(f"/fhir/r4/AuditEvent/{denial.pk}").status_code == 403

    admin = make_client(admin_user)
    body = admin.get("/fhir/r4/AuditEvent", {"patient": patient.pk, "_count": 10}).json()
    assert body["total"] >= 1
    read = next(
        e["resource"]
        for e in body["entry"]
        if e["resource"]["subtype"][0]["code"] == "fhir.patient.read"
    )
    assert AuditEvent.model_validate(read).model_dump(mode="json", exclude_none=True) == read
    assert read["action"] == "R" and read["outcome"] == "0"
    assert read["agent"][0]["who"]["identifier"]["value"] == str(clinician_a.pk)
    assert read["entity"][0]["what"] == {"reference": f"Patient/{patient.pk}"}
    one = admin.get(f"/fhir/r4/AuditEvent/{read['id']}").json()
    assert one == read
    assert admin.get("/fhir/r4/AuditEvent", {"_count": 0}).status_code == 400
    # Reading the trail is itself recorded, with the patient whose history was shown.
    assert AccessEvent.objects.filter(
        action="audit.list", user_id=admin_user.pk, patient_id=patient.pk
    ).exists()
