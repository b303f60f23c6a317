"""The audited access path to one patient file, for every API that reads one.

Like ``cdss.jobs.access.analysis_for_request``: the file's patient goes through
``cdss.patients.access.patient_for_request``, so a file of a patient outside the care team (or of
a deleted patient) is the same 404 as a missing file, and each call records exactly one audit
event (object type ``patient_file``).
"""

from __future__ import annotations

from django.http import Http404

from cdss.accounts.models import User
from cdss.audit.models import Outcome
from cdss.audit.services import access_event_record
from cdss.files.models import PatientFile
from cdss.patients.access import patient_for_request


def patient_file_for_request(*, user: User, file_id: int, action: str) -> PatientFile:
    """Returns the file or raises Http404; records one audit event either way."""
    # Read without the access rule only to find the patient whose rule decides.
    patient_file = PatientFile.objects.filter(pk=file_id).first()
    if patient_file is None:
        access_event_record(
            user=user,
            action=action,
            outcome=Outcome.NOT_FOUND,
            object_type="patient_file",
            object_id=str(file_id),
        )
        raise Http404("Not found.")
    patient_for_request(
        user=user,
        patient_id=patient_file.patient_id,
        action=action,
        object_type="patient_file",
        object_id=str(file_id),
    )
    return patient_file
