"""Reads of CDS Hooks calls: who is asking, which patient, which analyses become cards.

The patient goes through the one access rule (``patient_get_for_user``) of the acting user: the
user ``context.userId`` names (``named`` clients) or the client's service account (``service``).
``cds_patient_pk`` resolves the client's identifier (an MRN, or our FHIR id: the Patient's
primary key) regardless of access, only so that a refused access is labelled in the audit trail
and then checked through the rule; it never returns patient data.
"""

from __future__ import annotations

import re

from django.db.models import QuerySet

from cdss.accounts.models import User
from cdss.interop.cds_hooks.clients import CdsClient
from cdss.interop.cds_hooks.rules import CARD_KINDS
from cdss.jobs.models import Analysis, Status
from cdss.jobs.selectors import analysis_list_for_user
from cdss.patients.models import Patient
from cdss.patients.selectors import patient_get_for_user

_PRACTITIONER = re.compile(r"^Practitioner/(?P<username>[^/]{1,150})$")
_MAX_DB_INT = 2**63 - 1


def cds_acting_user(*, client: CdsClient, user_ref: str) -> User | None:
    """The active CDSS user whose access rule applies, or None (no such user: nothing visible)."""
    if client.user_mode == "service":
        username = client.service_user
    else:
        match = _PRACTITIONER.match(user_ref)
        if match is None:
            return None
        username = match["username"]
    return User.objects.filter(username=username, is_active=True).first()


def cds_patient_pk(*, client: CdsClient, patient_ref: str) -> int | None:
    """The id of the (not deleted) patient the client's identifier names, regardless of access."""
    qs = Patient.objects.filter(deleted_at__isnull=True)
    if client.patient_id == "fhir_id":
        if not patient_ref.isascii() or not patient_ref.isdigit():
            return None
        value = int(patient_ref)
        if not 0 < value <= _MAX_DB_INT:
            return None
        qs = qs.filter(pk=value)
    else:
        qs = qs.filter(mrn=patient_ref)
    return qs.values_list("pk", flat=True).first()


def cds_patient_get(*, user: User | None, patient_pk: int | None) -> Patient | None:
    if user is None or patient_pk is None:
        return None
    return patient_get_for_user(user=user, patient_id=patient_pk)


def cds_card_analyses(*, user: User, patient: Patient, limit: int) -> QuerySet[Analysis]:
    """The newest completed analyses of the kinds that make cards, at most ``limit``, with their
    results (one query; the patient's (patient, created_at) index orders it)."""
    return (
        analysis_list_for_user(user=user, patient_id=patient.pk, status=Status.COMPLETED)
        .filter(kind__in=CARD_KINDS, result__isnull=False)
        .select_related("result")[:limit]
    )
