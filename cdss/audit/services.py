"""Writing audit events. Callers pass facts; request facts come from the request context."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from cdss.audit.models import AccessEvent, Outcome
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


def access_events_record_page(
    *,
    user: Any,
    action: str,
    object_type: str,
    shown: Iterable[tuple[int | None, str]],
) -> None:
    """Records a list page in one insert: one event per object shown, as (patient id, object id).

    An empty page still records that the list was read, with one event and no patient.
    """
    base = _base(user)
    events = [
        AccessEvent(
            action=action,
            outcome=Outcome.OK,
            patient_id=patient_id,
            object_type=object_type,
            object_id=object_id,
            **base,
        )
        for patient_id, object_id in shown
    ]
    if not events:
        events = [AccessEvent(action=action, outcome=Outcome.OK, object_type=object_type, **base)]
    AccessEvent.objects.bulk_create(events)


def access_event_list_read_record(*, user: Any, page: Iterable[AccessEvent]) -> None:
    """Reading the trail is itself recorded: one event per patient whose history was shown (and
    one without a patient when none was), so who looked at a patient's access history is known."""
    patients = sorted({e.patient_id for e in page if e.patient_id is not None})
    access_events_record_page(
        user=user,
        action="audit.list",
        object_type="access_event",
        shown=[(patient_id, "") for patient_id in patients],
    )
