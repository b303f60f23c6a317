"""The audited access path to one analysis, for every API that reads or changes one.

Like ``cdss.patients.access.patient_for_request`` (which it calls for analyses with a patient):
the same 404 for a missing analysis and for one the user may not see, and one audit event either
way, with object type ``analysis``.
"""

from __future__ import annotations

from django.http import Http404

from cdss.accounts.models import User
from cdss.audit.models import Outcome
from cdss.audit.services import access_event_record
from cdss.jobs.models import Analysis
from cdss.jobs.selectors import analysis_event_visible_to
from cdss.patients.access import patient_for_request


def analysis_for_request(
    *, user: User, analysis_id: int, action: str, audit_success: bool = True
) -> Analysis:
    """Returns the analysis or raises Http404; records one audit event either way (with
    ``audit_success=False`` the calling service records the successful access itself)."""
    analysis = Analysis.objects.filter(pk=analysis_id).first()
    if analysis is not None and analysis.patient_id is not None:
        patient_for_request(
            user=user,
            patient_id=analysis.patient_id,
            action=action,
            object_type="analysis",
            object_id=str(analysis_id),
            audit_success=audit_success,
        )
        return analysis
    visible = analysis is not None and analysis_event_visible_to(
        user=user, patient_id=None, requested_by_id=analysis.requested_by_id
    )
    if visible and not audit_success:
        assert analysis is not None
        return analysis
    access_event_record(
        user=user,
        action=action,
        outcome=Outcome.OK if visible else (Outcome.DENIED if analysis else Outcome.NOT_FOUND),
        object_type="analysis",
        object_id=str(analysis_id),
    )
    if not visible or analysis is None:
        raise Http404("Not found.")
    return analysis
