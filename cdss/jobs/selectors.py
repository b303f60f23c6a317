"""Every read of analyses and their artifacts, through one rule of who may see an analysis.

The rule (``analysis_visible_q``): an analysis with a patient is visible to whoever may see that
patient (``cdss.patients.selectors.patient_linked_q``, the patient access path); one without a
patient to its requester and to administrators. Lists, details, results, artifacts and the
WebSocket's deliveries all ask it, through the functions below, so they cannot drift apart. The
audited access path used by the API is ``cdss.jobs.access``.
"""

from __future__ import annotations

import re

from django.db.models import Q, QuerySet

from cdss.accounts.models import User
from cdss.jobs.models import ARTIFACT_NAME_PATTERN, Analysis, AnalysisArtifact
from cdss.patients.selectors import patient_linked_q

_ARTIFACT_NAME = re.compile(ARTIFACT_NAME_PATTERN)


def analysis_visible_q(*, user: User) -> Q:
    """The one rule: which analyses ``user`` may see, as a filter on ``Analysis``."""
    return patient_linked_q(user=user, owner_field="requested_by")


def analysis_list_for_user(
    *,
    user: User,
    patient_id: int | None = None,
    kind: str | None = None,
    status: str | None = None,
    exclude_kinds: list[str] | None = None,
) -> QuerySet[Analysis]:
    qs = Analysis.objects.filter(analysis_visible_q(user=user))
    if patient_id is not None:
        qs = qs.filter(patient_id=patient_id)
    if kind:
        qs = qs.filter(kind=kind)
    if exclude_kinds:
        qs = qs.exclude(kind__in=exclude_kinds)
    if status:
        qs = qs.filter(status=status)
    return qs.order_by("-created_at", "-id")


def analysis_get_for_user(*, user: User, analysis_id: int) -> Analysis | None:
    """The analysis, or None both when it is missing and when the user may not see it."""
    return analysis_list_for_user(user=user).filter(pk=analysis_id).first()


def analysis_visible_to(*, user: User, analysis_id: int) -> bool:
    """Whether ``user`` may see this analysis now (a status event of it may reach them)."""
    return analysis_list_for_user(user=user).filter(pk=analysis_id).exists()


def analysis_patient_id(*, analysis_id: int) -> tuple[bool, int | None]:
    """(exists, its patient id) regardless of access, used only to label a refused access in the
    audit trail (as ``cdss.patients.selectors.patient_exists`` is)."""
    row = Analysis.objects.filter(pk=analysis_id).values_list("patient_id", flat=True)
    found = list(row[:1])
    return (bool(found), found[0] if found else None)


def analysis_artifact_list(*, analysis: Analysis) -> QuerySet[AnalysisArtifact]:
    """The artifacts of an analysis the caller already reached through the rule."""
    return AnalysisArtifact.objects.filter(analysis=analysis).order_by("name")


def analysis_artifact_get_for_user(
    *, user: User, analysis_id: int, name: str
) -> AnalysisArtifact | None:
    """The artifact, or None when it, or its analysis, is missing or not the user's to see."""
    if not _ARTIFACT_NAME.match(name):
        return None
    return (
        AnalysisArtifact.objects.select_related("analysis")
        .filter(
            analysis__in=analysis_list_for_user(user=user).filter(pk=analysis_id).values("pk"),
            name=name,
        )
        .first()
    )
