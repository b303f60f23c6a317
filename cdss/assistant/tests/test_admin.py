"""The Django admin: documents and prompts for staff; chat sessions read-only, their reads of a
patient's session recorded in the audit trail."""

from __future__ import annotations

import pytest
from django.test import Client

from cdss.assistant.models import ChatSession, Message
from cdss.audit.models import AccessEvent
from cdss.patients.tests.factories import PatientFactory

pytestmark = pytest.mark.django_db


def test_admin_pages_and_audited_session_reads(admin_user, clinician_a) -> None:
    admin_user.is_superuser = True
    admin_user.save()
    patient = PatientFactory(care_team=[clinician_a])
    session = ChatSession.objects.create(user=clinician_a, patient_id=patient.pk, title="q")
    Message.objects.create(session=session, role="user", content="results?")
    client = Client()
    client.force_login(admin_user)
    for page in ("document", "prompttemplate"):
        assert client.get(f"/admin/assistant/{page}/").status_code == 200
    assert client.get("/admin/assistant/chatsession/").status_code == 200
    opened = client.get(f"/admin/assistant/chatsession/{session.pk}/change/")
    assert opened.status_code == 200
    assert b"results?" in opened.content
    events = AccessEvent.objects.filter(object_type="chat_session").order_by("id")
    assert [(e.action, e.patient_id, e.object_id) for e in events] == [
        ("chat_session.list", patient.pk, str(session.pk)),
        ("chat_session.read", patient.pk, str(session.pk)),
    ]
    assert client.post(f"/admin/assistant/chatsession/{session.pk}/delete/").status_code == 403
