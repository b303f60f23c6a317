"""Integers past 64 bits, in paths, query strings and bodies: a 400 or a 404, never a 500."""

from __future__ import annotations

import pytest

from cdss.patients.tests.factories import PatientFactory

pytestmark = pytest.mark.django_db

HUGE = str(2**70)
JUST_OVER = str(2**63)
LARGEST = str(2**63 - 1)


@pytest.mark.parametrize("number", [HUGE, JUST_OVER])
@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/analyses/?patient={n}",
        "/api/v1/audit/events/?user={n}",
        "/api/v1/audit/events/?patient={n}",
        "/api/v1/audit/events/?page={n}",
        "/api/v1/audit/events/?page_size={n}",
        "/api/v1/patients/?page={n}",
        "/ml/v1/history/?offset={n}",
        "/ml/v1/history/?limit={n}",
    ],
)
def test_query_integers_out_of_range(make_client, admin_user, url, number):
    response = make_client(admin_user).get(url.format(n=number))
    assert response.status_code in (200, 400, 404), response.content
    if response.status_code == 400:
        assert response.json()["error"].startswith("Invalid input")


@pytest.mark.parametrize("number", [HUGE, JUST_OVER])
@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/patients/{n}/",
        "/api/v1/analyses/{n}/",
        "/api/v1/analyses/{n}/result/",
    ],
)
def test_path_ids_out_of_range_are_404(make_client, clinician_a, path, number):
    response = make_client(clinician_a).get(path.format(n=number))
    assert response.status_code == 404
    assert response.json() == {"error": "Not found.", "detail": {}}


def test_the_largest_id_is_an_ordinary_missing_object(make_client, clinician_a):
    response = make_client(clinician_a).get(f"/api/v1/patients/{LARGEST}/")
    assert response.status_code == 404


@pytest.mark.parametrize("number", [2**70, 2**63])
def test_body_integers_out_of_range(make_client, clinician_a, number):
    client = make_client(clinician_a)
    patient = PatientFactory(care_team=[clinician_a])
    bodies = [
        ("post", "/api/v1/patients/", {"mrn": "M-9", "name": "N", "care_team": [number]}),
        ("patch", f"/api/v1/patients/{patient.pk}/", {"care_team": [clinician_a.pk, number]}),
        ("post", "/api/v1/analyses/", {"kind": "sequence_batch", "patient": number}),
        ("post", "/ml/v1/predict/", {"sequence": "MKV", "patient_id": number}),
    ]
    for method, url, body in bodies:
        response = getattr(client, method)(url, body, format="json")
        assert response.status_code == 400, (url, response.content)
        assert "less than or equal to" in response.json()["error"], response.content


def _all_subclasses(cls):
    for sub in cls.__subclasses__():
        yield sub
        yield from _all_subclasses(sub)


def _integer_fields(field, name):
    from rest_framework import serializers

    if isinstance(field, serializers.IntegerField) and not field.read_only:
        yield name, field
    child = getattr(field, "child", None)
    if child is not None:
        yield from _integer_fields(child, f"{name}[]")
    if isinstance(field, serializers.Serializer):
        for sub_name, sub in field.fields.items():
            yield from _integer_fields(sub, f"{name}.{sub_name}")


def test_every_integer_a_client_sends_has_bounds():
    """The class of defect, not one route: a new unbounded IntegerField fails here."""
    import importlib
    import pkgutil

    from rest_framework import serializers

    import cdss

    for module in pkgutil.walk_packages(cdss.__path__, "cdss."):
        if ".tests" not in module.name and module.name.rsplit(".", 1)[-1] in (
            "apis",
            "serializers",
        ):
            importlib.import_module(module.name)
    checked, unbounded = 0, []
    for cls in _all_subclasses(serializers.Serializer):
        # Input shapes live in serializers and apis modules (schemas modules only document
        # responses); output fields there are read_only.
        leaf = cls.__module__.rsplit(".", 1)[-1]
        if not cls.__module__.startswith("cdss.") or leaf not in ("apis", "serializers"):
            continue
        try:
            instance = cls()
        except TypeError:
            continue
        for name, field in _integer_fields(instance, cls.__qualname__):
            checked += 1
            if field.max_value is None or field.min_value is None:
                unbounded.append(f"{cls.__module__}.{name}")
    assert not unbounded, "integer inputs without min_value/max_value: " + ", ".join(unbounded)
    assert checked >= 8
