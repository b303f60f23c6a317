"""Reading inference logs: your own calls and those linked to patients you may see."""

from __future__ import annotations

from django.db.models import Q, QuerySet

from cdss.accounts.models import User
from cdss.patients.selectors import patient_list_for_user
from cdss.sequences.models import InferenceLog


def inference_log_list_for_user(
    *, user: User, doctor: str | None = None, patient: str | None = None
) -> QuerySet[InferenceLog]:
    qs = InferenceLog.objects.all()
    if not user.is_admin_role:
        visible = patient_list_for_user(user=user).values("pk")
        qs = qs.filter(Q(user=user) | Q(patient__in=visible))
    if doctor:
        qs = qs.filter(doctor_name=doctor)
    if patient:
        qs = qs.filter(patient_name=patient)
    return qs
