"""/ml/v1/history/: a patient-linked log follows the patient access rule (defect 11)."""

from __future__ import annotations

import pytest
from django.urls import reverse

from cdss.patients.services import patient_delete, patient_update
from cdss.patients.tests.factories import PatientFactory
from cdss.sequences.models import InferenceLog

pytestmark = pytest.mark.django_db

HISTORY = reverse("ml-history")


def _log(user, patient=None, name=""):
    return InferenceLog.objects.create(
        user=user,
        patient=patient,
        patient_name=name,
        input_data={"sequence": "MKV"},
        kind="single",
        input_hash="0" * 64,
        latency_ms=1.0,
        outcome="ok",
        http_status=200,
    )


def _shown(client) -> set[int]:
    response = client.get(HISTORY)
    assert response.status_code == 200
    return {row["id"] for row in response.json()["results"]}


def test_linked_rows_leave_with_the_care_team(make_client, clinician_a, clinician_b, admin_user):
    patient = PatientFactory(care_team=[clinician_a, clinician_b])
    linked = _log(clinician_a, patient, "Hong")
    unlinked = _log(clinician_a)
    client = make_client(clinician_a)
    assert _shown(client) == {linked.pk, unlinked.pk}
    assert _shown(make_client(clinician_b)) == {linked.pk}

    patient_update(user=admin_user, patient=patient, data={"care_team": [clinician_b.pk]})
    assert _shown(client) == {unlinked.pk}
    assert _shown(make_client(clinician_b)) == {linked.pk}


def test_linked_rows_leave_when_the_patient_is_deleted(make_client, clinician_a, admin_user):
    patient = PatientFactory(care_team=[clinician_a])
    _log(clinician_a, patient, "Hong")
    unlinked = _log(clinician_a)
    patient_delete(user=admin_user, patient=patient)
    assert _shown(make_client(clinician_a)) == {unlinked.pk}
    assert _shown(make_client(admin_user)) == {unlinked.pk}
