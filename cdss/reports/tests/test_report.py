"""PDF reports end to end: chained after completion (waiting for the interpretation), on demand,
downloaded; checked the way a person reads them: pages rendered to PNG (pdftoppm), the text
extracted (pdftotext), the Korean font embedded (pdffonts)."""

from __future__ import annotations

import re
import shutil
import subprocess
from datetime import date
from pathlib import Path

import pytest
from django.urls import reverse
from django.utils import timezone

from cdss.audit.models import AccessEvent, Outcome
from cdss.common.testing import PatientScopedRouteContract
from cdss.jobs.models import Analysis, AnalysisArtifact, AnalysisResult, Status
from cdss.jobs.services import analysis_complete, analysis_execute
from cdss.jobs.tests.factories import AnalysisFactory
from cdss.patients.tests.factories import PatientFactory
from cdss.reports import services
from cdss.reports.tests.results import PAAD, ROSMAP, sequence_batch

pytest.importorskip("weasyprint", reason="the reports extra is not installed")
pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(
        not all(shutil.which(tool) for tool in ("pdftoppm", "pdftotext", "pdffonts")),
        reason="poppler-utils is not installed",
    ),
]


def _completed(patient, owner, *, kind="omics_rosmap", result=ROSMAP) -> Analysis:
    analysis = AnalysisFactory(
        patient=patient,
        requested_by=owner,
        kind=kind,
        status=Status.COMPLETED,
        completed_at=timezone.now(),
        inputs={},
    )
    AnalysisResult.objects.create(analysis_id=analysis.pk, data=result)
    return analysis


def _report(analysis: Analysis, owner, language: str = "ko") -> Analysis:
    job = services.report_request(user=owner, analysis=analysis, language=language)
    analysis_execute(analysis_id=job.pk)
    job.refresh_from_db()
    assert job.status == Status.COMPLETED, (job.error_code, job.error_message)
    return job


class TestAnalysisReportRoute(PatientScopedRouteContract):
    route_name = "analysis-report"
    methods = {"get": None, "post": None}

    def url_kwargs(self, patient, owner):
        analysis = _completed(patient, owner)
        _report(analysis, owner, "en")
        return {"analysis_id": analysis.pk}


def _pdf_of(job: Analysis) -> bytes:
    artifact = AnalysisArtifact.objects.get(analysis=job)
    with artifact.file.storage.open(artifact.file.name, "rb") as handle:
        return handle.read()


def _read(pdf: bytes, tmp_path: Path) -> tuple[str, str, list[Path]]:
    tmp_path.mkdir(parents=True, exist_ok=True)
    path = tmp_path / "report.pdf"
    path.write_bytes(pdf)
    text = subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], capture_output=True, check=True, text=True
    ).stdout
    fonts = subprocess.run(
        ["pdffonts", str(path)], capture_output=True, check=True, text=True
    ).stdout
    subprocess.run(["pdftoppm", "-r", "40", "-png", str(path), str(tmp_path / "page")], check=True)
    return text, fonts, sorted(tmp_path.glob("page*.png"))


def test_a_korean_report_shows_the_patient_the_numbers_and_the_disclaimer(clinician_a, tmp_path):
    patient = PatientFactory(
        care_team=[clinician_a], name="홍길동", mrn="MRN-0042", birth_date=date(1980, 1, 2)
    )
    analysis = _completed(patient, clinician_a)
    job = _report(analysis, clinician_a, "ko")
    result = job.result.data
    assert (result["artifact"], result["language"]) == ("report-ko.pdf", "ko")
    pdf = _pdf_of(job)
    text, fonts, pages = _read(pdf, tmp_path)
    for expected in ("홍길동", "MRN-0042", "1980-01-02", "0.82(82%)", "AI 분석 보고서"):
        assert expected in text, expected
    assert "의료기기가 아니며, 의사결정 보조용으로만 사용합니다." in text
    assert "결과로부터 규칙에 따라 생성" in text  # the interpretation's label
    assert "rosmap-omics" in text and "2026.11.0" in text
    assert re.search(rf"\b1\s*/\s*{result['pages']}\b", text)  # the page numbers, n / N
    assert f"#{job.pk}" in text
    assert "Noto-Sans-CJK-KR" in fonts and " yes yes " in fonts.split("Noto-Sans-CJK-KR", 1)[1]
    assert len(pages) == result["pages"] and all(p.read_bytes()[:4] == b"\x89PNG" for p in pages)


def test_an_english_report_of_a_sequence_batch_has_its_figure(clinician_a, tmp_path):
    analysis = _completed(
        None, clinician_a, kind="sequence_batch", result=sequence_batch(0.97, 0.1)
    )
    job = _report(analysis, clinician_a, "en")
    text, _, pages = _read(_pdf_of(job), tmp_path)
    assert "Not a medical device; for decision support only." in text
    assert "Pathogen probability per sequence" in text or "probabilities.png" in text
    assert "0.970" in text and "0.100" in text and "s2" in text
    assert len(pages) >= 1


def test_every_completed_analysis_gets_a_korean_and_an_english_pdf_after_its_interpretation(
    make_client, clinician_a, tmp_path
):
    patient = PatientFactory(care_team=[clinician_a])
    analysis = AnalysisFactory(
        patient=patient,
        requested_by=clinician_a,
        kind="omics_paad_survival",
        status=Status.PROCESSING,
        lease_token="held",
        inputs={},
    )
    assert analysis_complete(analysis_id=analysis.pk, lease_token="held", result=PAAD)
    reports = list(Analysis.objects.filter(kind="report").order_by("id"))
    assert [r.inputs["language"] for r in reports] == ["ko", "en"]
    # A report whose interpretation is still queued waits for it (RunLater), without a sleep.
    analysis_execute(analysis_id=reports[0].pk)
    reports[0].refresh_from_db()
    assert reports[0].status == Status.PROCESSING and reports[0].state == {"waits": 1}
    for job in Analysis.objects.filter(kind="interpretation"):
        analysis_execute(analysis_id=job.pk)
    Analysis.objects.filter(kind="report").update(next_attempt_at=timezone.now())
    for job in reports:
        analysis_execute(analysis_id=job.pk)
        job.refresh_from_db()
        assert job.status == Status.COMPLETED and job.result.data["interpretation"]

    client = make_client(clinician_a)
    url = reverse("analysis-report", kwargs={"analysis_id": analysis.pk})
    for language, marker in (("ko", "고위험군"), ("en", "high-risk group")):
        response = client.get(f"{url}?lang={language}")
        assert response.status_code == 200
        assert response["Content-Type"] == "application/pdf"
        assert f"report-{language}.pdf" in response["Content-Disposition"]
        pdf = b"".join(response.streaming_content)
        text, _, _ = _read(pdf, tmp_path / language)
        assert marker in text
    events = AccessEvent.objects.filter(action="analysis_report.download", outcome=Outcome.OK)
    assert events.count() == 2


def test_on_demand_queues_a_report_and_someone_else_gets_404(make_client, clinician_a, clinician_b):
    analysis = _completed(PatientFactory(care_team=[clinician_a]), clinician_a)
    url = reverse("analysis-report", kwargs={"analysis_id": analysis.pk})
    assert make_client(clinician_a).get(url).status_code == 404  # none yet
    queued = make_client(clinician_a).post(f"{url}?lang=en")
    assert queued.status_code == 202 and queued.json()["kind"] == "report"
    assert make_client(clinician_b).post(f"{url}?lang=en").status_code == 404
    denied = AccessEvent.objects.filter(action="analysis_report.create", outcome=Outcome.DENIED)
    assert denied.count() == 1
