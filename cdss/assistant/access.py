"""The audited access path to chat sessions, for every API that reads or changes one.

Like ``cdss.patients.access.patient_for_request``: the same 404 for a missing session and for one
the user may not see (someone else's, or one whose patient the owner can no longer see). A refused
access to an existing session is recorded as denied (with its patient, if linked); a granted
access to a session linked to a patient is recorded as a read of that patient's data.
"""

from __future__ import annotations

from django.http import Http404

from cdss.accounts.models import User
from cdss.assistant.models import ChatSession
from cdss.assistant.selectors import chat_session_get_for_user
from cdss.audit.models import Outcome
from cdss.audit.services import access_event_record


def chat_session_for_request(
    *, user: User, session_id: int, action: str, audit_success: bool = True
) -> ChatSession:
    session = chat_session_get_for_user(user=user, session_id=session_id)
    if session is None:
        existing = ChatSession.objects.filter(pk=session_id).values_list("patient_id", flat=True)
        found = list(existing[:1])
        if found:
            access_event_record(
                user=user,
                action=action,
                outcome=Outcome.DENIED,
                patient_id=found[0],
                object_type="chat_session",
                object_id=str(session_id),
            )
        raise Http404("Not found.")
    if audit_success and session.patient_id is not None:
        access_event_record(
            user=user,
            action=action,
            outcome=Outcome.OK,
            patient_id=session.patient_id,
            object_type="chat_session",
            object_id=str(session.pk),
        )
    return session
