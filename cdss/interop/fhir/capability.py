"""The CapabilityStatement (``GET /fhir/r4/metadata``): what this server really supports.

``SUPPORTED`` is the one table of resource types, interactions and search parameters; the URL
routes (``urls``) serve exactly these, and a test checks each one listed answers.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from fhir.resources.R4B.capabilitystatement import CapabilityStatement

from cdss.interop.fhir.resources import DISCLAIMER, Links, finish

FHIR_VERSION = "4.0.1"
# The date this statement last changed (a fixed date, not "now": clients cache it).
STATEMENT_DATE = "2026-11-27"

PATIENT_PARAM = {
    "name": "patient",
    "type": "reference",
    "documentation": "Required: the patient, as an id or Patient/<id>; subject= is the same.",
}
SUPPORTED: dict[str, dict[str, Any]] = {
    "Patient": {
        "interactions": ["read", "search-type"],
        "search": [
            {"name": "_id", "type": "token", "documentation": "The patient's id."},
            {
                "name": "identifier",
                "type": "token",
                "documentation": "The MRN, as value or system|value.",
            },
        ],
        "operations": [
            {
                "name": "everything",
                "definition": "http://hl7.org/fhir/OperationDefinition/Patient-everything",
            }
        ],
    },
    "DiagnosticReport": {"interactions": ["read", "search-type"], "search": [PATIENT_PARAM]},
    "Observation": {"interactions": ["read", "search-type"], "search": [PATIENT_PARAM]},
    "RiskAssessment": {"interactions": ["read", "search-type"], "search": [PATIENT_PARAM]},
    "DocumentReference": {"interactions": ["read", "search-type"], "search": [PATIENT_PARAM]},
    "Device": {"interactions": ["read"], "search": []},
    "AuditEvent": {
        "interactions": ["read", "search-type"],
        "search": [
            {
                "name": "patient",
                "type": "reference",
                "documentation": "Optional: events about one patient. Administrators only.",
            },
            {"name": "_count", "type": "number", "documentation": "Page size (1-500, 100)."},
        ],
    },
}


def capability_statement(*, links: Links) -> dict[str, Any]:
    return finish(
        CapabilityStatement,
        {
            "resourceType": "CapabilityStatement",
            "status": "active",
            "date": STATEMENT_DATE,
            "publisher": str(settings.CDSS_REPORT_HOSPITAL) or "CDSS",
            "kind": "instance",
            "software": {"name": "CDSS"},
            "implementation": {
                "description": f"CDSS read-only FHIR R4 server. {DISCLAIMER}",
                "url": links.base.rstrip("/"),
            },
            "fhirVersion": FHIR_VERSION,
            "format": ["json", "application/fhir+json"],
            "rest": [
                {
                    "mode": "server",
                    "documentation": (
                        "Read-only. Every read is audited. A patient outside your care team "
                        "reads and searches exactly like one that does not exist."
                    ),
                    "security": {
                        "cors": False,
                        "description": (
                            "Authorization: Bearer <access token>, the JWT of the CDSS REST API "
                            "(POST /api/v1/auth/token/). Not SMART on FHIR: no OAuth "
                            "authorization server, no scopes; the user's role and care team "
                            "decide what they may read."
                        ),
                    },
                    "resource": [
                        {
                            "type": resource_type,
                            "interaction": [{"code": code} for code in spec["interactions"]],
                            **({"searchParam": spec["search"]} if spec["search"] else {}),
                            **({"operation": spec["operations"]} if "operations" in spec else {}),
                        }
                        for resource_type, spec in SUPPORTED.items()
                    ],
                }
            ],
        },
    )
