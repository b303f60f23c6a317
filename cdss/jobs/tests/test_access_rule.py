"""One rule decides who may see an analysis: the list, the detail, the artifacts and the live
status deliveries give the same answer for every user and every kind of analysis."""

from __future__ import annotations

import pytest
from django.utils import timezone

from cdss.jobs.consumers import _deliverable
from cdss.jobs.models import Analysis
from cdss.jobs.selectors import analysis_list_for_user, analysis_visible_to
from cdss.jobs.tests.factories import AnalysisFactory
from cdss.patients.tests.factories import PatientFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("media_root")]


def _answers(client, user, analysis: Analysis) -> dict[str, bool]:
    event = {
        "event_id": analysis.pk,
        "analysis_id": analysis.pk,
        "patient_id": analysis.patient_id,
        "requested_by_id": analysis.requested_by_id,
    }
    return {
        "list": analysis_list_for_user(user=user).filter(pk=analysis.pk).exists(),
        "selector": analysis_visible_to(user=user, analysis_id=analysis.pk),
        "detail": client.get(f"/api/v1/analyses/{analysis.pk}/").status_code == 200,
        "artifacts": client.get(f"/api/v1/analyses/{analysis.pk}/artifacts/").status_code == 200,
        "result": client.get(f"/api/v1/analyses/{analysis.pk}/result/").status_code != 404,
        "websocket": _deliverable(user.pk, event),
    }


def test_every_reader_of_an_analysis_asks_the_same_rule(
    make_client, clinician_a, clinician_b, admin_user, ml_engineer
):
    patient_a = PatientFactory(care_team=[clinician_a])
    left = PatientFactory(care_team=[clinician_a])
    deleted = PatientFactory(care_team=[clinician_a], deleted_at=timezone.now())
    analyses = {
        "a's patient": AnalysisFactory(patient=patient_a, requested_by=clinician_b),
        "a left the care team": AnalysisFactory(patient=left, requested_by=clinician_a),
        "deleted patient": AnalysisFactory(patient=deleted, requested_by=clinician_a),
        "no patient, a's": AnalysisFactory(patient=None, requested_by=clinician_a),
        "no patient, b's": AnalysisFactory(patient=None, requested_by=clinician_b),
    }
    left.care_team.remove(clinician_a)
    expected = {
        clinician_a: {"a's patient", "no patient, a's"},
        clinician_b: {"no patient, b's"},
        admin_user: {"a's patient", "a left the care team", "no patient, a's", "no patient, b's"},
        ml_engineer: set(),
    }
    for user, visible in expected.items():
        client = make_client(user)
        for label, analysis in analyses.items():
            answers = _answers(client, user, analysis)
            assert set(answers.values()) == {label in visible}, (user.username, label, answers)
