"""The audited access path to one patient, for every API that reads or changes patient data.

``patient_for_request`` returns the patient or raises the same 404 for a missing patient and for one
the user may not see, and writes exactly one audit event either way. Child objects (analyses, files,
reports) call it with their own object type and id so their reads are audited too.
"""

from __future__ import annotations

from django.http import Http404

from cdss.accounts.models import User
from cdss.audit.models import Outcome
from cdss.audit.services import access_event_record
from cdss.patients.models import Patient
from cdss.patients.selectors import patient_exists, patient_get_for_user


def patient_for_request(
    *,
    user: User,
    patient_id: int,
    action: str,
    object_type: str = "patient",
    object_id: str | None = None,
    audit_success: bool = True,
) -> Patient:
    """Returns the patient, or raises Http404; records one event. With ``audit_success=False`` the
    caller records the successful access itself (a service that audits its change in the same
    transaction), while refusals are still recorded here."""
    patient = patient_get_for_user(user=user, patient_id=patient_id)
    oid = object_id if object_id is not None else str(patient_id)
    if patient is None:
        exists = patient_exists(patient_id=patient_id)
        access_event_record(
            user=user,
            action=action,
            outcome=Outcome.DENIED if exists else Outcome.NOT_FOUND,
            patient_id=patient_id if exists else None,
            object_type=object_type,
            object_id=oid,
        )
        raise Http404("Not found.")
    if audit_success:
        access_event_record(
            user=user,
            action=action,
            outcome=Outcome.OK,
            patient_id=patient.pk,
            object_type=object_type,
            object_id=oid,
        )
    return patient
