"""The audited access path of every FHIR read: the REST API's rule, the REST API's 404.

A resource id that does not parse, a missing object and someone else's object are the same 404,
and each request records exactly one audit event (``cdss.audit``): through
``cdss.patients.access.patient_for_request`` and ``cdss.jobs.access.analysis_for_request`` where
they fit, else here with the same outcomes. A search names its patient; a patient the user may not
see searches like one that does not exist (an empty result), and that refusal is recorded too.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from django.http import Http404

from cdss.accounts.models import User
from cdss.audit.models import AccessEvent, Outcome
from cdss.audit.selectors import access_event_list
from cdss.audit.services import (
    access_event_list_read_record,
    access_event_record,
    access_events_record_page,
)
from cdss.files.models import FileRole, PatientFile
from cdss.interop.fhir.ids import (
    device_resource_id,
    parse_analysis_resource_id,
    parse_file_resource_id,
    parse_plain_id,
)
from cdss.interop.fhir.selectors import AnalysisRecord, analysis_record, device_versions
from cdss.jobs.access import analysis_for_request
from cdss.patients.access import patient_for_request
from cdss.patients.models import Patient
from cdss.patients.selectors import patient_list_for_user

T = TypeVar("T")
# An id or an MRN names one patient; the cap only bounds a query that names many.
PATIENT_SEARCH_MAX = 100


def _action(resource_type: str, interaction: str) -> str:
    return f"fhir.{resource_type.lower()}.{interaction}"


def _not_found(
    *, user: User, resource_type: str, resource_id: str, patient_id: int | None = None
) -> Http404:
    access_event_record(
        user=user,
        action=_action(resource_type, "read"),
        outcome=Outcome.NOT_FOUND,
        patient_id=patient_id,
        object_type=resource_type,
        object_id=resource_id[:64],
    )
    return Http404("Not found.")


def fhir_patient_for_request(*, user: User, resource_id: str, interaction: str = "read") -> Patient:
    """Patient/{id} (``read``) or Patient/{id}/$everything (``everything``)."""
    patient_id = parse_plain_id(resource_id)
    if patient_id is None:
        raise _not_found(user=user, resource_type="Patient", resource_id=resource_id)
    return patient_for_request(
        user=user,
        patient_id=patient_id,
        action=_action("Patient", interaction),
        object_type="Patient",
        object_id=resource_id,
    )


def fhir_search_patient(
    *, user: User, resource_type: str, patient_id: int | None, query: str
) -> Patient | None:
    """The patient a search names, or None (searches as nothing) for a missing one or someone
    else's; one audit event either way, its object the query."""
    if patient_id is None:
        access_event_record(
            user=user,
            action=_action(resource_type, "search"),
            outcome=Outcome.NOT_FOUND,
            object_type=resource_type,
            object_id=query[:64],
        )
        return None
    try:
        return patient_for_request(
            user=user,
            patient_id=patient_id,
            action=_action(resource_type, "search"),
            object_type=resource_type,
            object_id=query[:64],
        )
    except Http404:
        return None


def fhir_patient_search(
    *, user: User, ids: list[int] | None, mrns: list[str] | None
) -> list[Patient]:
    """Patient?_id= / ?identifier=: the visible patients matching both (None: not searched on);
    one audit event per patient found, or one for an empty result."""
    patients = patient_list_for_user(user=user)
    if ids is not None:
        patients = patients.filter(pk__in=ids)
    if mrns is not None:
        patients = patients.filter(mrn__in=mrns)
    found = list(patients.order_by("pk")[:PATIENT_SEARCH_MAX])
    access_events_record_page(
        user=user,
        action=_action("Patient", "search"),
        object_type="Patient",
        shown=[(p.pk, str(p.pk)) for p in found],
    )
    return found


def fhir_analysis_resource_for_request(
    *,
    user: User,
    resource_type: str,
    resource_id: str,
    pick: Callable[[AnalysisRecord], T | None],
) -> T:
    """A resource derived from one completed analysis (DiagnosticReport ``a<id>``, Observation or
    RiskAssessment ``a<id>-<key>``): ``pick`` finds it in the analysis's record; Http404 when the
    id does not parse, the analysis is missing, someone else's, not served as FHIR, or has no such
    finding. One audit event either way."""
    ref = parse_analysis_resource_id(resource_id)
    if ref is None:
        raise _not_found(user=user, resource_type=resource_type, resource_id=resource_id)
    analysis = analysis_for_request(
        user=user,
        analysis_id=ref.analysis_id,
        action=_action(resource_type, "read"),
        audit_success=False,
        object_type=resource_type,
    )
    record = analysis_record(analysis=analysis)
    found = pick(record) if record is not None else None
    if found is None:
        raise _not_found(
            user=user,
            resource_type=resource_type,
            resource_id=resource_id,
            patient_id=analysis.patient_id,
        )
    access_event_record(
        user=user,
        action=_action(resource_type, "read"),
        outcome=Outcome.OK,
        patient_id=analysis.patient_id,
        object_type=resource_type,
        object_id=resource_id,
    )
    return found


def fhir_ct_volume_for_request(*, user: User, resource_id: str) -> PatientFile:
    """DocumentReference/f<id>: an uploaded CT volume, through its patient's access rule."""
    file_id = parse_file_resource_id(resource_id)
    volume = (
        PatientFile.objects.filter(pk=file_id, role=FileRole.CT_VOLUME).first()
        if file_id is not None
        else None
    )
    if volume is None:
        raise _not_found(user=user, resource_type="DocumentReference", resource_id=resource_id)
    patient_for_request(
        user=user,
        patient_id=volume.patient_id,
        action=_action("DocumentReference", "read"),
        object_type="DocumentReference",
        object_id=resource_id,
    )
    return volume


def fhir_device_for_request(*, user: User, resource_id: str) -> tuple[str, str]:
    """Device/{id}: a model version behind some served analysis (not patient data, so any
    signed-in user may read it); audited like every read."""
    found = next(
        (v for v in device_versions() if device_resource_id(*v) == resource_id),
        None,
    )
    if found is None:
        raise _not_found(user=user, resource_type="Device", resource_id=resource_id)
    access_event_record(
        user=user,
        action=_action("Device", "read"),
        outcome=Outcome.OK,
        object_type="Device",
        object_id=resource_id[:64],
    )
    return found


def fhir_audit_events_for_request(
    *, user: User, patient_id: int | None, count: int
) -> list[AccessEvent]:
    """AuditEvent search, administrators only (others: the audit app's 403, itself recorded).
    Reading the trail is recorded as ``cdss.audit`` records it."""
    events = list(access_event_list(user=user, patient_id=patient_id)[:count])
    access_event_list_read_record(user=user, page=events)
    return events


def fhir_audit_event_for_request(*, user: User, resource_id: str) -> AccessEvent:
    event_id = parse_plain_id(resource_id)
    queryset = access_event_list(user=user)
    event = queryset.filter(pk=event_id).first() if event_id is not None else None
    if event is None:
        raise _not_found(user=user, resource_type="AuditEvent", resource_id=resource_id)
    access_event_list_read_record(user=user, page=[event])
    return event
