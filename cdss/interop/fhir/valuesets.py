"""The checks ``fhir.resources`` does not do: required codes from their value sets.

``fhir.resources`` validates structure and datatypes but accepts any string as a ``code``; a
``status`` of ``"done"`` would pass it. ``check_resource`` checks, on a serialised resource, the
required-binding codes of the resources served here (``status``, ``gender``, AuditEvent's
``action`` and ``outcome``, ...), the category codes (v2-0074 for DiagnosticReport,
observation-category for Observation, each required to be present), that every Quantity is
coded in UCUM from a small allow-list, and that no element is null or empty (FHIR JSON's rule,
which validating a model does not see). Every resource served passes through it; a failure is a bug
(a 500), never the client's fault.
"""

from __future__ import annotations

from typing import Any

UCUM = "http://unitsofmeasure.org"
V2_0074 = "http://terminology.hl7.org/CodeSystem/v2-0074"
OBSERVATION_CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"

# The UCUM codes this server emits, each a valid UCUM expression (checked against the UCUM
# specification by hand; a new unit is added here with its test).
UCUM_UNITS = frozenset({"mL", "cm3", "cm2", "mm", "d", "1", "%", "[hnsf'U]"})

# v2 table 0074, Diagnostic Service Section ID (HL7 v2.9).
V2_0074_CODES = frozenset(
    {
        "AU", "BG", "BLB", "CG", "CH", "CP", "CT", "CTH", "CUS", "EC", "EN", "GE", "HM", "ICU",
        "IMM", "LAB", "MB", "MCB", "MYC", "NMR", "NMS", "NRS", "OSL", "OT", "OTH", "OUS", "PF",
        "PHR", "PHY", "PT", "RAD", "RC", "RT", "RUS", "RX", "SP", "SR", "TX", "VR", "VUS", "XRC",
    }
)  # fmt: skip

OBSERVATION_CATEGORY_CODES = frozenset(
    {
        "social-history",
        "vital-signs",
        "imaging",
        "laboratory",
        "procedure",
        "survey",
        "exam",
        "therapy",
        "activity",
    }
)

# Required bindings, per resource type and element (FHIR R4 4.0.1).
_OBSERVATION_STATUS = frozenset(
    {
        "registered",
        "preliminary",
        "final",
        "amended",
        "corrected",
        "cancelled",
        "entered-in-error",
        "unknown",
    }
)
REQUIRED_CODES: dict[str, dict[str, frozenset[str]]] = {
    "DiagnosticReport": {
        "status": frozenset(
            {
                "registered",
                "partial",
                "preliminary",
                "final",
                "amended",
                "corrected",
                "appended",
                "cancelled",
                "entered-in-error",
                "unknown",
            }
        )
    },
    "Observation": {"status": _OBSERVATION_STATUS},
    "RiskAssessment": {"status": _OBSERVATION_STATUS},
    "DocumentReference": {
        "status": frozenset({"current", "superseded", "entered-in-error"}),
        "docStatus": frozenset({"preliminary", "final", "amended", "entered-in-error"}),
    },
    "Device": {"status": frozenset({"active", "inactive", "entered-in-error", "unknown"})},
    "Patient": {"gender": frozenset({"male", "female", "other", "unknown"})},
    "AuditEvent": {
        "action": frozenset({"C", "R", "U", "D", "E"}),
        "outcome": frozenset({"0", "4", "8", "12"}),
    },
    "CapabilityStatement": {
        "status": frozenset({"draft", "active", "retired", "unknown"}),
        "kind": frozenset({"instance", "capability", "requirements"}),
    },
    "OperationOutcome": {},
    "Bundle": {
        "type": frozenset(
            {
                "document",
                "message",
                "transaction",
                "transaction-response",
                "batch",
                "batch-response",
                "history",
                "searchset",
                "collection",
            }
        )
    },
}

# Category systems each type must carry, with the codes allowed from them.
REQUIRED_CATEGORY: dict[str, tuple[str, frozenset[str]]] = {
    "DiagnosticReport": (V2_0074, V2_0074_CODES),
    "Observation": (OBSERVATION_CATEGORY, OBSERVATION_CATEGORY_CODES),
}


_STATUS_REQUIRED = ("DiagnosticReport", "Observation", "RiskAssessment", "DocumentReference")


class FhirValueSetError(ValueError):
    """A resource built here carries a code outside its value set."""


def _category_problems(resource_type: str, resource: dict[str, Any]) -> list[str]:
    if resource_type not in REQUIRED_CATEGORY:
        return []
    system, allowed = REQUIRED_CATEGORY[resource_type]
    codings = [
        coding
        for concept in resource.get("category", [])
        for coding in concept.get("coding", [])
        if coding.get("system") == system
    ]
    if not codings:
        return [f"{resource_type}.category: no coding from {system}"]
    return [
        f"{resource_type}.category: {c.get('code')!r} is not in {system}"
        for c in codings
        if c.get("code") not in allowed
    ]


def _is_quantity(node: dict[str, Any]) -> bool:
    value = node.get("value")
    return (
        isinstance(value, (int, float))
        and not isinstance(value, bool)
        and any(k in node for k in ("unit", "code", "system"))
    )


def _node_problems(node: Any, path: str) -> list[str]:
    """Quantities coded in UCUM from the allow-list; and no null, empty string, empty array or
    empty object anywhere (FHIR JSON allows none of them)."""
    if node is None or node == "" or node == [] or node == {}:
        return [f"{path}: empty values are not allowed in FHIR JSON"]
    if isinstance(node, list):
        return [p for i, item in enumerate(node) for p in _node_problems(item, f"{path}[{i}]")]
    if not isinstance(node, dict):
        return []
    problems: list[str] = []
    if _is_quantity(node):
        if node.get("system") != UCUM:
            problems.append(f"{path}: unit system {node.get('system')!r} is not UCUM")
        elif node.get("code") not in UCUM_UNITS:
            problems.append(f"{path}: unit {node.get('code')!r} is not an allowed UCUM code")
    for key, value in node.items():
        problems.extend(_node_problems(value, f"{path}.{key}"))
    return problems


def resource_problems(resource: dict[str, Any]) -> list[str]:
    """What is wrong with a serialised resource (empty: nothing)."""
    resource_type = str(resource.get("resourceType", ""))
    if resource_type not in REQUIRED_CODES:
        return [f"resourceType {resource_type!r} is not served here"]
    problems = [
        f"{resource_type}.{element}: {resource.get(element)!r} is not in its value set"
        for element, allowed in REQUIRED_CODES[resource_type].items()
        if element in resource and resource[element] not in allowed
    ]
    if resource_type in _STATUS_REQUIRED and "status" not in resource:
        problems.append(f"{resource_type}.status is required")
    problems.extend(_category_problems(resource_type, resource))
    # A Bundle's entries hold resources checked each when built: the envelope is checked here.
    envelope = (
        {k: v for k, v in resource.items() if k != "entry"}
        if resource_type == "Bundle"
        else resource
    )
    problems.extend(_node_problems(envelope, resource_type))
    return problems


def check_resource(resource: dict[str, Any]) -> dict[str, Any]:
    """Returns the resource, or raises ``FhirValueSetError`` naming every problem."""
    problems = resource_problems(resource)
    if problems:
        raise FhirValueSetError("; ".join(problems))
    return resource
