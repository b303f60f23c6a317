"""Stored outputs of analyses: analysis_artifact_store, the artifact list and the download
(streamed by Django, or handed to nginx with X-Accel-Redirect), access and audit."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from django.urls import reverse

from cdss.audit.models import AccessEvent, Outcome
from cdss.common.testing import PatientScopedRouteContract
from cdss.jobs import services
from cdss.jobs.models import Analysis, AnalysisArtifact, Status
from cdss.jobs.tests.factories import AnalysisFactory
from cdss.jobs.tests.kinds import PNG

pytestmark = pytest.mark.usefixtures("media_root")


def _running(patient, owner) -> Analysis:
    """A PROCESSING analysis held by an attempt (what a kind's run is given)."""
    analysis = AnalysisFactory(patient=patient, requested_by=owner, kind="test_plot")
    started = services.analysis_start(analysis_id=analysis.pk)
    assert started is not None
    return started


def _with_artifacts(patient, owner) -> Analysis:
    analysis = AnalysisFactory(patient=patient, requested_by=owner, kind="test_plot")
    services.analysis_execute(analysis_id=analysis.pk)
    return analysis


# --- the inherited cross-clinician contract -----------------------------------------------------


class TestAnalysisArtifactListRoute(PatientScopedRouteContract):
    route_name = "analysis-artifact-list"

    def url_kwargs(self, patient, owner):
        return {"analysis_id": _with_artifacts(patient, owner).pk}


class TestAnalysisArtifactRoute(PatientScopedRouteContract):
    route_name = "analysis-artifact"

    def url_kwargs(self, patient, owner):
        return {"analysis_id": _with_artifacts(patient, owner).pk, "name": "plot.png"}


# --- storing ------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_store_writes_the_file_then_the_row(media_root, clinician_a, patient_a):
    analysis = _running(patient_a, clinician_a)
    artifact = services.analysis_artifact_store(
        analysis=analysis, name="mask.nii.gz", content_type="application/gzip", data=b"\x1f\x8b1"
    )
    path = Path(media_root) / f"artifacts/{analysis.pk}/mask.nii.gz"
    assert path.read_bytes() == b"\x1f\x8b1"
    assert (artifact.file.name, artifact.size, artifact.content_type) == (
        f"artifacts/{analysis.pk}/mask.nii.gz",
        3,
        "application/gzip",
    )
    assert artifact.sha256 == hashlib.sha256(b"\x1f\x8b1").hexdigest()
    assert [p.name for p in path.parent.iterdir()] == ["mask.nii.gz"]  # no temporary left


@pytest.mark.django_db
def test_storing_a_name_again_replaces_it(media_root, clinician_a, patient_a):
    analysis = _running(patient_a, clinician_a)
    for data in (b"first", b"second, longer"):
        services.analysis_artifact_store(
            analysis=analysis, name="plot.png", content_type="image/png", data=data
        )
    artifact = AnalysisArtifact.objects.get(analysis=analysis)
    assert (artifact.size, artifact.sha256) == (14, hashlib.sha256(b"second, longer").hexdigest())
    assert artifact.file.read() == b"second, longer"


@pytest.mark.django_db
def test_a_superseded_attempt_stores_nothing(media_root, clinician_a, patient_a):
    analysis = _running(patient_a, clinician_a)
    services.analysis_cancel(user=clinician_a, analysis=analysis)
    with pytest.raises(services.AnalysisSuperseded):
        services.analysis_artifact_store(
            analysis=analysis, name="plot.png", content_type="image/png", data=PNG
        )
    assert not AnalysisArtifact.objects.exists()
    folder = Path(media_root) / f"artifacts/{analysis.pk}"
    assert not any(folder.iterdir())  # the temporary file went too


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("name", "content_type"),
    [
        ("..", "image/png"),
        (".hidden", "image/png"),
        ("a/b.png", "image/png"),
        ("x" * 101, "image/png"),
        ("", "image/png"),
        ("plot.png", "image png"),
        ("plot.png", "text/html; charset=utf-8"),
    ],
)
def test_store_refuses_unsafe_names_and_types(clinician_a, patient_a, name, content_type):
    analysis = _running(patient_a, clinician_a)
    with pytest.raises(ValueError):
        services.analysis_artifact_store(
            analysis=analysis, name=name, content_type=content_type, data=b"x"
        )
    assert not AnalysisArtifact.objects.exists()


# --- listing and downloading --------------------------------------------------------------------


@pytest.mark.django_db
def test_list_and_detail_show_each_artifact(make_client, clinician_a, patient_a):
    analysis = _with_artifacts(patient_a, clinician_a)
    client = make_client(clinician_a)
    body = client.get(reverse("analysis-artifact-list", kwargs={"analysis_id": analysis.pk}))
    assert body.status_code == 200
    listed = body.json()["results"]
    assert [a["name"] for a in listed] == ["plot.png", "report.pdf"]
    assert listed[0] == {
        "name": "plot.png",
        "content_type": "image/png",
        "size": len(PNG),
        "sha256": hashlib.sha256(PNG).hexdigest(),
        "url": f"/api/v1/analyses/{analysis.pk}/artifacts/plot.png",
    }
    detail = client.get(reverse("analysis-detail", kwargs={"analysis_id": analysis.pk})).json()
    assert detail["artifacts"] == listed


@pytest.mark.django_db
def test_download_streams_with_its_headers(make_client, clinician_a, patient_a):
    analysis = _with_artifacts(patient_a, clinician_a)
    client = make_client(clinician_a)
    png = client.get(f"/api/v1/analyses/{analysis.pk}/artifacts/plot.png")
    assert png.status_code == 200
    assert b"".join(png.streaming_content) == PNG
    assert png["Content-Type"] == "image/png"
    assert png["Content-Length"] == str(len(PNG))
    assert png["ETag"] == f'"{hashlib.sha256(PNG).hexdigest()}"'
    assert png["X-Content-Type-Options"] == "nosniff"
    assert png["Content-Disposition"].startswith("inline")
    pdf = client.get(f"/api/v1/analyses/{analysis.pk}/artifacts/report.pdf")
    assert pdf["Content-Type"] == "application/pdf"
    assert pdf["Content-Disposition"] == 'attachment; filename="report.pdf"'


@pytest.mark.django_db
def test_download_through_nginx_is_an_empty_accel_redirect(
    make_client, clinician_a, patient_a, settings
):
    settings.CDSS_MEDIA_ACCEL_REDIRECT = "/protected-media/"
    analysis = _with_artifacts(patient_a, clinician_a)
    response = make_client(clinician_a).get(f"/api/v1/analyses/{analysis.pk}/artifacts/report.pdf")
    assert response.status_code == 200 and response.content == b""
    assert response["X-Accel-Redirect"] == f"/protected-media/artifacts/{analysis.pk}/report.pdf"
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == 'attachment; filename="report.pdf"'
    assert response["X-Content-Type-Options"] == "nosniff"


@pytest.mark.django_db
def test_each_request_is_audited_once(make_client, clinician_a, clinician_b, patient_a):
    analysis = _with_artifacts(patient_a, clinician_a)
    base = f"/api/v1/analyses/{analysis.pk}/artifacts/"
    cases = [
        (clinician_a, base, "analysis_artifact.list", Outcome.OK),
        (clinician_a, f"{base}plot.png", "analysis_artifact.download", Outcome.OK),
        (clinician_a, f"{base}nothing.png", "analysis_artifact.download", Outcome.NOT_FOUND),
        (clinician_b, base, "analysis_artifact.list", Outcome.DENIED),
        (clinician_b, f"{base}plot.png", "analysis_artifact.download", Outcome.DENIED),
        (clinician_b, "/api/v1/analyses/987654/artifacts/", "analysis_artifact.list", "not_found"),
    ]
    for user, url, action, outcome in cases:
        before = AccessEvent.objects.count()
        make_client(user).get(url)
        assert AccessEvent.objects.count() == before + 1, url
        event = AccessEvent.objects.latest("id")
        assert (event.action, event.outcome, event.object_type) == (
            action,
            outcome,
            "analysis_artifact",
        ), url
        if outcome != "not_found":
            assert event.patient_id == patient_a.pk


@pytest.mark.django_db
def test_a_missing_artifact_of_your_own_analysis_is_the_same_404(
    make_client, clinician_a, patient_a
):
    analysis = _with_artifacts(patient_a, clinician_a)
    client = make_client(clinician_a)
    missing = client.get(f"/api/v1/analyses/{analysis.pk}/artifacts/nothing.png")
    unsafe = client.get(f"/api/v1/analyses/{analysis.pk}/artifacts/..")
    no_analysis = client.get("/api/v1/analyses/987654/artifacts/plot.png")
    assert missing.status_code == unsafe.status_code == no_analysis.status_code == 404
    assert missing.json() == no_analysis.json()


@pytest.mark.django_db
def test_patientless_analysis_artifacts_follow_the_same_rule(
    make_client, clinician_a, clinician_b, admin_user
):
    analysis = AnalysisFactory(patient=None, requested_by=clinician_a, kind="test_plot")
    running = services.analysis_start(analysis_id=analysis.pk)
    assert running is not None and running.status == Status.PROCESSING
    services.analysis_artifact_store(
        analysis=running, name="plot.png", content_type="image/png", data=PNG
    )
    url = f"/api/v1/analyses/{analysis.pk}/artifacts/plot.png"
    assert make_client(clinician_a).get(url).status_code == 200
    assert make_client(admin_user).get(url).status_code == 200
    assert make_client(clinician_b).get(url).status_code == 404
