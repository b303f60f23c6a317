"""The FHIR views: parse the id or search parameters, call one access function, build, render.

Views whose URL names one patient's resource derive from ``PatientScopedApi`` too, so the
inherited cross-clinician contract (``cdss/patients/tests/test_access.py``) covers them. Searches
name their patient in the query; a patient the user may not see gives the same empty Bundle as
a missing one (tested in ``cdss/interop/tests/test_fhir_search.py``).
"""

from __future__ import annotations

import re
from typing import Any

from django.conf import settings
from django.utils.translation.trans_real import parse_accept_lang_header
from rest_framework.exceptions import NotFound
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response

from cdss.accounts.models import User
from cdss.common.exceptions import ApplicationError
from cdss.common.serializers import MAX_DB_INT
from cdss.interop.fhir import access
from cdss.interop.fhir.capability import SUPPORTED, capability_statement
from cdss.interop.fhir.http import FhirApi
from cdss.interop.fhir.ids import parse_plain_id
from cdss.interop.fhir.resources import (
    Links,
    Resource,
    analysis_resources,
    audit_event_resource,
    bundle_resource,
    ct_volume_resource,
    device_resource,
    patient_resource,
)
from cdss.interop.fhir.selectors import patient_ct_volumes, patient_records
from cdss.patients.apis import PatientScopedApi
from cdss.patients.models import Patient

# A patient search value: "123", "Patient/123" or this server's own absolute URL of it (another
# server's Patient/123 is another patient).
_PATIENT_REFERENCE = re.compile(r"^(?:Patient/)?([0-9]{1,19})$")
AUDIT_PAGE_DEFAULT = 100
AUDIT_PAGE_MAX = 500


def _links(request: Request) -> Links:
    return Links(absolute=request.build_absolute_uri)


def _language(request: Request) -> str | None:
    """The language of the interpretation shown as ``conclusion``: the first of Accept-Language
    that is ko or en; else the latest interpretation in any language."""
    for code, _ in parse_accept_lang_header(request.headers.get("Accept-Language", "")):
        primary = code.split("-")[0].lower()
        if primary in ("ko", "en"):
            return primary
    return None


def _user(request: Request) -> User:
    return request.user  # type: ignore[return-value]


def _mrn_system() -> str:
    return str(settings.CDSS_FHIR_MRN_SYSTEM)


def _one_param(request: Request, name: str) -> str | None:
    values = request.query_params.getlist(name)
    if len(values) > 1:
        raise ApplicationError(f"Search parameter {name!r} may be given once.")
    return values[0] if values else None


def _patient_param(request: Request) -> tuple[int | None, str]:
    """The patient a search names (``patient`` or ``subject``), as (id or None if it names no
    possible patient, the query as given); 400 when it names none at all."""
    given = [(n, v) for n in ("patient", "subject") if (v := _one_param(request, n)) is not None]
    if len(given) != 1:
        raise ApplicationError(
            "Search parameter 'patient' (or 'subject') is required, once: "
            "this server searches one patient's record at a time."
        )
    name, value = given[0]
    return _patient_id(request, value), f"{name}={value}"


def _patient_id(request: Request, value: str) -> int | None:
    value = value.strip().removeprefix(_links(request).base)
    match = _PATIENT_REFERENCE.match(value)
    patient_id = int(match.group(1)) if match else None
    return patient_id if patient_id is not None and 0 < patient_id <= MAX_DB_INT else None


def _ok(resource: Resource) -> Response:
    return Response(resource)


class MetadataApi(FhirApi):
    """GET /fhir/r4/metadata: the CapabilityStatement; public, like any FHIR server's."""

    authentication_classes: list[Any] = []
    permission_classes = [AllowAny]

    def get(self, request: Request) -> Response:
        return _ok(capability_statement(links=_links(request)))


class PatientReadApi(FhirApi, PatientScopedApi):
    def get(self, request: Request, resource_id: str) -> Response:
        patient = access.fhir_patient_for_request(user=_user(request), resource_id=resource_id)
        return _ok(patient_resource(patient, mrn_system=_mrn_system()))


def _patient_everything(request: Request, patient: Patient) -> Resource:
    links = _links(request)
    language = _language(request)
    matches: list[Resource] = [patient_resource(patient, mrn_system=_mrn_system())]
    models: dict[tuple[str, str], None] = {}  # the models named, in order, once each
    for record in patient_records(user=_user(request), patient=patient):
        built = analysis_resources(record, links=links, language=language)
        matches += built.all_served()
        if record.analysis.model_name:
            models[(record.analysis.model_name, record.analysis.model_version)] = None
    matches += [ct_volume_resource(v, links=links) for v in patient_ct_volumes(patient=patient)]
    return bundle_resource(
        bundle_type="searchset",
        self_url=request.build_absolute_uri(),
        matches=matches,
        includes=[device_resource(name, version, links=links) for name, version in models],
        links=links,
    )


class PatientEverythingApi(FhirApi, PatientScopedApi):
    """GET Patient/{id}/$everything: the patient and every resource of theirs served here, with
    the Devices (models) their results name, as one searchset Bundle."""

    def get(self, request: Request, resource_id: str) -> Response:
        patient = access.fhir_patient_for_request(
            user=_user(request), resource_id=resource_id, interaction="everything"
        )
        return _ok(_patient_everything(request, patient))


class PatientSearchApi(FhirApi):
    """GET Patient?_id= or ?identifier=[system|]mrn: among the patients the user may see (an EHR
    finds its patient by MRN); each patient found is audited as a list page audits it."""

    def get(self, request: Request) -> Response:
        raw_id, identifier = _one_param(request, "_id"), _one_param(request, "identifier")
        if raw_id is None and identifier is None:
            raise ApplicationError("Search parameter '_id' or 'identifier' is required.")
        ids = None
        if raw_id is not None:
            patient_id = parse_plain_id(raw_id.strip())
            ids = [patient_id] if patient_id is not None else []
        mrns = None
        if identifier is not None:
            system, bar, value = identifier.rpartition("|")
            # FHIR token search: "value" (any system), "system|value"; another system than the
            # MRN's names none of our patients.
            mrns = [value] if value and (not bar or system in ("", _mrn_system())) else []
        found = access.fhir_patient_search(user=_user(request), ids=ids, mrns=mrns)
        return _ok(
            bundle_resource(
                bundle_type="searchset",
                self_url=request.build_absolute_uri(),
                matches=[patient_resource(p, mrn_system=_mrn_system()) for p in found],
                links=_links(request),
            )
        )


class _AnalysisResourceReadApi(FhirApi, PatientScopedApi):
    resource_type: str

    def get(self, request: Request, resource_id: str) -> Response:
        links, language = _links(request), _language(request)
        resource = access.fhir_analysis_resource_for_request(
            user=_user(request),
            resource_type=self.resource_type,
            resource_id=resource_id,
            pick=lambda record: analysis_resources(record, links=links, language=language).by_id(
                self.resource_type, resource_id
            ),
        )
        return _ok(resource)


class DiagnosticReportReadApi(_AnalysisResourceReadApi):
    resource_type = "DiagnosticReport"


class ObservationReadApi(_AnalysisResourceReadApi):
    resource_type = "Observation"


class RiskAssessmentReadApi(_AnalysisResourceReadApi):
    resource_type = "RiskAssessment"


class _PatientSearchApi(FhirApi):
    """``<type>?patient=<id>``: the patient's resources of one type, or an empty Bundle for a
    patient that is missing or not the user's (the same, byte for byte, but the self link)."""

    resource_type: str

    def matches(self, request: Request, patient: Patient) -> list[Resource]:
        links, language = _links(request), _language(request)
        found: list[Resource] = []
        for record in patient_records(user=_user(request), patient=patient):
            built = analysis_resources(record, links=links, language=language)
            found += built.served(self.resource_type)
        return found

    def get(self, request: Request) -> Response:
        patient_id, query = _patient_param(request)
        patient = access.fhir_search_patient(
            user=_user(request),
            resource_type=self.resource_type,
            patient_id=patient_id,
            query=query,
        )
        return _ok(
            bundle_resource(
                bundle_type="searchset",
                self_url=request.build_absolute_uri(),
                matches=self.matches(request, patient) if patient is not None else [],
                links=_links(request),
            )
        )


class DiagnosticReportSearchApi(_PatientSearchApi):
    resource_type = "DiagnosticReport"


class ObservationSearchApi(_PatientSearchApi):
    resource_type = "Observation"


class RiskAssessmentSearchApi(_PatientSearchApi):
    resource_type = "RiskAssessment"


class DocumentReferenceSearchApi(_PatientSearchApi):
    resource_type = "DocumentReference"

    def matches(self, request: Request, patient: Patient) -> list[Resource]:
        links = _links(request)
        return [ct_volume_resource(v, links=links) for v in patient_ct_volumes(patient=patient)]


class DocumentReferenceReadApi(FhirApi, PatientScopedApi):
    """GET DocumentReference/f{id}: an uploaded CT volume (its bytes: the file content route)."""

    def get(self, request: Request, resource_id: str) -> Response:
        volume = access.fhir_ct_volume_for_request(user=_user(request), resource_id=resource_id)
        return _ok(ct_volume_resource(volume, links=_links(request)))


class DeviceReadApi(FhirApi):
    """GET Device/{id}: one model version, with its model card link."""

    def get(self, request: Request, resource_id: str) -> Response:
        name, version = access.fhir_device_for_request(user=_user(request), resource_id=resource_id)
        return _ok(device_resource(name, version, links=_links(request)))


class AuditEventSearchApi(FhirApi):
    """GET AuditEvent[?patient=][&_count=]: the audit trail, newest first; administrators only."""

    def get(self, request: Request) -> Response:
        raw_patient, raw_count = _one_param(request, "patient"), _one_param(request, "_count")
        patient_id = None
        if raw_patient is not None:
            patient_id = _patient_id(request, raw_patient)
            if patient_id is None:
                raise ApplicationError("Search parameter 'patient' must be a patient id.")
        count = AUDIT_PAGE_DEFAULT
        if raw_count is not None:
            if not raw_count.isdigit() or not 1 <= int(raw_count) <= AUDIT_PAGE_MAX:
                raise ApplicationError(f"_count must be a number from 1 to {AUDIT_PAGE_MAX}.")
            count = int(raw_count)
        events = access.fhir_audit_events_for_request(
            user=_user(request), patient_id=patient_id, count=count
        )
        return _ok(
            bundle_resource(
                bundle_type="searchset",
                self_url=request.build_absolute_uri(),
                matches=[audit_event_resource(e) for e in events],
                links=_links(request),
            )
        )


class AuditEventReadApi(FhirApi):
    def get(self, request: Request, resource_id: str) -> Response:
        event = access.fhir_audit_event_for_request(user=_user(request), resource_id=resource_id)
        return _ok(audit_event_resource(event))


class UnknownApi(FhirApi):
    """Any other path under /fhir/r4/: a type this server does not serve, or an interaction it
    does not support on one it does (both 404 OperationOutcome, naming which)."""

    def get(self, request: Request, resource_type: str, rest: str = "") -> Response:
        if not resource_type:
            raise NotFound("Name a resource type: see /fhir/r4/metadata for those served here.")
        if resource_type in SUPPORTED:
            raise NotFound(
                f"{resource_type}: this path is not supported here (see /fhir/r4/metadata)."
            )
        raise NotFound(f"Unknown resource type: {resource_type[:64]!r}.")
