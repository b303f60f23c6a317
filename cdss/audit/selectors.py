"""Reading audit events: administrators only."""

from __future__ import annotations

from datetime import datetime

from django.db.models import QuerySet

from cdss.accounts.models import User
from cdss.audit.models import AccessEvent
from cdss.common.exceptions import ApplicationError


class AuditForbidden(ApplicationError):
    status_code = 403


def access_event_list(
    *,
    user: User,
    user_id: int | None = None,
    patient_id: int | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    action: str | None = None,
    outcome: str | None = None,
) -> QuerySet[AccessEvent]:
    if not user.is_admin_role:
        raise AuditForbidden("Only administrators can read the audit trail.")
    qs = AccessEvent.objects.all()
    if user_id is not None:
        qs = qs.filter(user_id=user_id)
    if patient_id is not None:
        qs = qs.filter(patient_id=patient_id)
    if since is not None:
        qs = qs.filter(occurred_at__gte=since)
    if until is not None:
        qs = qs.filter(occurred_at__lt=until)
    if action:
        qs = qs.filter(action=action)
    if outcome:
        qs = qs.filter(outcome=outcome)
    return qs
