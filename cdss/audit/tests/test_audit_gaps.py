"""Accesses the audit trail used to miss: refusals (403), reads of the trail itself, a list
filtered by someone else's patient, and a duplicate MRN from outside the care team."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission
from django.test import Client
from django.urls import reverse

from cdss.audit.models import AccessEvent
from cdss.patients.tests.factories import PatientFactory

pytestmark = pytest.mark.django_db


def _new_events(before: int) -> list[AccessEvent]:
    return list(AccessEvent.objects.order_by("id")[before:])


@pytest.mark.parametrize(
    ("method", "url", "body"),
    [
        ("get", "/api/v1/audit/events/", None),
        ("post", "/ml/v1/retrain/", {"training_data_path": "/srv/data"}),
    ],
)
def test_a_403_is_audited_as_denied(make_client, clinician_a, method, url, body):
    before = AccessEvent.objects.count()
    client = make_client(clinician_a)
    response = getattr(client, method)(url, body, format="json") if body else client.get(url)
    assert response.status_code == 403
    (event,) = _new_events(before)
    assert (event.action, event.outcome, event.user_id) == (
        "access.denied",
        "denied",
        clinician_a.pk,
    )
    assert event.object_type == "route" and event.object_id.startswith(method.upper())


def test_a_403_from_a_service_is_audited(make_client, ml_engineer):
    before = AccessEvent.objects.count()
    response = make_client(ml_engineer).post(
        "/api/v1/patients/", {"mrn": "M-1", "name": "N"}, format="json"
    )
    assert response.status_code == 403
    (event,) = _new_events(before)
    assert (event.action, event.outcome, event.user_id) == (
        "access.denied",
        "denied",
        ml_engineer.pk,
    )


def test_reading_the_audit_trail_is_audited_per_patient_shown(make_client, admin_user, clinician_a):
    patient = PatientFactory(care_team=[clinician_a])
    make_client(clinician_a).get(reverse("patient-detail", kwargs={"patient_id": patient.pk}))
    before = AccessEvent.objects.count()
    response = make_client(admin_user).get(f"/api/v1/audit/events/?patient={patient.pk}")
    assert response.status_code == 200 and response.json()["count"] == 1
    (event,) = _new_events(before)
    assert (event.action, event.user_id, event.patient_id, event.outcome) == (
        "audit.list",
        admin_user.pk,
        patient.pk,
        "ok",
    )


def test_reading_the_audit_trail_in_the_django_admin_is_audited(admin_user, clinician_a):
    admin_user.is_superuser = True
    admin_user.save()
    patient = PatientFactory(care_team=[clinician_a])
    from cdss.audit.services import access_event_record

    seen = access_event_record(
        user=clinician_a, action="patient.read", outcome="ok", patient_id=patient.pk
    )
    client = Client()
    client.force_login(admin_user)
    before = AccessEvent.objects.count()
    assert client.get("/admin/audit/accessevent/").status_code == 200
    listed = _new_events(before)
    assert [(e.action, e.patient_id) for e in listed] == [("audit.list", patient.pk)]
    before = AccessEvent.objects.count()
    assert client.get(f"/admin/audit/accessevent/{seen.pk}/change/").status_code == 200
    (read,) = _new_events(before)
    assert (read.action, read.patient_id, read.object_id) == (
        "audit.read",
        patient.pk,
        str(seen.pk),
    )
    assert Permission.objects.exists()  # the admin's permission tables are in place


def test_listing_analyses_of_someone_elses_patient_is_a_denied_access(
    make_client, clinician_a, clinician_b
):
    theirs = PatientFactory(care_team=[clinician_a])
    before = AccessEvent.objects.count()
    response = make_client(clinician_b).get(f"/api/v1/analyses/?patient={theirs.pk}")
    missing = make_client(clinician_b).get("/api/v1/analyses/?patient=987654321")
    assert response.status_code == 200 and response.json()["results"] == []
    assert response.json() == missing.json()
    denied, not_found = _new_events(before)
    assert (denied.action, denied.outcome, denied.patient_id) == (
        "analysis.list",
        "denied",
        theirs.pk,
    )
    assert (not_found.outcome, not_found.patient_id) == ("not_found", None)
    assert not AccessEvent.objects.filter(pk__gt=before, action="analysis.list", outcome="ok")


def test_duplicate_mrn_from_outside_the_care_team_is_a_409_audited_as_denied(
    make_client, clinician_a, clinician_b
):
    theirs = PatientFactory(care_team=[clinician_a], mrn="MRN-DUP")
    before = AccessEvent.objects.count()
    response = make_client(clinician_b).post(
        "/api/v1/patients/", {"mrn": "MRN-DUP", "name": "Someone"}, format="json"
    )
    assert response.status_code == 409
    (event,) = _new_events(before)
    assert (event.action, event.outcome, event.patient_id, event.user_id) == (
        "patient.create",
        "denied",
        theirs.pk,
        clinician_b.pk,
    )
    # Renaming one's own patient to a taken MRN is the same 409 and the same audited denial.
    own = PatientFactory(care_team=[clinician_b])
    before = AccessEvent.objects.count()
    response = make_client(clinician_b).patch(
        reverse("patient-detail", kwargs={"patient_id": own.pk}), {"mrn": "MRN-DUP"}, format="json"
    )
    assert response.status_code == 409
    events = [(e.action, e.outcome, e.patient_id) for e in _new_events(before)]
    assert ("patient.update", "denied", theirs.pk) in events
