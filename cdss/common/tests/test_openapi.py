"""The OpenAPI schema tells the truth: paginated envelopes, nullable fields, every error status in
the one error shape, 202 for queued work, and /ml/v1 included. (``make schema-test`` checks the
same schema against a live server; these tests check its shape without one.)"""

from __future__ import annotations

from typing import Any

import jsonschema
import pytest
from django.core.management import call_command
from drf_spectacular.drainage import GENERATOR_STATS
from drf_spectacular.generators import SchemaGenerator

from cdss.common.exceptions import error_body
from cdss.common.openapi import ERROR_SCHEMA, implied_error_statuses

METHODS = ("get", "put", "post", "patch", "delete")

# The statuses only a view knows about, declared with errors(...) in its @extend_schema.
DECLARED: dict[tuple[str, str], set[int]] = {
    ("post", "/api/v1/auth/token/"): {401, 429},
    ("post", "/api/v1/auth/token/refresh/"): {401},
    ("post", "/api/v1/auth/password/"): {429},
    ("get", "/api/v1/audit/events/"): {403, 404},
    ("get", "/api/v1/patients/"): {404},
    ("post", "/api/v1/patients/"): {403, 409},
    ("put", "/api/v1/patients/{patient_id}/"): {409},
    ("patch", "/api/v1/patients/{patient_id}/"): {409},
    ("delete", "/api/v1/patients/{patient_id}/"): {403},
    ("get", "/api/v1/analyses/"): {404},
    ("post", "/api/v1/analyses/"): {403},
    ("post", "/api/v1/analyses/{analysis_id}/cancel/"): {409},
    ("post", "/api/v1/analyses/{analysis_id}/retry/"): {409},
    ("get", "/api/v1/analyses/{analysis_id}/result/"): {409},
    ("get", "/ml/v1/status/"): {502, 503, 504},
    ("get", "/ml/v1/model-info/"): {502, 503, 504},
    ("post", "/ml/v1/predict/"): {404, 502, 503, 504},
    ("post", "/ml/v1/retrain/"): {403},
}

LISTS = {
    "patients_list": ("/api/v1/patients/", "PatientOutput"),
    "analyses_list": ("/api/v1/analyses/", "AnalysisOutput"),
    "audit_events_list": ("/api/v1/audit/events/", "AccessEvent"),
    "history_list": ("/ml/v1/history/", "InferenceLogOutput"),
}

QUEUED = [
    ("post", "/api/v1/analyses/"),
    ("post", "/api/v1/analyses/{analysis_id}/retry/"),
    ("post", "/ml/v1/predict/"),
]


@pytest.fixture(scope="module")
def schema() -> dict[str, Any]:
    return SchemaGenerator().get_schema(request=None, public=True)


def _operations(schema: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (method, path, operation)
        for path, item in schema["paths"].items()
        for method, operation in item.items()
        if method in METHODS
    ]


def _resolve(schema: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    ref = node.get("$ref")
    if ref is None:
        return node
    return schema["components"]["schemas"][ref.rsplit("/", 1)[-1]]


def test_schema_builds_and_validates_without_a_warning(tmp_path):
    # --fail-on-warn: an unresolvable view, serializer or authenticator fails here. The counts are
    # process-wide, so only this build's are judged.
    GENERATOR_STATS.reset()
    call_command(
        "spectacular", "--validate", "--fail-on-warn", "--file", str(tmp_path / "schema.yaml")
    )


def test_the_ml_api_is_in_the_schema(schema):
    ml = {path for path in schema["paths"] if path.startswith("/ml/v1/")}
    expected = {"status/", "model-info/", "predict/", "history/", "retrain/"}
    assert {f"/ml/v1/{p}" for p in expected} <= ml


def test_every_error_response_has_the_one_error_shape(schema):
    for method, path, operation in _operations(schema):
        for code, response in operation["responses"].items():
            if code.startswith(("4", "5")) and (method, path) != ("get", "/readyz"):
                ref = response["content"]["application/json"]["schema"]["$ref"]
                assert ref == "#/components/schemas/Error", (method, path, code)


def test_the_error_component_matches_what_the_handler_sends(schema):
    assert schema["components"]["schemas"]["Error"] == ERROR_SCHEMA
    jsonschema.validate(error_body(404, "Not found."), ERROR_SCHEMA)
    jsonschema.validate(error_body(400, "Invalid input: x", {"x": ["Bad."]}), ERROR_SCHEMA)
    jsonschema.validate(error_body(503, "Inference server unreachable."), ERROR_SCHEMA)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"detail": "no error field"}, ERROR_SCHEMA)


def test_every_operation_documents_the_errors_its_shape_implies(schema):
    for method, path, operation in _operations(schema):
        missing = implied_error_statuses(path, operation) - {int(c) for c in operation["responses"]}
        assert not missing, (method, path, missing)


def test_authenticated_operations_document_401(schema):
    for method, path, operation in _operations(schema):
        public = path.startswith(("/api/v1/auth/token", "/api/v1/models/"))  # model cards: public
        if path not in ("/healthz", "/readyz") and not public:
            assert {"jwtAuth": []} in operation.get("security", []), (method, path)
            assert "401" in operation["responses"], (method, path)


def test_each_view_documents_the_statuses_only_it_knows(schema):
    for (method, path), codes in DECLARED.items():
        documented = {int(code) for code in schema["paths"][path][method]["responses"]}
        assert codes <= documented, (method, path, codes - documented)


def test_the_429_documents_retry_after(schema):
    response = schema["paths"]["/api/v1/auth/token/"]["post"]["responses"]["429"]
    assert "Retry-After" in response["headers"]


@pytest.mark.parametrize("operation_id", sorted(LISTS))
def test_every_list_documents_its_paginated_envelope(schema, operation_id):
    path, item = LISTS[operation_id]
    operation = schema["paths"][path]["get"]
    assert operation["operationId"] == operation_id
    envelope = _resolve(schema, operation["responses"]["200"]["content"]["application/json"])
    envelope = _resolve(schema, envelope["schema"])
    assert set(envelope["properties"]) == {"count", "next", "previous", "results"}
    assert envelope["properties"]["next"]["nullable"] is True
    assert envelope["properties"]["results"]["items"] == {"$ref": f"#/components/schemas/{item}"}


def test_the_paginated_lists_name_their_page_parameters(schema):
    for path in ("/api/v1/patients/", "/api/v1/analyses/", "/api/v1/audit/events/"):
        names = {p["name"] for p in schema["paths"][path]["get"]["parameters"]}
        assert {"page", "page_size"} <= names, path
    history = {p["name"] for p in schema["paths"]["/ml/v1/history/"]["get"]["parameters"]}
    assert {"limit", "offset"} <= history


def test_no_success_response_is_a_bare_array(schema):
    # Every list pages: a bare array in a 2xx would be a list documented without its envelope.
    for method, path, operation in _operations(schema):
        for code, response in operation["responses"].items():
            for media in response.get("content", {}).values():
                if code.startswith("2"):
                    assert _resolve(schema, media["schema"]).get("type") != "array", (
                        method,
                        path,
                    )


@pytest.mark.parametrize(("method", "path"), QUEUED)
def test_queued_work_documents_202_with_its_location(schema, method, path):
    response = schema["paths"][path][method]["responses"]["202"]
    assert "Location" in response["headers"]
    assert response["content"]["application/json"]["schema"]["$ref"]


def test_fields_that_can_be_null_say_so(schema):
    components = schema["components"]["schemas"]
    analysis = components["AnalysisOutput"]["properties"]
    for name in ("result_url", "error", "patient", "requested_by", "completed_at"):
        assert analysis[name].get("nullable") is True, name
    assert components["MlStatus"]["properties"]["model_version"]["nullable"] is True
    # An email address may be empty: not documented as format "email".
    assert "format" not in components["UserOutput"]["properties"]["email"]


def test_strict_input_serializers_refuse_unknown_fields_in_the_schema(schema):
    components = schema["components"]["schemas"]
    for name in ("PatientInputRequest", "TokenObtainInputRequest", "RetrainInputRequest"):
        assert components[name]["additionalProperties"] is False, name


def test_predict_documents_each_body_it_accepts(schema):
    body = schema["paths"]["/ml/v1/predict/"]["post"]["requestBody"]["content"]
    assert set(body) == {"application/json", "multipart/form-data", "text/x-fasta", "text/plain"}
    assert body["text/x-fasta"]["schema"] == {"type": "string"}
    assert "file" in _resolve(schema, body["multipart/form-data"]["schema"])["required"]


def test_implied_error_statuses_follow_from_the_operation_shape():
    secured: dict[str, Any] = {"security": [{"jwtAuth": []}], "responses": {}}
    assert implied_error_statuses("/api/v1/x/", secured) == {401}
    assert implied_error_statuses("/api/v1/x/{id}/", secured) == {401, 404}
    with_body = {"requestBody": {"content": {}}, "security": [{}]}
    assert implied_error_statuses("/api/v1/x/", with_body) == {400, 413, 415}
    with_query = {"parameters": [{"in": "query", "name": "q"}]}
    assert implied_error_statuses("/api/v1/x/", with_query) == {400}
