"""Interpretations end to end: chained after completion, on demand, read back; the access rule
(another clinician's analysis is the same 404 as a missing one) and the audit trail."""

from __future__ import annotations

import json

import pytest
from django.urls import reverse

from cdss.audit.models import AccessEvent, Outcome
from cdss.common.testing import PatientScopedRouteContract
from cdss.jobs.models import Analysis, AnalysisResult, Status
from cdss.jobs.services import analysis_complete, analysis_execute
from cdss.jobs.tests.factories import AnalysisFactory
from cdss.patients.tests.factories import PatientFactory
from cdss.reports.facts import facts_for
from cdss.reports.models import Interpretation
from cdss.reports.tests.llm_servers import server_process
from cdss.reports.tests.results import ROSMAP

pytestmark = pytest.mark.django_db


def _completed(patient, owner, *, kind="omics_rosmap", result=ROSMAP) -> Analysis:
    analysis = AnalysisFactory(
        patient=patient,
        requested_by=owner,
        kind=kind,
        status=Status.COMPLETED,
        inputs={"table_file": 1},
    )
    AnalysisResult.objects.create(analysis_id=analysis.pk, data=result)
    return analysis


def _interpretation_of(analysis: Analysis, language: str = "en") -> Interpretation:
    job = AnalysisFactory(
        patient=analysis.patient,
        requested_by=analysis.requested_by,
        kind="interpretation",
        status=Status.COMPLETED,
        inputs={"analysis": analysis.pk, "language": language},
    )
    return Interpretation.objects.create(
        analysis=analysis,
        job_id=job.pk,
        language=language,
        text=facts_for(analysis.kind, ROSMAP).text(language),
        generated_by="rules",
        provider="template",
        model="cdss-interpretation-template",
        prompt_version="test",
        guard_outcome="not_applicable",
    )


class TestAnalysisInterpretationRoute(PatientScopedRouteContract):
    route_name = "analysis-interpretation"
    methods = {"get": None, "post": None}

    def url_kwargs(self, patient, owner):
        analysis = _completed(patient, owner)
        _interpretation_of(analysis)
        return {"analysis_id": analysis.pk}


def _url(analysis: Analysis, language: str | None = None) -> str:
    url = reverse("analysis-interpretation", kwargs={"analysis_id": analysis.pk})
    return f"{url}?lang={language}" if language else url


def _run_pending_interpretations() -> list[Analysis]:
    pending = list(Analysis.objects.filter(kind="interpretation", status=Status.PENDING))
    for job in pending:
        analysis_execute(analysis_id=job.pk)
    return [Analysis.objects.get(pk=job.pk) for job in pending]


def test_every_completed_analysis_is_interpreted_in_korean_and_english(make_client, clinician_a):
    patient = PatientFactory(care_team=[clinician_a])
    analysis = AnalysisFactory(
        patient=patient,
        requested_by=clinician_a,
        kind="omics_rosmap",
        status=Status.PROCESSING,
        lease_token="held",
        inputs={"table_file": 1},
    )
    assert analysis_complete(analysis_id=analysis.pk, lease_token="held", result=ROSMAP)
    chained = Analysis.objects.filter(kind="interpretation").order_by("id")
    assert [(a.status, a.inputs["language"], a.patient_id) for a in chained] == [
        (Status.PENDING, "ko", patient.pk),
        (Status.PENDING, "en", patient.pk),
    ]
    assert {a.status for a in _run_pending_interpretations()} == {Status.COMPLETED}

    client = make_client(clinician_a)
    korean = client.get(_url(analysis, "ko")).json()
    assert korean["text"] == facts_for("omics_rosmap", ROSMAP).text("ko")
    assert korean["label"] == "결과로부터 규칙에 따라 생성"
    assert (korean["provider"], korean["guard_outcome"]) == ("template", "not_applicable")
    english = client.get(_url(analysis), HTTP_ACCEPT_LANGUAGE="en-GB,ko;q=0.5").json()
    assert english["language"] == "en" and "0.82 (82%)" in english["text"]
    assert english["label"] == "Generated from the result by rules"
    # An interpretation is not interpreted again.
    assert not Analysis.objects.filter(kind="interpretation", status=Status.PENDING).exists()


def test_a_kind_without_a_template_chains_nothing(clinician_a):
    analysis = AnalysisFactory(
        requested_by=clinician_a, status=Status.PROCESSING, lease_token="held"
    )
    assert analysis_complete(analysis_id=analysis.pk, lease_token="held", result={"held": 1.0})
    assert not Analysis.objects.filter(kind="interpretation").exists()


def test_on_demand_then_the_latest_is_shown(make_client, clinician_a):
    patient = PatientFactory(care_team=[clinician_a])
    analysis = _completed(patient, clinician_a)
    client = make_client(clinician_a)
    assert client.get(_url(analysis, "en")).status_code == 404  # none yet
    queued = client.post(_url(analysis, "en"))
    assert queued.status_code == 202, queued.content
    assert queued["Location"] == f"/api/v1/analyses/{queued.json()['id']}/"
    assert queued.json()["kind"] == "interpretation"
    _run_pending_interpretations()
    first = client.get(_url(analysis, "en")).json()
    client.post(_url(analysis, "en"))
    _run_pending_interpretations()
    latest = client.get(_url(analysis, "en")).json()
    assert latest["id"] != first["id"] and latest["job"] > first["job"]
    assert client.get(_url(analysis, "ko")).status_code == 404
    assert client.get(_url(analysis, "fr")).status_code == 400


def test_an_analysis_without_a_result_or_a_template_is_refused(make_client, clinician_a):
    patient = PatientFactory(care_team=[clinician_a])
    client = make_client(clinician_a)
    running = AnalysisFactory(patient=patient, requested_by=clinician_a, kind="omics_rosmap")
    refused = client.post(_url(running, "en"))
    assert refused.status_code == 400 and "no result yet" in refused.json()["error"]
    other_kind = _completed(patient, clinician_a, kind="pipeline_check", result={"ok": True})
    refused = client.post(_url(other_kind, "en"))
    assert refused.status_code == 400 and "no interpretation" in refused.json()["error"]


def test_someone_elses_analysis_is_the_same_400_through_the_analyses_api(
    make_client, clinician_a, clinician_b
):
    theirs = _completed(PatientFactory(care_team=[clinician_a]), clinician_a)
    mine = PatientFactory(care_team=[clinician_b])
    other = make_client(clinician_b)

    def submit(analysis_id: int):
        return other.post(
            "/api/v1/analyses/",
            {
                "kind": "interpretation",
                "patient": mine.pk,
                "inputs": {"analysis": analysis_id, "language": "ko"},
            },
            format="json",
        )

    refused, missing = submit(theirs.pk), submit(987654321)
    assert refused.status_code == missing.status_code == 400
    assert refused.json() == missing.json()


def test_reads_are_audited(make_client, clinician_a, clinician_b):
    analysis = _completed(PatientFactory(care_team=[clinician_a]), clinician_a)
    _interpretation_of(analysis, "ko")
    assert make_client(clinician_a).get(_url(analysis, "ko")).status_code == 200
    assert make_client(clinician_b).get(_url(analysis, "ko")).status_code == 404
    events = AccessEvent.objects.filter(
        action="analysis_interpretation.read", object_id=str(analysis.pk)
    ).order_by("id")
    assert [(e.user_id, e.outcome, e.patient_id) for e in events] == [
        (clinician_a.pk, Outcome.OK, analysis.patient_id),
        (clinician_b.pk, Outcome.DENIED, analysis.patient_id),
    ]


def test_a_refused_generated_answer_is_stored_as_the_template_with_why(
    settings, make_client, clinician_a
):
    analysis = _completed(PatientFactory(care_team=[clinician_a]), clinician_a)
    negated = (
        "The rosmap-omics 2026.11.0 model says this is not Alzheimer's disease (probability "
        "0.82). Not a medical device; for decision support only."
    )
    with server_process("canned", json.dumps([{"text": negated}])) as url:
        settings.CDSS_INTERPRETATION_PROVIDER = "openai"
        settings.CDSS_LLM_BASE_URL = url
        make_client(clinician_a).post(_url(analysis, "en"))
        (job,) = _run_pending_interpretations()
    assert job.status == Status.COMPLETED and job.model_version
    shown = make_client(clinician_a).get(_url(analysis, "en")).json()
    assert (shown["provider"], shown["guard_outcome"], shown["generated_by"]) == (
        "openai",
        "fell_back",
        "rules",
    )
    assert shown["text"] == facts_for("omics_rosmap", ROSMAP).text("en")
    assert shown["attempts"] == 2 and all("negated" in n for n in shown["guard_notes"])
    assert "fallback from canned" in shown["model"]
