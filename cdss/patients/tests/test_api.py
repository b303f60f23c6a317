from __future__ import annotations

import pytest
from django.urls import reverse

from cdss.accounts.tests.factories import UserFactory
from cdss.patients.models import Patient
from cdss.patients.tests.factories import PatientFactory

pytestmark = pytest.mark.django_db

LIST = reverse("patient-list")


def test_create_adds_creator_to_care_team(make_client, clinician_a, clinician_b):
    body = {
        "mrn": "A-100",
        "name": "Lee",
        "birth_date": "1970-05-06",
        "sex": "female",
        "care_team": [clinician_b.pk],
    }
    response = make_client(clinician_a).post(LIST, body, format="json")
    assert response.status_code == 201, response.content
    data = response.json()
    assert data["care_team"] == sorted([clinician_a.pk, clinician_b.pk])
    assert Patient.objects.get(pk=data["id"]).created_by == clinician_a


def test_duplicate_mrn_is_409_and_names_field(make_client, clinician_a):
    PatientFactory(mrn="DUP1")
    response = make_client(clinician_a).post(LIST, {"mrn": "DUP1", "name": "X"}, format="json")
    assert response.status_code == 409
    assert "mrn" in response.json()["error"]
    assert Patient.objects.filter(mrn="DUP1").count() == 1


def test_care_team_must_be_clinicians(make_client, clinician_a, ml_engineer):
    response = make_client(clinician_a).post(
        LIST, {"mrn": "C1", "name": "X", "care_team": [ml_engineer.pk]}, format="json"
    )
    assert response.status_code == 400
    assert "care_team" in response.json()["error"]


def test_future_birth_date_is_refused(make_client, clinician_a):
    response = make_client(clinician_a).post(
        LIST, {"mrn": "F1", "name": "X", "birth_date": "2999-01-01"}, format="json"
    )
    assert response.status_code == 400
    assert "birth_date" in response.json()["error"]


def test_update_and_partial_update(make_client, clinician_a):
    patient = PatientFactory(care_team=[clinician_a])
    url = reverse("patient-detail", kwargs={"patient_id": patient.pk})
    client = make_client(clinician_a)
    assert client.patch(url, {"notes": "allergy: penicillin"}, format="json").status_code == 200
    put = client.put(url, {"mrn": patient.mrn, "name": "Renamed"}, format="json")
    assert put.status_code == 200
    patient.refresh_from_db()
    assert (patient.name, patient.notes) == ("Renamed", "allergy: penicillin")


def test_put_requires_all_required_fields(make_client, clinician_a):
    patient = PatientFactory(care_team=[clinician_a])
    url = reverse("patient-detail", kwargs={"patient_id": patient.pk})
    response = make_client(clinician_a).put(url, {"name": "Only name"}, format="json")
    assert response.status_code == 400
    assert "mrn" in response.json()["error"]


def test_list_is_paginated_and_searchable(make_client, clinician_a):
    for i in range(30):
        PatientFactory(name=f"Park {i}", mrn=f"P{i:03d}", care_team=[clinician_a])
    client = make_client(clinician_a)
    page1 = client.get(LIST).json()
    assert page1["count"] == 30 and len(page1["results"]) == 25 and page1["next"]
    assert client.get(LIST, {"page": 2}).json()["results"].__len__() == 5
    found = client.get(LIST, {"search": "P007"}).json()
    assert [p["mrn"] for p in found["results"]] == ["P007"]


def test_admin_can_register_with_a_care_team(make_client, admin_user):
    doctor = UserFactory(role="clinician")
    response = make_client(admin_user).post(
        LIST, {"mrn": "ADM1", "name": "X", "care_team": [doctor.pk]}, format="json"
    )
    assert response.status_code == 201
    assert response.json()["care_team"] == [doctor.pk]
