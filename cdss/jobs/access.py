"""The audited access path to analyses and their artifacts, for every API that reads or changes one.

Like ``cdss.patients.access.patient_for_request``: the same 404 for a missing object and for one
the user may not see (``cdss.jobs.selectors``' one rule decides which), and one audit event per
request either way, with object type ``analysis`` or ``analysis_artifact``.
"""

from __future__ import annotations

from django.db.models import QuerySet
from django.http import Http404

from cdss.accounts.models import User
from cdss.audit.models import Outcome
from cdss.audit.services import access_event_record
from cdss.jobs.models import Analysis, AnalysisArtifact
from cdss.jobs.selectors import (
    analysis_artifact_get_for_user,
    analysis_artifact_list,
    analysis_get_for_user,
    analysis_list_for_user,
    analysis_patient_id,
)
from cdss.patients.access import patient_for_request


def _refused(
    *, user: User, analysis_id: int, action: str, object_type: str, object_id: str
) -> Http404:
    """Records a refused access (denied when the analysis exists, else not found)."""
    exists, patient_id = analysis_patient_id(analysis_id=analysis_id)
    access_event_record(
        user=user,
        action=action,
        outcome=Outcome.DENIED if exists else Outcome.NOT_FOUND,
        patient_id=patient_id,
        object_type=object_type,
        object_id=object_id,
    )
    return Http404("Not found.")


def analysis_for_request(
    *,
    user: User,
    analysis_id: int,
    action: str,
    audit_success: bool = True,
    object_type: str = "analysis",
) -> Analysis:
    """Returns the analysis or raises Http404; records one audit event either way (with
    ``audit_success=False`` the calling service records the successful access itself).
    ``object_type`` names what was read through it (the analysis, or its artifacts)."""
    analysis = analysis_get_for_user(user=user, analysis_id=analysis_id)
    if analysis is None:
        raise _refused(
            user=user,
            analysis_id=analysis_id,
            action=action,
            object_type=object_type,
            object_id=str(analysis_id),
        )
    if audit_success:
        access_event_record(
            user=user,
            action=action,
            outcome=Outcome.OK,
            patient_id=analysis.patient_id,
            object_type=object_type,
            object_id=str(analysis_id),
        )
    return analysis


def analysis_list_for_request(
    *,
    user: User,
    patient_id: int | None = None,
    kind: str | None = None,
    status: str | None = None,
    exclude_kinds: list[str] | None = None,
) -> QuerySet[Analysis] | None:
    """The analyses the user may see, filtered; the caller records the page it shows (one event
    per analysis shown). None for a patient filter naming someone else's patient, which lists
    like a missing one (nothing): that refusal, with its patient, is recorded here instead."""
    if patient_id is not None:
        try:
            patient_for_request(
                user=user,
                patient_id=patient_id,
                action="analysis.list",
                object_type="analysis",
                audit_success=False,
            )
        except Http404:
            return None
    return analysis_list_for_user(
        user=user, patient_id=patient_id, kind=kind, status=status, exclude_kinds=exclude_kinds
    )


def analysis_artifacts_for_request(*, user: User, analysis_id: int) -> QuerySet[AnalysisArtifact]:
    """An analysis's artifacts, or Http404 for an analysis the user may not see; one audit event
    (``analysis_artifact.list``) either way."""
    analysis = analysis_for_request(
        user=user,
        analysis_id=analysis_id,
        action="analysis_artifact.list",
        object_type="analysis_artifact",
    )
    return analysis_artifact_list(analysis=analysis)


def analysis_artifact_for_request(*, user: User, analysis_id: int, name: str) -> AnalysisArtifact:
    """One artifact to download, or Http404 (the same for a missing artifact, a missing analysis
    and someone else's); one audit event (``analysis_artifact.download``) either way."""
    action = "analysis_artifact.download"
    object_id = f"{analysis_id}/{name}"[:64]
    artifact = analysis_artifact_get_for_user(user=user, analysis_id=analysis_id, name=name)
    if artifact is None:
        visible = analysis_get_for_user(user=user, analysis_id=analysis_id)
        if visible is not None:  # the user's own analysis, without that artifact
            access_event_record(
                user=user,
                action=action,
                outcome=Outcome.NOT_FOUND,
                patient_id=visible.patient_id,
                object_type="analysis_artifact",
                object_id=object_id,
            )
            raise Http404("Not found.")
        raise _refused(
            user=user,
            analysis_id=analysis_id,
            action=action,
            object_type="analysis_artifact",
            object_id=object_id,
        )
    access_event_record(
        user=user,
        action=action,
        outcome=Outcome.OK,
        patient_id=artifact.analysis.patient_id,
        object_type="analysis_artifact",
        object_id=object_id,
    )
    return artifact
