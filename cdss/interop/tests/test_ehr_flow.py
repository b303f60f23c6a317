"""An EHR-like client against a running CDSS, over HTTP only (issue 16's "done when").

CDSS runs in a live server; the EHR has its own RS384 key, publishes its JWK Set on a local HTTP
server (port 8622, this suite's range) and signs a JWT for each hook call. It discovers the CDS
service, gets the card of a patient with a completed analysis, follows the card's link to the web
app's result page, logs in to CDSS with its integration account, finds the patient by MRN over
FHIR, reads the DiagnosticReport of the card's analysis and downloads its PDF (``presentedForm``),
then tells CDSS the card was accepted. The stored results were made the way a worker makes them:
the analysis completed through the jobs service, its interpretation and report analyses run.
"""

from __future__ import annotations

import http.server
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from django.utils import timezone

from cdss.accounts.models import Role, User
from cdss.accounts.tests.factories import UserFactory
from cdss.interop.tests.cds_ehr import Ehr, cached_key, hook_request
from cdss.jobs.models import Analysis, Status
from cdss.jobs.services import analysis_complete, analysis_execute
from cdss.jobs.tests.factories import AnalysisFactory
from cdss.patients.models import Patient
from cdss.patients.tests.factories import PatientFactory
from cdss.reports.tests.results import PAAD

pytest.importorskip("weasyprint", reason="the reports extra is not installed")

JWKS_PORT = 8622
MRN = "MRN-EHR-0001"
EHR_ISSUER = "https://ehr.hospital.example"
GATEWAY_PASSWORD = "ehr-gateway-test-password-1"


@pytest.fixture
def ehr(tmp_path: Path) -> Iterator[tuple[Ehr, str]]:
    """The EHR's key pair, its JWK Set served over HTTP as an EHR publishes it."""
    ehr = Ehr(
        key=cached_key("flow-ehr"),
        kid="flow-1",
        jwks_path=tmp_path / "jwks.json",
        issuer=EHR_ISSUER,
    )
    ehr.publish()
    body = ehr.jwks_path.read_bytes()

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", JWKS_PORT), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield ehr, f"http://127.0.0.1:{JWKS_PORT}/.well-known/jwks.json"
    finally:
        server.shutdown()
        server.server_close()


def _run_like_a_worker(sent: list[int]) -> None:
    """Runs every analysis handed to the broker, as a worker would, until none is left."""
    for _ in range(20):
        if not sent:
            return
        analysis_id = sent.pop(0)
        # A report waiting for its interpretation is handed back with a countdown: due now.
        Analysis.objects.filter(pk=analysis_id).update(next_attempt_at=timezone.now())
        analysis_execute(analysis_id=analysis_id)
    raise AssertionError(f"work left after 20 runs: {sent}")


@pytest.fixture
def stored(
    monkeypatch: pytest.MonkeyPatch, settings: Any, tmp_path: Path
) -> tuple[Patient, Analysis, User]:
    """A patient with a completed TCGA-PAAD analysis, its interpretation and its English PDF."""
    from config.celery import app

    settings.MEDIA_ROOT = tmp_path / "media"
    settings.CDSS_INTERPRETATION_LANGUAGES = ["en"]
    sent: list[int] = []
    # The broker is this test: what CDSS enqueues is run below, in order.
    monkeypatch.setattr(app, "send_task", lambda name, args, **kw: sent.append(args[0]))
    clinician = UserFactory(username="dr_park", role=Role.CLINICIAN)
    gateway = UserFactory(username="ehr_gateway", role=Role.CLINICIAN)
    gateway.set_password(GATEWAY_PASSWORD)
    gateway.save()
    patient = PatientFactory(mrn=MRN, care_team=[clinician, gateway])
    analysis = AnalysisFactory(
        patient=patient,
        requested_by=clinician,
        kind="omics_paad_survival",
        status=Status.PROCESSING,
        lease_token="held",
        inputs={},
    )
    assert analysis_complete(analysis_id=analysis.pk, lease_token="held", result=PAAD)
    _run_like_a_worker(sent)
    report = Analysis.objects.get(kind="report", inputs__analysis=analysis.pk)
    assert report.status == Status.COMPLETED, (report.error_code, report.error_message)
    analysis.refresh_from_db()
    return patient, analysis, clinician


def test_an_ehr_gets_cards_follows_the_link_and_reads_the_report_and_its_pdf(
    live_server: Any, settings: Any, tmp_path: Path, ehr: tuple[Ehr, str], stored: Any
) -> None:
    client, jwks_url = ehr
    patient, analysis, _ = stored
    base = live_server.url
    settings.CDSS_PUBLIC_URL = base
    settings.CDSS_CDS_HOOKS_CLIENTS = [
        {"issuer": EHR_ISSUER, "jwks_url": jwks_url, "user_mode": "named", "patient_id": "mrn"}
    ]
    dist = tmp_path / "dist"
    dist.mkdir()
    (dist / "index.html").write_text(
        '<!doctype html><html><head><script nonce="__CSP_NONCE__"></script></head>'
        '<body><div id="root"></div></body></html>'
    )
    settings.CDSS_WEB_DIST = dist

    with httpx.Client(base_url=base, timeout=30, follow_redirects=False) as http:
        # 1. Discovery.
        services = http.get("/cds-services").json()["services"]
        (service,) = [s for s in services if s["hook"] == "patient-view"]
        service_url = f"{base}/cds-services/{service['id']}"

        # 2. The hook, with a JWT the EHR signs for this service.
        token = client.token(aud=service_url)
        response = http.post(
            service_url,
            json=hook_request(MRN, "Practitioner/dr_park"),
            headers={"Authorization": f"Bearer {token}"},
        )
        assert response.status_code == 200, response.text
        (card,) = response.json()["cards"]
        assert card["indicator"] == "warning"
        assert card["summary"] == "Pancreatic cancer survival model: high-risk group"
        assert card["source"]["label"] == "CDSS tcga-paad-cox 2026.11.0 (not a medical device)"
        assert "Not a medical device" in card["detail"]

        # 3. The card's link opens the web app's result page.
        (link,) = card["links"]
        assert link["type"] == "absolute"
        assert link["url"] == f"{base}/analyses/{analysis.pk}"
        page = http.get(link["url"])
        assert page.status_code == 200
        assert page.headers["Content-Type"].startswith("text/html")
        assert '<div id="root">' in page.text

        # 4. FHIR, as the EHR's integration account: the patient by MRN, then its reports.
        login = http.post(
            "/api/v1/auth/token/",
            json={"username": "ehr_gateway", "password": GATEWAY_PASSWORD},
        )
        assert login.status_code == 200, login.text
        auth = {"Authorization": f"Bearer {login.json()['access']}"}
        found = http.get("/fhir/r4/Patient", params={"identifier": MRN}, headers=auth)
        assert found.status_code == 200, found.text
        (entry,) = found.json()["entry"]
        patient_id = entry["resource"]["id"]
        assert patient_id == str(patient.pk)
        reports = http.get(
            "/fhir/r4/DiagnosticReport", params={"patient": patient_id}, headers=auth
        ).json()
        report_ids = [e["resource"]["id"] for e in reports["entry"]]
        assert len(report_ids) == 1

        read = http.get(f"/fhir/r4/DiagnosticReport/{report_ids[0]}", headers=auth)
        assert read.status_code == 200, read.text
        assert read.headers["Content-Type"].startswith("application/fhir+json")
        report = read.json()
        assert report["resourceType"] == "DiagnosticReport"
        assert report["status"] == "final"
        assert report["subject"]["reference"] == f"Patient/{patient_id}"

        # 5. Its PDF.
        (form,) = [f for f in report["presentedForm"] if f.get("language") == "en"]
        assert form["contentType"] == "application/pdf"
        pdf = http.get(form["url"], headers=auth)
        assert pdf.status_code == 200, pdf.text[:200]
        assert pdf.headers["Content-Type"] == "application/pdf"
        assert pdf.content.startswith(b"%PDF")
        assert len(pdf.content) == form["size"]

        # 6. Feedback on the card.
        feedback = http.post(
            f"{service_url}/feedback",
            json={
                "feedback": [
                    {
                        "card": card["uuid"],
                        "outcome": "accepted",
                        "outcomeTimestamp": timezone.now().isoformat(),
                    }
                ]
            },
            headers={"Authorization": f"Bearer {client.token(aud=service_url)}"},
        )
        assert feedback.status_code == 200, feedback.text
