"""Who may see which patient. The only place that answers that question.

Administrators see every patient; a clinician sees the patients whose care team includes them;
anyone else sees none. A missing patient and someone else's patient are the same: ``None``.
"""

from __future__ import annotations

from django.db.models import Q, QuerySet

from cdss.accounts.models import User
from cdss.patients.models import Patient


def _visible_to(user: User) -> QuerySet[Patient]:
    qs = Patient.objects.filter(deleted_at__isnull=True)
    if not user.is_authenticated or not user.is_active:
        return qs.none()
    if user.is_admin_role:
        return qs
    if user.is_clinician:
        return qs.filter(care_team=user)
    return qs.none()


def patient_list_for_user(*, user: User, search: str | None = None) -> QuerySet[Patient]:
    qs = _visible_to(user)
    if search:
        qs = qs.filter(Q(name__icontains=search) | Q(mrn__icontains=search))
    return qs.prefetch_related("care_team").distinct()


def patient_linked_q(*, user: User, owner_field: str, patient_field: str = "patient") -> Q:
    """Which rows of a patient-linked table ``user`` may see, as a filter.

    A row linked to a patient follows that patient (so it disappears when the user leaves the care
    team or the patient is deleted); a row without a patient belongs to its owner, and
    administrators see all of those.
    """
    if not user.is_authenticated or not user.is_active:
        return Q(pk__in=[])
    visible = Q(**{f"{patient_field}__in": _visible_to(user).order_by().values("pk")})
    unlinked = Q(**{f"{patient_field}__isnull": True})
    if user.is_admin_role:
        return visible | unlinked
    return visible | (unlinked & Q(**{owner_field: user}))


def patient_get_for_user(*, user: User, patient_id: int) -> Patient | None:
    return _visible_to(user).prefetch_related("care_team").filter(pk=patient_id).first()


def patient_exists(*, patient_id: int) -> bool:
    """Existence regardless of access, used only to label a refused access in the audit trail."""
    return Patient.objects.filter(pk=patient_id, deleted_at__isnull=True).exists()
