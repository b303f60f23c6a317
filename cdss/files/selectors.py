"""Every read of patient files, always through the patient access rule.

A file is visible to whoever may see its patient (``cdss.patients.selectors.patient_linked_q``):
it disappears when the user leaves the care team or the patient is deleted. A missing file and
someone else's file are the same: ``None``. These selectors do not audit; the API's audited path
is ``cdss.files.access``, and an analysis audits its own submission.
"""

from __future__ import annotations

from django.db.models import QuerySet

from cdss.accounts.models import User
from cdss.files.models import PatientFile
from cdss.patients.models import Patient
from cdss.patients.selectors import patient_linked_q


def patient_file_list_for_user(
    *, user: User, patient_id: int | None = None, role: str | None = None
) -> QuerySet[PatientFile]:
    qs = PatientFile.objects.filter(patient_linked_q(user=user, owner_field="uploaded_by"))
    if patient_id is not None:
        qs = qs.filter(patient_id=patient_id)
    if role:
        qs = qs.filter(role=role)
    return qs.order_by("-created_at", "-id")


def patient_file_get_for_user(
    *,
    user: User,
    file_id: int,
    patient: Patient | int | None = None,
    role: str | None = None,
) -> PatientFile | None:
    """The file, or None when it is missing, not visible to ``user``, of another patient than
    ``patient`` (a Patient or its id) or of another role than ``role``.

    For the analysis platform: an analysis's inputs name a file by id, and its ``prepare()``
    resolves it here against the analysis's patient and the role the input needs.
    """
    patient_id = patient.pk if isinstance(patient, Patient) else patient
    qs = patient_file_list_for_user(user=user, patient_id=patient_id, role=role)
    return qs.filter(pk=file_id).first()
