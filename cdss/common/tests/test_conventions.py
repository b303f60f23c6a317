"""API conventions: error shape, request ids, body limit, health probes, schema, logs."""

from __future__ import annotations

import logging
import re

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from cdss.patients.models import Patient

pytestmark = pytest.mark.django_db

LIST = "/api/v1/patients/"


def test_request_id_is_echoed_from_a_trusted_proxy_or_made(make_client, settings):
    client = make_client(None)
    # An untrusted client's id could be forged into the audit trail: a new one is made.
    untrusted = client.get("/healthz", HTTP_X_REQUEST_ID="abc-1").headers["X-Request-ID"]
    assert re.fullmatch(r"[0-9a-f]{32}", untrusted)
    settings.CDSS_TRUSTED_PROXIES = ["127.0.0.1"]
    assert client.get("/healthz", HTTP_X_REQUEST_ID="abc-1").headers["X-Request-ID"] == "abc-1"
    made = client.get("/healthz", HTTP_X_REQUEST_ID="bad id with spaces").headers["X-Request-ID"]
    assert re.fullmatch(r"[0-9a-f]{32}", made)


def test_health_probes(make_client):
    client = make_client(None)
    assert client.get("/healthz").json() == {"ok": True, "status": "alive"}
    ready = client.get("/readyz").json()
    assert ready["ok"] is True and ready["database"] in {"sqlite", "postgresql", "mysql"}


def test_malformed_json_is_400_and_stores_nothing(make_client, clinician_a):
    response = make_client(clinician_a).post(
        LIST, data='{"mrn": "A", "name":', content_type="application/json"
    )
    assert response.status_code == 400
    assert response.json()["error"].startswith("Malformed request body")
    assert Patient.objects.count() == 0


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"mrn": "A1", "name": "N", "birth_date": "not-a-date"}, "birth_date"),
        ({"mrn": "A1", "name": "N", "care_team": "1"}, "care_team"),
        ({"mrn": "A1", "name": ["x"]}, "name"),
        ({"mrn": "bad mrn!", "name": "N"}, "mrn"),
        ({"mrn": "A1", "name": "N", "sex": "robot"}, "sex"),
        ({"mrn": "A1", "name": "N", "unexpected": 1}, "unexpected"),
        ({"name": "N"}, "mrn"),
    ],
)
def test_wrong_input_names_the_field(make_client, clinician_a, body, field):
    response = make_client(clinician_a).post(LIST, body, format="json")
    assert response.status_code == 400
    payload = response.json()
    assert field in payload["error"] and field in payload["detail"]
    assert Patient.objects.count() == 0


def test_json_array_body_is_400(make_client, clinician_a):
    response = make_client(clinician_a).post(LIST, [1, 2], format="json")
    assert response.status_code == 400
    assert Patient.objects.count() == 0


def test_body_over_limit_is_413(make_client, clinician_a, settings):
    settings.CDSS_MAX_REQUEST_BODY = 1024
    response = make_client(clinician_a).post(
        LIST, {"mrn": "B1", "name": "N", "notes": "x" * 2000}, format="json"
    )
    assert response.status_code == 413
    assert "limit" in response.json()["error"]
    assert Patient.objects.count() == 0


def test_unsupported_media_type_is_415(make_client, clinician_a):
    response = make_client(clinician_a).post(LIST, data="mrn=1", content_type="text/plain")
    assert response.status_code == 415
    assert "error" in response.json()


def test_unknown_route_is_json_404(make_client):
    response = make_client(None).get("/api/v1/no-such-thing/")
    assert response.status_code == 404 and response.json()["error"]


def test_unauthenticated_is_401_in_error_shape(make_client):
    response = make_client(None).get(LIST)
    assert response.status_code == 401
    assert set(response.json()) == {"error", "detail"}


def test_security_headers(make_client):
    response = make_client(None).get("/healthz")
    assert "default-src 'self'" in response.headers["Content-Security-Policy"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def _api_paths() -> set[str]:
    paths: set[str] = set()

    def walk(patterns: list[URLPattern | URLResolver], prefix: str) -> None:
        for p in patterns:
            route = prefix + str(p.pattern)
            if isinstance(p, URLResolver):
                walk(p.url_patterns, route)
            elif route.startswith("api/v1/"):
                paths.add("/" + re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", route))

    walk(get_resolver().url_patterns, "")
    return paths


def test_openapi_schema_builds_and_lists_every_route(make_client):
    response = make_client(None).get(reverse("schema"), {"format": "json"})
    assert response.status_code == 200
    schema = response.json()
    assert schema["openapi"].startswith("3.")
    expected = _api_paths()
    assert "/api/v1/patients/{patient_id}/" in expected
    assert expected <= set(schema["paths"]), expected - set(schema["paths"])


def test_docs_pages_are_served(make_client):
    client = make_client(None)
    assert client.get(reverse("swagger-ui")).status_code == 200
    assert client.get(reverse("redoc")).status_code == 200


def test_logs_carry_no_patient_identifiers(make_client, clinician_a, caplog):
    caplog.set_level(logging.DEBUG)
    client = make_client(clinician_a)
    created = client.post(
        LIST, {"mrn": "SECRETMRN77", "name": "Zelda Uniquename"}, format="json"
    ).json()
    client.get(LIST, {"search": "Uniquename"})
    client.get(f"{LIST}{created['id']}/")
    client.patch(f"{LIST}{created['id']}/", {"name": "Zelda Othername"}, format="json")
    text = "\n".join(r.getMessage() for r in caplog.records)
    assert "cdss.request" in {r.name for r in caplog.records}
    for secret in ("SECRETMRN77", "Uniquename", "Othername", "Zelda"):
        assert secret not in text
