from __future__ import annotations

import pytest
from django.urls import reverse

from cdss.audit.models import AccessEvent, AppendOnlyError
from cdss.patients.tests.factories import PatientFactory

pytestmark = pytest.mark.django_db


def _events(**filters):
    return list(AccessEvent.objects.filter(**filters))


def test_read_writes_exactly_one_event(make_client, clinician_a):
    patient = PatientFactory(care_team=[clinician_a])
    before = AccessEvent.objects.count()
    url = reverse("patient-detail", kwargs={"patient_id": patient.pk})
    response = make_client(clinician_a).get(
        url, HTTP_X_REQUEST_ID="req-123", HTTP_USER_AGENT="pytest-ua"
    )
    assert AccessEvent.objects.count() == before + 1
    event = AccessEvent.objects.first()
    assert event is not None
    assert (event.action, event.outcome, event.patient_id, event.user_id) == (
        "patient.read",
        "ok",
        patient.pk,
        clinician_a.pk,
    )
    # The client's own X-Request-ID is not believed (it is not a trusted proxy).
    assert (event.request_id, event.user_agent, event.ip) == (
        response["X-Request-ID"],
        "pytest-ua",
        "127.0.0.1",
    )
    assert event.request_id != "req-123"
    assert event.object_type == "patient" and event.object_id == str(patient.pk)


@pytest.mark.parametrize(
    ("method", "body", "action"),
    [("patch", {"notes": "n"}, "patient.update"), ("put", None, "patient.update")],
)
def test_change_writes_exactly_one_event(make_client, clinician_a, method, body, action):
    patient = PatientFactory(care_team=[clinician_a])
    body = body or {"mrn": patient.mrn, "name": "New"}
    before = AccessEvent.objects.count()
    url = reverse("patient-detail", kwargs={"patient_id": patient.pk})
    response = getattr(make_client(clinician_a), method)(url, body, format="json")
    assert response.status_code == 200
    assert AccessEvent.objects.count() == before + 1
    assert _events(action=action, patient_id=patient.pk, outcome="ok")


def test_create_writes_one_event(make_client, clinician_a):
    response = make_client(clinician_a).post(
        reverse("patient-list"), {"mrn": "E1", "name": "X"}, format="json"
    )
    assert len(_events(action="patient.create", patient_id=response.json()["id"])) == 1
    assert AccessEvent.objects.count() == 1


def test_list_writes_one_event_per_patient_shown(make_client, clinician_a):
    patients = PatientFactory.create_batch(3, care_team=[clinician_a])
    make_client(clinician_a).get(reverse("patient-list"))
    events = _events(action="patient.list")
    assert sorted(e.patient_id for e in events) == sorted(p.pk for p in patients)


def test_denied_access_writes_one_denied_event(make_client, clinician_a, clinician_b):
    patient = PatientFactory(care_team=[clinician_a])
    url = reverse("patient-detail", kwargs={"patient_id": patient.pk})
    make_client(clinician_b).get(url)
    events = _events(patient_id=patient.pk)
    assert len(events) == 1
    assert (events[0].outcome, events[0].user_id) == ("denied", clinician_b.pk)


def test_missing_patient_is_recorded_as_not_found(make_client, clinician_b):
    make_client(clinician_b).get(reverse("patient-detail", kwargs={"patient_id": 424242}))
    events = _events(outcome="not_found")
    assert len(events) == 1 and events[0].object_id == "424242" and events[0].patient_id is None


def test_events_cannot_be_updated_or_deleted(make_client, clinician_a):
    patient = PatientFactory(care_team=[clinician_a])
    make_client(clinician_a).get(reverse("patient-detail", kwargs={"patient_id": patient.pk}))
    event = AccessEvent.objects.get()
    event.outcome = "denied"
    with pytest.raises(AppendOnlyError):
        event.save()
    with pytest.raises(AppendOnlyError):
        event.delete()
    with pytest.raises(AppendOnlyError):
        AccessEvent.objects.filter(pk=event.pk).update(outcome="denied")
    with pytest.raises(AppendOnlyError):
        AccessEvent.objects.all().delete()
    assert AccessEvent.objects.get().outcome == "ok"


def test_audit_api_is_admin_only_and_filters(make_client, clinician_a, clinician_b, admin_user):
    p1 = PatientFactory(care_team=[clinician_a])
    p2 = PatientFactory(care_team=[clinician_b])
    make_client(clinician_a).get(reverse("patient-detail", kwargs={"patient_id": p1.pk}))
    make_client(clinician_b).get(reverse("patient-detail", kwargs={"patient_id": p2.pk}))
    url = reverse("audit-event-list")
    assert make_client(clinician_a).get(url).status_code == 403
    admin = make_client(admin_user)
    by_patient = admin.get(url, {"patient": p1.pk}).json()
    assert by_patient["count"] == 1 and by_patient["results"][0]["user_id"] == clinician_a.pk
    by_user = admin.get(url, {"user": clinician_b.pk}).json()
    assert {r["patient_id"] for r in by_user["results"]} == {p2.pk}
    future = admin.get(url, {"since": "2999-01-01T00:00:00Z"}).json()
    assert future["count"] == 0
    bad = admin.get(url, {"since": "yesterday"})
    assert bad.status_code == 400 and "since" in bad.json()["error"]
