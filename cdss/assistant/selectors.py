"""Reads of the assistant's data, each taking ``user``.

A chat session is its owner's alone, and one linked to a patient is visible only while its owner
may see that patient (``cdss.patients.selectors``): someone else's session, a missing one and one
whose patient the owner lost are all ``None``, the same 404. A session's patient context (the
patient's completed analyses, as passages) is read through ``cdss.jobs.selectors``' one rule and
recorded in the audit trail, one event per analysis read.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import QuerySet

from cdss.accounts.models import User
from cdss.assistant.models import ChatSession, Document, Message, PromptTemplate
from cdss.audit.services import access_events_record_page
from cdss.jobs.models import Status
from cdss.jobs.selectors import analysis_list_for_user
from cdss.patients.selectors import patient_linked_q

# How many of the patient's most recent completed analyses a question may draw on.
PATIENT_CONTEXT_ANALYSES = 10


def chat_session_list_for_user(*, user: User) -> QuerySet[ChatSession]:
    if not user.is_authenticated or not user.is_active:
        return ChatSession.objects.none()
    # patient_linked_q lets administrators see every unlinked row; a session is its owner's alone.
    return ChatSession.objects.filter(
        patient_linked_q(user=user, owner_field="user"), user=user
    ).select_related("patient")


def chat_session_get_for_user(*, user: User, session_id: int) -> ChatSession | None:
    return chat_session_list_for_user(user=user).filter(pk=session_id).first()


def message_list(*, session: ChatSession) -> QuerySet[Message]:
    """The messages of a session reached through ``chat_session_get_for_user``."""
    return Message.objects.filter(session=session).order_by("created_at", "id")


def document_list() -> QuerySet[Document]:
    return Document.objects.all()


def document_get(*, document_id: int) -> Document | None:
    return Document.objects.filter(pk=document_id).first()


def prompt_template_list() -> QuerySet[PromptTemplate]:
    return PromptTemplate.objects.all()


def prompt_template_get(*, prompt_id: int) -> PromptTemplate | None:
    return PromptTemplate.objects.filter(pk=prompt_id).first()


def prompt_template_active(*, name: str, language: str) -> PromptTemplate | None:
    return PromptTemplate.objects.filter(name=name, language=language, active=True).first()


@dataclass(frozen=True)
class PatientPassage:
    analysis_id: int
    kind: str
    title: str
    text: str
    numbers: tuple[float, ...]


def patient_context(*, user: User, session: ChatSession, language: str) -> list[PatientPassage]:
    """The session's patient's completed analyses as passages (their results' sentences and
    latest interpretation), read through the access rule and audited
    (``assistant.patient_context``, one event per analysis). Empty for a session without a
    patient."""
    from cdss.reports.facts import INTERPRETABLE_KINDS, NotInterpretable, facts_for
    from cdss.reports.selectors import analysis_result_data, interpretation_latest

    if session.patient_id is None:
        return []
    analyses = list(
        analysis_list_for_user(user=user, patient_id=session.patient_id, status=Status.COMPLETED)
        .filter(kind__in=INTERPRETABLE_KINDS)
        .order_by("-completed_at", "-id")[:PATIENT_CONTEXT_ANALYSES]
    )
    passages = []
    for analysis in analyses:
        result = analysis_result_data(analysis=analysis) or {}
        try:
            facts = facts_for(analysis.kind, result)
        except NotInterpretable:
            continue
        text = facts.text(language)
        interpretation = interpretation_latest(analysis=analysis, language=language)
        if interpretation is not None and interpretation.text.strip() != text.strip():
            text = f"{text} {interpretation.text}"
        when = analysis.completed_at.date().isoformat() if analysis.completed_at else ""
        passages.append(
            PatientPassage(
                analysis_id=analysis.pk,
                kind=analysis.kind,
                title=f"Analysis #{analysis.pk} ({analysis.kind}, {when})",
                text=text,
                numbers=facts.numbers,
            )
        )
    access_events_record_page(
        user=user,
        action="assistant.patient_context",
        object_type="analysis",
        shown=[(session.patient_id, str(a.analysis_id)) for a in passages]
        or [(session.patient_id, "")],
    )
    return passages
