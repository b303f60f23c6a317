"""Every read of analyses, always through the patient access selectors.

An analysis with a patient is visible to whoever may see that patient
(``cdss.patients.selectors.patient_list_for_user``); one without a patient to its requester and to
administrators. The audited access path used by the API is ``cdss.jobs.access``.
"""

from __future__ import annotations

from django.db.models import QuerySet

from cdss.accounts.models import User
from cdss.jobs.models import Analysis
from cdss.patients.selectors import patient_get_for_user, patient_linked_q


def analysis_list_for_user(
    *,
    user: User,
    patient_id: int | None = None,
    kind: str | None = None,
    status: str | None = None,
) -> QuerySet[Analysis]:
    qs = Analysis.objects.filter(patient_linked_q(user=user, owner_field="requested_by"))
    if patient_id is not None:
        qs = qs.filter(patient_id=patient_id)
    if kind:
        qs = qs.filter(kind=kind)
    if status:
        qs = qs.filter(status=status)
    return qs.order_by("-created_at", "-id")


def analysis_get_for_user(*, user: User, analysis_id: int) -> Analysis | None:
    """The analysis, or None both when it is missing and when the user may not see it."""
    return analysis_list_for_user(user=user).filter(pk=analysis_id).first()


def analysis_event_visible_to(
    *, user: User, patient_id: int | None, requested_by_id: int | None
) -> bool:
    """Whether a status event of an analysis with this patient/requester may reach ``user``."""
    if not user.is_authenticated or not user.is_active:
        return False
    if patient_id is not None:
        return patient_get_for_user(user=user, patient_id=patient_id) is not None
    return user.is_admin_role or (requested_by_id is not None and requested_by_id == user.pk)
