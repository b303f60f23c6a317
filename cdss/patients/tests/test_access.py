"""Cross-clinician access: inherited by every patient-scoped route; coverage checked here."""

from __future__ import annotations

import importlib
import pkgutil

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse

import cdss
from cdss.common.testing import PatientScopedRouteContract
from cdss.patients.apis import PatientScopedApi
from cdss.patients.tests.factories import PatientFactory


class TestPatientDetailRoute(PatientScopedRouteContract):
    route_name = "patient-detail"
    methods = {
        "get": None,
        "put": {"mrn": "X1", "name": "Changed"},
        "patch": {"name": "C"},
        "delete": None,
    }


def _patient_scoped_route_names() -> set[str]:
    names: set[str] = set()

    def walk(patterns: list[URLPattern | URLResolver]) -> None:
        for p in patterns:
            if isinstance(p, URLResolver):
                walk(p.url_patterns)
                continue
            view_class = getattr(p.callback, "view_class", None)
            if view_class and issubclass(view_class, PatientScopedApi) and p.name:
                names.add(p.name)

    walk(get_resolver().url_patterns)
    return names


def _all_subclasses(cls: type) -> set[type]:
    found: set[type] = set()
    for sub in cls.__subclasses__():
        found.add(sub)
        found |= _all_subclasses(sub)
    return found


def test_every_patient_scoped_route_inherits_the_contract() -> None:
    # Import every test module of the project so their contract subclasses are registered.
    for mod in pkgutil.walk_packages(cdss.__path__, prefix="cdss."):
        if ".tests.test_" in mod.name:
            importlib.import_module(mod.name)
    covered = {getattr(c, "route_name", None) for c in _all_subclasses(PatientScopedRouteContract)}
    routes = _patient_scoped_route_names()
    assert "patient-detail" in routes
    missing = routes - covered
    assert not missing, f"patient-scoped routes without PatientScopedRouteContract tests: {missing}"


@pytest.mark.django_db
def test_list_shows_only_own_patients(make_client, clinician_a, clinician_b) -> None:
    mine = PatientFactory.create_batch(3, care_team=[clinician_a])
    PatientFactory.create_batch(2, care_team=[clinician_b])
    body = make_client(clinician_a).get(reverse("patient-list")).json()
    assert body["count"] == 3
    assert {p["id"] for p in body["results"]} == {p.pk for p in mine}


@pytest.mark.django_db
def test_admin_sees_all_patients(make_client, clinician_a, clinician_b, admin_user) -> None:
    PatientFactory.create_batch(2, care_team=[clinician_a])
    PatientFactory.create_batch(2, care_team=[clinician_b])
    assert make_client(admin_user).get(reverse("patient-list")).json()["count"] == 4


@pytest.mark.django_db
def test_ml_engineer_sees_no_patients_and_cannot_create(make_client, clinician_a, ml_engineer):
    patient = PatientFactory(care_team=[clinician_a])
    client = make_client(ml_engineer)
    assert client.get(reverse("patient-list")).json()["count"] == 0
    detail = reverse("patient-detail", kwargs={"patient_id": patient.pk})
    assert client.get(detail).status_code == 404
    created = client.post(reverse("patient-list"), {"mrn": "Z9", "name": "N"}, format="json")
    assert created.status_code == 403


@pytest.mark.django_db
def test_search_never_reaches_other_clinicians_patients(make_client, clinician_a, clinician_b):
    PatientFactory(name="Kim Minji", care_team=[clinician_b])
    PatientFactory(name="Kim Jisoo", care_team=[clinician_a])
    body = make_client(clinician_a).get(reverse("patient-list"), {"search": "kim"}).json()
    assert [p["name"] for p in body["results"]] == ["Kim Jisoo"]


@pytest.mark.django_db
def test_deleted_patient_is_gone_for_everyone(make_client, clinician_a, admin_user):
    patient = PatientFactory(care_team=[clinician_a])
    url = reverse("patient-detail", kwargs={"patient_id": patient.pk})
    assert make_client(clinician_a).delete(url).status_code == 403
    assert make_client(admin_user).delete(url).status_code == 204
    assert make_client(clinician_a).get(url).status_code == 404
    assert make_client(admin_user).get(url).status_code == 404
    patient.refresh_from_db()
    assert patient.deleted_at is not None  # the record itself is kept
