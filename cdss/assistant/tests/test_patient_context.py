"""A session linked to a patient answers from that patient's completed analyses, read through the
access rule and audited; once its owner leaves the care team the session is a 404."""

from __future__ import annotations

import pytest
from django.utils import timezone

from cdss.audit.models import AccessEvent
from cdss.jobs.models import AnalysisResult, Status
from cdss.jobs.tests.factories import AnalysisFactory
from cdss.patients.tests.factories import PatientFactory
from cdss.reports.tests.results import ROSMAP

pytestmark = pytest.mark.django_db
SESSIONS = "/api/v1/assistant/sessions/"


def _completed_rosmap(patient, owner):
    analysis = AnalysisFactory(
        patient=patient,
        requested_by=owner,
        kind="omics_rosmap",
        status=Status.COMPLETED,
        completed_at=timezone.now(),
        inputs={},
    )
    AnalysisResult.objects.create(analysis_id=analysis.pk, data=ROSMAP)
    return analysis


def test_the_patients_results_are_cited_and_their_reads_audited(make_client, clinician_a):
    patient = PatientFactory(care_team=[clinician_a])
    analysis = _completed_rosmap(patient, clinician_a)
    client = make_client(clinician_a)
    session = client.post(SESSIONS, {"patient": patient.pk}, format="json").json()
    body = client.post(
        f"{SESSIONS}{session['id']}/messages/",
        {"content": "What did the ROSMAP multi-omics model classify this sample as?"},
        format="json",
    ).json()
    first = body["citations"][0]
    assert first["analysis_id"] == analysis.pk
    assert first["document_id"] is None
    assert "Alzheimer" in body["content"]
    read = AccessEvent.objects.filter(action="assistant.patient_context")
    assert [(e.patient_id, e.object_id, e.user_id) for e in read] == [
        (patient.pk, str(analysis.pk), clinician_a.pk)
    ]
    assert AccessEvent.objects.filter(action="chat_message.create", patient_id=patient.pk).exists()
    client.get(f"{SESSIONS}{session['id']}/messages/")
    listed = AccessEvent.objects.filter(action="chat_message.list", patient_id=patient.pk)
    assert listed.count() == 2  # the question and the answer shown


def test_losing_the_patient_ends_the_session(make_client, clinician_a) -> None:
    patient = PatientFactory(care_team=[clinician_a])
    client = make_client(clinician_a)
    session = client.post(SESSIONS, {"patient": patient.pk}, format="json").json()
    url = f"{SESSIONS}{session['id']}/"
    assert client.get(url).status_code == 200
    patient.care_team.remove(clinician_a)
    assert client.get(url).status_code == 404
    asked = client.post(f"{url}messages/", {"content": "results?"}, format="json")
    assert asked.status_code == 404
    assert client.get(SESSIONS).json()["count"] == 0


def test_reaching_for_someone_elses_patient_session_is_a_denied_access(
    make_client, clinician_a, clinician_b
) -> None:
    patient = PatientFactory(care_team=[clinician_a, clinician_b])
    session = make_client(clinician_a).post(SESSIONS, {"patient": patient.pk}, format="json")
    url = f"{SESSIONS}{session.json()['id']}/"
    assert make_client(clinician_b).get(url).status_code == 404
    denied = AccessEvent.objects.get(outcome="denied", object_type="chat_session")
    assert (denied.action, denied.patient_id, denied.user_id) == (
        "chat_session.read",
        patient.pk,
        clinician_b.pk,
    )
    assert make_client(clinician_a).get(url).status_code == 200
    assert AccessEvent.objects.filter(
        action="chat_session.read", outcome="ok", user_id=clinician_a.pk
    ).exists()
