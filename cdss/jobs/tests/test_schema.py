"""What the kinds declare is what OpenAPI says: the create body is a union keyed by ``kind`` with
each kind's input serializer, the JSON result one of the kinds' result shapes, and the artifact
routes are documented with their statuses."""

from __future__ import annotations

from typing import Any

import jsonschema
import pytest
from drf_spectacular.generators import SchemaGenerator

from cdss.jobs import services
from cdss.jobs.kinds import registered_kinds
from cdss.jobs.models import AnalysisResult

ANALYSES = "/api/v1/analyses/"


@pytest.fixture(scope="module")
def schema() -> dict[str, Any]:
    return SchemaGenerator().get_schema(request=None, public=True)


def _component(schema: dict[str, Any], ref: str) -> dict[str, Any]:
    return schema["components"]["schemas"][ref.rsplit("/", 1)[-1]]


def test_the_create_body_is_one_kind_each_with_its_own_inputs(schema):
    body = schema["paths"][ANALYSES]["post"]["requestBody"]["content"]["application/json"]
    union = _component(schema, body["schema"]["$ref"])
    assert union["discriminator"]["propertyName"] == "kind"
    mapping = union["discriminator"]["mapping"]
    kinds = {k.name: k for k in registered_kinds()}
    assert set(mapping) == set(kinds)
    for name, ref in mapping.items():
        variant = _component(schema, ref)
        assert variant["additionalProperties"] is False
        kind_enum = variant["properties"]["kind"]
        assert _component(schema, kind_enum["$ref"])["enum"] == [name]
        assert ("patient" in variant["required"]) == kinds[name].patient_required, name
    retrain = _component(schema, mapping["sequence_retrain"])
    assert retrain["properties"]["inputs"]["$ref"].endswith("/RetrainInputRequest")
    assert "inputs" in retrain["required"]  # training_data_path is required
    batch_inputs = _component(
        schema, _component(schema, mapping["sequence_batch"])["properties"]["inputs"]["$ref"]
    )
    assert {"items", "fasta", "top_k"} <= set(batch_inputs["properties"])


def test_the_json_result_is_one_of_the_kinds_result_shapes(schema):
    route = schema["paths"][f"{ANALYSES}{{analysis_id}}/result/"]["get"]
    union = route["responses"]["200"]["content"]["application/json"]["schema"]
    shapes = {ref["$ref"].rsplit("/", 1)[-1] for ref in _component(schema, union["$ref"])["oneOf"]}
    assert {"PipelineCheckResult", "BatchResult", "RetrainResult"} <= shapes
    assert _component(schema, "#/RetrainResult")["additionalProperties"] is False


@pytest.mark.django_db
def test_a_completed_result_matches_the_published_schema(schema, admin_user):
    analysis = services.analysis_submit(
        user=admin_user, kind="pipeline_check", patient=None, inputs={"note": "n"}
    )
    services.analysis_execute(analysis_id=analysis.pk)
    data = AnalysisResult.objects.get(analysis=analysis).data
    document = {"$ref": "#/components/schemas/AnalysisResultData", **schema}
    jsonschema.validate(data, document)


def test_the_artifact_routes_are_documented(schema):
    listed = schema["paths"][f"{ANALYSES}{{analysis_id}}/artifacts/"]["get"]
    assert {"200", "401", "404"} <= set(listed["responses"])
    page = _component(
        schema, listed["responses"]["200"]["content"]["application/json"]["schema"]["$ref"]
    )
    items = page["properties"]["results"]["items"]
    assert set(_component(schema, items["$ref"])["properties"]) == {
        "name",
        "content_type",
        "size",
        "sha256",
        "url",
    }
    download = schema["paths"][f"{ANALYSES}{{analysis_id}}/artifacts/{{name}}"]["get"]
    assert set(download["responses"]) == {"200", "401", "404"}
    assert download["responses"]["200"]["content"]["*/*"]["schema"]["format"] == "binary"
    assert "ETag" in download["responses"]["200"]["headers"]
    name = next(p for p in download["parameters"] if p["name"] == "name")
    assert name["schema"]["pattern"].startswith("^[A-Za-z0-9_-]")
    detail = _component(schema, "#/AnalysisDetail")
    assert "artifacts" in detail["properties"]
