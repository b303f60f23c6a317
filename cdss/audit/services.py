"""Writing audit events. Callers pass facts; request facts come from the request context."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from cdss.audit.models import AccessEvent
from cdss.common.request_context import get_request_context


def _base(user: Any) -> dict[str, Any]:
    ctx = get_request_context()
    authenticated = user is not None and getattr(user, "is_authenticated", False)
    return {
        "user_id": user.pk if authenticated else None,
        "request_id": ctx.request_id if ctx.request_id != "-" else "",
        "ip": ctx.ip,
        "user_agent": ctx.user_agent,
    }


def access_event_record(
    *,
    user: Any,
    action: str,
    outcome: str,
    patient_id: int | None = None,
    object_type: str = "",
    object_id: str = "",
) -> AccessEvent:
    return AccessEvent.objects.create(
        action=action,
        outcome=outcome,
        patient_id=patient_id,
        object_type=object_type,
        object_id=object_id,
        **_base(user),
    )


def access_events_record_many(
    *, user: Any, action: str, outcome: str, object_type: str, patient_ids: Iterable[int]
) -> None:
    """One event per patient in one query (a list page shows each of these patients)."""
    base = _base(user)
    AccessEvent.objects.bulk_create(
        [
            AccessEvent(
                action=action,
                outcome=outcome,
                patient_id=pid,
                object_type=object_type,
                object_id=str(pid),
                **base,
            )
            for pid in patient_ids
        ]
    )
