"""The two things a CDS client does: ask for the cards of a patient, and tell us what the
clinician did with them. Both are atomic and write their audit record in the same unit.

``cds_patient_view`` reads only stored results (it never starts an analysis or calls the
inference server), records each card it issues (so feedback can be checked against it) and one
audit event for the call. A patient that is unknown, deleted, or not visible to the acting user
gives the same empty list of cards; the audit trail tells them apart.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import transaction

from cdss.audit.models import Outcome
from cdss.audit.services import access_event_record
from cdss.common.exceptions import invalid_input
from cdss.interop.cds_hooks.auth import VerifiedClient
from cdss.interop.cds_hooks.cards import card_json
from cdss.interop.cds_hooks.rules import card_content
from cdss.interop.cds_hooks.selectors import (
    cds_acting_user,
    cds_card_analyses,
    cds_patient_get,
    cds_patient_pk,
)
from cdss.interop.models import CdsFeedback, CdsIssuedCard

PATIENT_VIEW_ACTION = "cds_hooks.patient_view"
FEEDBACK_ACTION = "cds_hooks.feedback"


@transaction.atomic
def cds_patient_view(
    *,
    verified: VerifiedClient,
    hook_instance: uuid.UUID,
    patient_ref: str,
    user_ref: str,
    base_url: str,
    max_cards: int,
) -> list[dict[str, Any]]:
    """The cards of the patient ``patient_ref`` names, newest first; [] when none is visible."""
    client = verified.client
    user = cds_acting_user(client=client, user_ref=user_ref)
    patient_pk = cds_patient_pk(client=client, patient_ref=patient_ref)
    patient = cds_patient_get(user=user, patient_pk=patient_pk)
    if patient is None or user is None:
        access_event_record(
            user=user,
            action=PATIENT_VIEW_ACTION,
            outcome=Outcome.NOT_FOUND if patient_pk is None else Outcome.DENIED,
            patient_id=patient_pk,
            object_type="patient",
            object_id=str(patient_pk or ""),
        )
        return []
    with_detail = client.user_mode == "named"
    cards: list[dict[str, Any]] = []
    issued: list[CdsIssuedCard] = []
    for analysis in cds_card_analyses(user=user, patient=patient, limit=max_cards):
        content = card_content(
            kind=analysis.kind,
            result=analysis.result.data,
            model_fallback=(analysis.model_name, analysis.model_version),
        )
        card_uuid = uuid.uuid4()
        done = analysis.completed_at or analysis.created_at
        cards.append(
            card_json(
                card_uuid=str(card_uuid),
                content=content,
                kind=analysis.kind,
                analysis_id=analysis.pk,
                completed_at=done.strftime("%Y-%m-%d %H:%M UTC"),
                base_url=base_url,
                with_detail=with_detail,
            )
        )
        issued.append(
            CdsIssuedCard(
                uuid=card_uuid,
                issuer=client.issuer,
                hook_instance=hook_instance,
                analysis=analysis,
                user=user,
                indicator=content.indicator,
            )
        )
    CdsIssuedCard.objects.bulk_create(issued)
    access_event_record(
        user=user,
        action=PATIENT_VIEW_ACTION,
        outcome=Outcome.OK,
        patient_id=patient.pk,
        object_type="patient",
        object_id=str(patient.pk),
    )
    return cards


@dataclass(frozen=True)
class FeedbackEntry:
    card: uuid.UUID
    outcome: str
    outcome_timestamp: datetime
    override_reason: dict[str, Any]
    accepted_suggestions: list[dict[str, Any]]


@transaction.atomic
def cds_feedback_record(*, verified: VerifiedClient, entries: list[FeedbackEntry]) -> int:
    """Stores every entry, or none: a card this service did not issue to this client is a 400
    naming the entry. Returns how many were stored."""
    issuer = verified.client.issuer
    wanted = {entry.card for entry in entries}
    cards = {
        card.uuid: card
        for card in CdsIssuedCard.objects.select_related("analysis", "user").filter(
            uuid__in=wanted, issuer=issuer
        )
    }
    # Named as a serializer names an entry's field ("feedback.1.card").
    unknown = {
        i: {"card": ["Not a card this service issued to this client."]}
        for i, entry in enumerate(entries)
        if entry.card not in cards
    }
    if unknown:
        raise invalid_input({"feedback": unknown})
    CdsFeedback.objects.bulk_create(
        CdsFeedback(
            card=cards[entry.card],
            issuer=issuer,
            outcome=entry.outcome,
            override_reason=entry.override_reason,
            accepted_suggestions=entry.accepted_suggestions,
            outcome_timestamp=entry.outcome_timestamp,
        )
        for entry in entries
    )
    # One event per patient (and the user the cards were issued for) whose cards were rated.
    rated = {(c.analysis.patient_id, c.user_id): c for c in cards.values()}
    for (patient_id, _), card in sorted(rated.items(), key=lambda kv: str(kv[0])):
        access_event_record(
            user=card.user,
            action=FEEDBACK_ACTION,
            outcome=Outcome.OK,
            patient_id=patient_id,
            object_type="cds_card",
            object_id=str(card.uuid)[:64],
        )
    return len(entries)
