"""Who sees which file: the inherited cross-clinician contract for every files route, deleted
patients, administrators, and the selector the analysis platform resolves files with."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from cdss.audit.models import AccessEvent, Outcome
from cdss.common.testing import MISSING_ID, PatientScopedRouteContract
from cdss.files.selectors import patient_file_get_for_user, patient_file_list_for_user
from cdss.files.tests.factories import patient_file_of
from cdss.patients.tests.factories import PatientFactory


class TestPatientFileListRoute(PatientScopedRouteContract):
    route_name = "patient-file-list"
    # The upload is refused (404) before its body is read: no body is needed to prove it.
    methods = {"get": None, "post": None}


class _FileRoute(PatientScopedRouteContract):
    def url_kwargs(self, patient, owner):
        return {"file_id": patient_file_of(patient, owner).pk}


class TestPatientFileDetailRoute(_FileRoute):
    route_name = "patient-file-detail"


class TestPatientFileContentRoute(_FileRoute):
    route_name = "patient-file-content"


pytestmark = pytest.mark.django_db


def test_an_upload_for_another_clinicians_patient_stages_nothing(
    make_client, clinician_b, patient_a, media_root
):
    response = make_client(clinician_b).post(
        reverse("patient-file-list", kwargs={"patient_id": patient_a.pk}),
        {"file": SimpleUploadedFile("n.txt", b"note\n"), "role": "document"},
        format="multipart",
    )
    assert response.status_code == 404
    assert not media_root.exists() or not any(p.is_file() for p in media_root.rglob("*"))
    event = AccessEvent.objects.get(action="patient_file.create")
    assert (event.outcome, event.patient_id, event.user_id) == (
        Outcome.DENIED,
        patient_a.pk,
        clinician_b.pk,
    )


@pytest.mark.parametrize("route", ["patient-file-detail", "patient-file-content"])
def test_the_files_of_a_deleted_patient_are_gone(make_client, clinician_a, admin_user, route):
    patient = PatientFactory(care_team=[clinician_a])
    url = reverse(route, kwargs={"file_id": patient_file_of(patient, clinician_a).pk})
    assert make_client(clinician_a).get(url).status_code == 200
    assert (
        make_client(admin_user)
        .delete(reverse("patient-detail", kwargs={"patient_id": patient.pk}))
        .status_code
        == 204
    )
    for user in (clinician_a, admin_user):
        response = make_client(user).get(url)
        assert response.status_code == 404
        assert response.json() == {"error": "Not found.", "detail": {}}


def test_administrators_see_every_patients_files(make_client, clinician_a, admin_user):
    patient = PatientFactory(care_team=[clinician_a])
    patient_file = patient_file_of(patient, clinician_a)
    url = reverse("patient-file-detail", kwargs={"file_id": patient_file.pk})
    assert make_client(admin_user).get(url).json()["id"] == patient_file.pk


def test_an_ml_engineer_sees_no_files(make_client, clinician_a, ml_engineer, patient_a):
    patient_file = patient_file_of(patient_a, clinician_a)
    client = make_client(ml_engineer)
    assert (
        client.get(reverse("patient-file-detail", kwargs={"file_id": patient_file.pk})).status_code
        == 404
    )
    assert (
        client.get(reverse("patient-file-list", kwargs={"patient_id": patient_a.pk})).status_code
        == 404
    )


def test_leaving_the_care_team_loses_the_files(make_client, clinician_a, clinician_b):
    patient = PatientFactory(care_team=[clinician_a, clinician_b])
    url = reverse(
        "patient-file-detail", kwargs={"file_id": patient_file_of(patient, clinician_a).pk}
    )
    assert make_client(clinician_b).get(url).status_code == 200
    patient.care_team.remove(clinician_b)
    assert make_client(clinician_b).get(url).status_code == 404


def test_the_selector_resolves_only_the_patients_file_of_the_right_role(
    clinician_a, clinician_b, patient_a
):
    other_patient = PatientFactory(care_team=[clinician_a])
    note = patient_file_of(patient_a, clinician_a)
    get = patient_file_get_for_user
    assert get(user=clinician_a, file_id=note.pk) == note
    assert get(user=clinician_a, file_id=note.pk, patient=patient_a, role="document") == note
    assert get(user=clinician_a, file_id=note.pk, patient=patient_a.pk) == note
    assert get(user=clinician_a, file_id=note.pk, patient=other_patient) is None
    assert get(user=clinician_a, file_id=note.pk, role="ct_volume") is None
    assert get(user=clinician_b, file_id=note.pk) is None
    assert get(user=clinician_a, file_id=MISSING_ID) is None
    assert list(patient_file_list_for_user(user=clinician_b)) == []
    assert list(patient_file_list_for_user(user=clinician_a, patient_id=patient_a.pk)) == [note]


@pytest.mark.parametrize(
    ("route", "action"),
    [("patient-file-detail", "patient_file.read"), ("patient-file-content", "patient_file.export")],
)
def test_refused_and_missing_reads_are_audited_once(
    make_client, clinician_a, clinician_b, patient_a, route, action
):
    patient_file = patient_file_of(patient_a, clinician_a)
    before = AccessEvent.objects.order_by("-id").values_list("id", flat=True).first()
    client = make_client(clinician_b)
    client.get(reverse(route, kwargs={"file_id": patient_file.pk}))
    client.get(reverse(route, kwargs={"file_id": MISSING_ID}))
    events = list(
        AccessEvent.objects.filter(id__gt=before)
        .order_by("id")
        .values_list("action", "outcome", "patient_id", "object_type", "object_id")
    )
    assert events == [
        (action, Outcome.DENIED, patient_a.pk, "patient_file", str(patient_file.pk)),
        (action, Outcome.NOT_FOUND, None, "patient_file", str(MISSING_ID)),
    ]
