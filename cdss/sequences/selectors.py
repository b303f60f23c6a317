"""Reading inference logs: your own unlinked calls, and those linked to patients you may see.

A log linked to a patient follows the patient access rule, like every other patient child: it
leaves a clinician's history when they leave the care team or the patient is deleted.
"""

from __future__ import annotations

from django.db.models import QuerySet

from cdss.accounts.models import User
from cdss.patients.selectors import patient_linked_q
from cdss.sequences.models import InferenceLog


def inference_log_list_for_user(
    *, user: User, doctor: str | None = None, patient: str | None = None
) -> QuerySet[InferenceLog]:
    qs = InferenceLog.objects.filter(patient_linked_q(user=user, owner_field="user"))
    if doctor:
        qs = qs.filter(doctor_name=doctor)
    if patient:
        qs = qs.filter(patient_name=patient)
    return qs
