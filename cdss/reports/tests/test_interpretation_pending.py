"""GET /api/v1/analyses/{id}/interpretation/ while one is on its way: 202 with the job (a client
polls on it), 404 only when none is finished, queued or running."""

from __future__ import annotations

import pytest

from cdss.audit.models import AccessEvent
from cdss.jobs.models import Analysis, Status
from cdss.jobs.services import analysis_execute
from cdss.jobs.tests.factories import AnalysisFactory
from cdss.patients.tests.factories import PatientFactory
from cdss.reports.tests.test_api import _completed, _url

pytestmark = pytest.mark.django_db


def test_a_queued_interpretation_is_202_with_its_job_until_it_is_done(make_client, clinician_a):
    analysis = _completed(PatientFactory(care_team=[clinician_a]), clinician_a)
    client = make_client(clinician_a)
    assert client.get(_url(analysis, "en")).status_code == 404  # none, none coming
    job_id = client.post(_url(analysis, "en")).json()["id"]

    waiting = client.get(_url(analysis, "en"))
    assert waiting.status_code == 202, waiting.content
    assert waiting.json()["id"] == job_id
    assert waiting.json()["kind"] == "interpretation"
    assert waiting.json()["status"] == Status.PENDING
    assert waiting["Location"] == f"/api/v1/analyses/{job_id}/"
    # Another language has nothing on its way; no language at all: any language's job.
    assert client.get(_url(analysis, "ko")).status_code == 404
    assert client.get(_url(analysis)).status_code == 202

    analysis_execute(analysis_id=job_id)
    done = client.get(_url(analysis, "en"))
    assert done.status_code == 200 and done.json()["job"] == job_id
    reads = AccessEvent.objects.filter(action="analysis_interpretation.read")
    assert reads.count() == 5  # one per GET, whatever it answered


def test_a_failed_interpretation_is_404_again(make_client, clinician_a):
    analysis = _completed(PatientFactory(care_team=[clinician_a]), clinician_a)
    AnalysisFactory(
        patient=analysis.patient,
        requested_by=clinician_a,
        kind="interpretation",
        status=Status.FAILED,
        inputs={"analysis": analysis.pk, "language": "en"},
    )
    assert make_client(clinician_a).get(_url(analysis, "en")).status_code == 404


def test_someone_elses_pending_interpretation_is_the_same_404(
    make_client, clinician_a, clinician_b
):
    analysis = _completed(PatientFactory(care_team=[clinician_a]), clinician_a)
    make_client(clinician_a).post(_url(analysis, "en"))
    assert Analysis.objects.filter(kind="interpretation").count() == 1
    theirs = make_client(clinician_b).get(_url(analysis, "en"))
    missing = make_client(clinician_b).get("/api/v1/analyses/987654321/interpretation/?lang=en")
    assert theirs.status_code == missing.status_code == 404
    assert theirs.json() == missing.json()
