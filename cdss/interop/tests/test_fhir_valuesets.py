"""The value-set checks ``fhir.resources`` does not do, and that every builder's output passes
them (with ``fhir.resources`` round-trip validation)."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from fhir.resources.R4B.diagnosticreport import DiagnosticReport
from fhir.resources.R4B.observation import Observation

from cdss.interop.fhir.ids import (
    analysis_resource_id,
    device_resource_id,
    parse_analysis_resource_id,
    parse_file_resource_id,
    parse_plain_id,
)
from cdss.interop.fhir.valuesets import (
    UCUM,
    FhirValueSetError,
    check_resource,
    resource_problems,
)

OBSERVATION: dict[str, Any] = {
    "resourceType": "Observation",
    "id": "a1-organ-volumes",
    "status": "final",
    "category": [
        {
            "coding": [
                {
                    "system": "http://terminology.hl7.org/CodeSystem/observation-category",
                    "code": "imaging",
                }
            ]
        }
    ],
    "code": {"text": "CT organ volumes"},
    "component": [
        {
            "code": {"text": "liver volume"},
            "valueQuantity": {"value": 1532.4, "unit": "mL", "system": UCUM, "code": "mL"},
        },
        {
            "code": {"text": "liver mean attenuation"},
            "valueQuantity": {"value": 58.2, "unit": "HU", "system": UCUM, "code": "[hnsf'U]"},
        },
    ],
}
REPORT: dict[str, Any] = {
    "resourceType": "DiagnosticReport",
    "id": "a1",
    "status": "final",
    "category": [
        {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v2-0074", "code": "CT"}]}
    ],
    "code": {"text": "CT analysis"},
}


def _with(resource: dict[str, Any], path: tuple[Any, ...], value: Any) -> dict[str, Any]:
    changed = copy.deepcopy(resource)
    node = changed
    for key in path[:-1]:
        node = node[key]
    if value is None:
        del node[path[-1]]
    else:
        node[path[-1]] = value
    return changed


def test_valid_resources_pass_and_are_valid_r4():
    for resource, model in ((OBSERVATION, Observation), (REPORT, DiagnosticReport)):
        assert resource_problems(resource) == []
        assert check_resource(resource) is resource
        assert model.model_validate(resource).model_dump(mode="json", exclude_none=True) == resource


def test_fhir_resources_itself_accepts_a_bad_status():
    """Why the checks exist: the library takes any code."""
    bad = _with(REPORT, ("status",), "done")
    DiagnosticReport.model_validate(bad)
    with pytest.raises(FhirValueSetError, match=r"DiagnosticReport\.status: 'done'"):
        check_resource(bad)


@pytest.mark.parametrize(
    ("resource", "path", "value", "problem"),
    [
        (OBSERVATION, ("status",), "partial", "Observation.status: 'partial'"),  # a report's only
        (OBSERVATION, ("status",), None, "Observation.status is required"),
        (REPORT, ("category", 0, "coding", 0, "code"), "XYZ", "'XYZ' is not in"),
        (REPORT, ("category",), None, "no coding from http://terminology.hl7.org/CodeSystem/v2"),
        (OBSERVATION, ("category", 0, "coding", 0, "code"), "radiology", "'radiology' is not in"),
        (
            OBSERVATION,
            ("category", 0, "coding", 0, "system"),
            "http://terminology.hl7.org/CodeSystem/v2-0074",
            "no coding from http://terminology.hl7.org/CodeSystem/observation-category",
        ),
        (
            OBSERVATION,
            ("component", 0, "valueQuantity", "code"),
            "ml",
            "unit 'ml' is not an allowed UCUM code",
        ),
        (
            OBSERVATION,
            ("component", 1, "valueQuantity", "code"),
            "HU",
            "unit 'HU' is not an allowed UCUM code",
        ),
        (
            OBSERVATION,
            ("component", 0, "valueQuantity", "system"),
            None,
            "unit system None is not UCUM",
        ),
    ],
)
def test_codes_outside_their_value_sets_are_refused(resource, path, value, problem):
    bad = _with(resource, path, value)
    assert any(problem in p for p in resource_problems(bad)), resource_problems(bad)
    with pytest.raises(FhirValueSetError):
        check_resource(bad)


@pytest.mark.parametrize("empty", [None, "", [], {}])
def test_empty_values_are_refused(empty):
    """FHIR JSON has no nulls or empty strings, arrays or objects; the models accept some."""
    bad = _with(OBSERVATION, ("component", 0, "code", "text"), "x")
    bad["component"][0]["code"]["text"] = empty
    problems = resource_problems(bad)
    assert problems == [
        "Observation.component[0].code.text: empty values are not allowed in FHIR JSON"
    ]


def test_other_required_bindings():
    assert resource_problems({"resourceType": "Patient", "gender": "F"}) == [
        "Patient.gender: 'F' is not in its value set"
    ]
    assert resource_problems({"resourceType": "AuditEvent", "action": "X", "outcome": "0"})
    assert resource_problems({"resourceType": "Device", "status": "active"}) == []
    assert resource_problems({"resourceType": "Medication"}) == [
        "resourceType 'Medication' is not served here"
    ]


def test_ids_round_trip_and_refuse_what_is_not_ours():
    assert analysis_resource_id(123) == "a123"
    ref = parse_analysis_resource_id(analysis_resource_id(123, "seq-4-pathogen"))
    assert ref is not None and (ref.analysis_id, ref.key) == (123, "seq-4-pathogen")
    for bad in ("123", "a", "a0", "a12x", "a1-", "a1-Seq", "a99999999999999999999", "a1-a/b"):
        assert parse_analysis_resource_id(bad) is None, bad
    assert parse_file_resource_id("f7") == 7 and parse_file_resource_id("7") is None
    assert parse_plain_id("42") == 42 and parse_plain_id("0") is None
    assert parse_plain_id("-1") is None and parse_plain_id("9" * 20) is None
    assert device_resource_id("pathogen-seq", "2026.11.0") == "pathogen-seq-2026.11.0"
    assert device_resource_id("a b/c", "v1+x") == "a-b-c-v1-x"
    assert len(device_resource_id("m" * 80, "1")) == 64


def test_validation_is_remembered_by_content_only():
    from pydantic import ValidationError

    from cdss.interop.fhir.resources import finish, validated_clear

    validated_clear()
    assert finish(Observation, copy.deepcopy(OBSERVATION)) == OBSERVATION
    assert finish(Observation, copy.deepcopy(OBSERVATION)) == OBSERVATION  # remembered
    # Other content is validated afresh: an element R4 does not have is refused.
    with pytest.raises(ValidationError):
        finish(Observation, {**OBSERVATION, "valueFoo": 1})
    # The same content as another type is validated as that type.
    with pytest.raises(ValidationError):
        finish(DiagnosticReport, {**OBSERVATION, "resourceType": "DiagnosticReport"})
    # The value-set checks run every time, remembered or not.
    with pytest.raises(FhirValueSetError):
        finish(Observation, _with(OBSERVATION, ("status",), "done"))
