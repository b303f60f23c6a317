"""FHIR reads end to end over HTTP with a JWT: each resource type (valid R4 per
``fhir.resources`` round-trip), content negotiation, OperationOutcome errors, and one audit event
per read."""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse
from fhir.resources.R4B import get_fhir_model_class
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.capabilitystatement import CapabilityStatement
from fhir.resources.R4B.device import Device
from fhir.resources.R4B.diagnosticreport import DiagnosticReport
from fhir.resources.R4B.documentreference import DocumentReference
from fhir.resources.R4B.observation import Observation
from fhir.resources.R4B.operationoutcome import OperationOutcome
from fhir.resources.R4B.patient import Patient as FhirPatient
from fhir.resources.R4B.riskassessment import RiskAssessment

from cdss.audit.models import AccessEvent, Outcome
from cdss.interop.fhir.capability import SUPPORTED
from cdss.interop.fhir.valuesets import resource_problems
from cdss.interop.tests.fhir_fixtures import (
    CT_WITH_LESIONS,
    PAAD,
    ROSMAP,
    SEQUENCES,
    completed_ct,
    completed_paad,
    completed_rosmap,
    completed_sequences,
)
from cdss.jobs.models import Analysis, AnalysisArtifact, Status
from cdss.jobs.tests.factories import AnalysisFactory
from cdss.patients.tests.factories import PatientFactory
from cdss.reports.models import Interpretation

pytestmark = pytest.mark.django_db

FHIR_JSON = "application/fhir+json"


@pytest.fixture(autouse=True)
def _own_media_root(media_root):
    return media_root


def _get(client, path: str, **extra: Any):
    return client.get(f"/fhir/r4/{path}", **extra)


def _fhir(response, status: int = 200) -> dict[str, Any]:
    assert response.status_code == status, response.content
    assert response["Content-Type"].split(";")[0] == FHIR_JSON
    return response.json()


def _components(resource: dict[str, Any]) -> dict[str, Any]:
    return {
        c["code"]["text"]: next(v for k, v in c.items() if k.startswith("value"))
        for c in resource.get("component", [])
    }


@pytest.fixture
def patient(clinician_a):
    return PatientFactory(care_team=[clinician_a], mrn="MRN-77", name="Kim Minji", sex="female")


def test_metadata_states_what_is_served(make_client):
    body = _fhir(_get(make_client(None), "metadata"))
    statement = CapabilityStatement.model_validate(body)
    assert statement.model_dump(mode="json", exclude_none=True) == body
    assert statement.fhirVersion == "4.0.1" and "json" in (statement.format or [])
    resources = {r["type"]: r for r in body["rest"][0]["resource"]}
    assert set(resources) == set(SUPPORTED)
    assert [i["code"] for i in resources["Device"]["interaction"]] == ["read"]
    assert resources["Patient"]["operation"][0]["name"] == "everything"
    assert "Bearer" in body["rest"][0]["security"]["description"]
    assert "Not a medical device" in body["implementation"]["description"]


def test_every_supported_search_answers(make_client, admin_user, patient):
    client = make_client(admin_user)
    for resource_type, spec in SUPPORTED.items():
        if "search-type" not in spec["interactions"]:
            continue
        query = {"Patient": "_id", "AuditEvent": "patient"}.get(resource_type, "patient")
        body = _fhir(_get(client, f"{resource_type}?{query}={patient.pk}"))
        assert body["type"] == "searchset", resource_type


def test_patient_is_as_stored(make_client, clinician_a, patient, settings):
    settings.CDSS_FHIR_MRN_SYSTEM = "urn:oid:1.2.3.4"
    patient.birth_date = "1961-02-03"
    patient.save()
    body = _fhir(_get(make_client(clinician_a), f"Patient/{patient.pk}"))
    FhirPatient.model_validate(body)
    assert body["identifier"][0]["system"] == "urn:oid:1.2.3.4"
    assert body["identifier"][0]["value"] == "MRN-77"
    assert (body["name"][0]["text"], body["gender"], body["birthDate"]) == (
        "Kim Minji",
        "female",
        "1961-02-03",
    )
    assert resource_problems(body) == []


def test_ct_report_observations_and_document(make_client, clinician_a, patient):
    analysis = completed_ct(patient, clinician_a)
    client = make_client(clinician_a)
    report = _fhir(_get(client, f"DiagnosticReport/a{analysis.pk}"))
    DiagnosticReport.model_validate(report)
    assert report["status"] == "final"
    assert report["category"][0]["coding"][0] == {
        "system": "http://terminology.hl7.org/CodeSystem/v2-0074",
        "code": "CT",
    }
    assert report["subject"] == {"reference": f"Patient/{patient.pk}"}
    results = [r["reference"] for r in report["result"]]
    assert results == [
        f"Observation/a{analysis.pk}-organ-volumes",
        f"Observation/a{analysis.pk}-body-composition",
        f"Observation/a{analysis.pk}-liver-lesions",
        f"Observation/a{analysis.pk}-adrenal",
    ]
    # The stored interpretation, labelled with how it was written and by what.
    assert report["conclusion"].startswith("Generated from the result by rules (")
    assert "Not a medical device" in report["conclusion"]
    stored = Interpretation.objects.filter(analysis=analysis).order_by("-created_at", "-id")[0]
    assert report["conclusion"].endswith("\n\n" + stored.text)
    # One PDF per language: the report job's artifact, through the artifact route.
    forms = {f["language"]: f for f in report["presentedForm"]}
    assert set(forms) == {"ko", "en"}
    for language, form in forms.items():
        artifact = AnalysisArtifact.objects.get(
            name=f"report-{language}.pdf", analysis__inputs__analysis=analysis.pk
        )
        assert form["contentType"] == "application/pdf" and form["size"] == artifact.size
        assert form["url"] == "http://testserver" + reverse(
            "analysis-artifact",
            kwargs={"analysis_id": artifact.analysis_id, "name": artifact.name},
        )
        pdf = client.get(form["url"])
        assert pdf.status_code == 200 and b"".join(pdf.streaming_content)[:5] == b"%PDF-"

    organs = _fhir(_get(client, results[0]))
    Observation.model_validate(organs)
    liver = _components(organs)
    assert liver["liver volume"] == {
        "value": 1532.4,
        "unit": "mL",
        "system": "http://unitsofmeasure.org",
        "code": "mL",
    }
    assert liver["liver mean attenuation"]["code"] == "[hnsf'U]"
    assert liver["liver mean attenuation"]["value"] == 58.2
    assert organs["category"][0]["coding"][0]["code"] == "imaging"
    assert organs["device"]["reference"] == "Device/cdss-ct-2026.11.0"
    volume = analysis.inputs["volume_file"]
    assert organs["derivedFrom"] == [{"reference": f"DocumentReference/f{volume}"}]
    assert "Not a medical device" in organs["note"][0]["text"]

    body = _components(_fhir(_get(client, f"Observation/a{analysis.pk}-body-composition")))
    assert body["visceral fat area at L3"]["value"] == 96.1
    assert body["visceral fat area at L3"]["code"] == "cm2"
    lesions = _components(_fhir(_get(client, f"Observation/a{analysis.pk}-liver-lesions")))
    assert lesions["liver lesion count"] == CT_WITH_LESIONS["liver"]["lesion_count"]
    assert lesions["lesion 1 longest axial diameter"]["value"] == 24.5
    assert lesions["lesion 2 volume"]["value"] == 4.2

    document = _fhir(_get(client, f"DocumentReference/f{volume}"))
    DocumentReference.model_validate(document)
    attachment = document["content"][0]["attachment"]
    assert attachment["title"] == "abdomen.nii"
    assert attachment["url"].endswith(reverse("patient-file-content", kwargs={"file_id": volume}))


def test_sequence_results_and_pathogen_risk(make_client, clinician_a, patient):
    analysis = completed_sequences(patient, clinician_a)
    client = make_client(clinician_a)
    report = _fhir(_get(client, f"DiagnosticReport/a{analysis.pk}"))
    assert report["category"][0]["coding"][0]["code"] == "MB"
    assert [r["reference"] for r in report["result"]] == [
        f"Observation/a{analysis.pk}-seq-0",
        f"Observation/a{analysis.pk}-seq-1",
    ]
    first = _components(_fhir(_get(client, f"Observation/a{analysis.pk}-seq-0")))
    stored = SEQUENCES["results"][0]["prediction"]
    assert first["task 1: pathogen probability"]["value"] == stored["task1"]["probability"]
    assert first["task 1: pathogen"] is True
    assert first["task 2: protein type"] == "spike"
    assert first["task 3: protein"] == "Spike glycoprotein"
    assert (
        _components(_fhir(_get(client, f"Observation/a{analysis.pk}-seq-1")))["task 1: pathogen"]
        is False
    )
    risk = _fhir(_get(client, f"RiskAssessment/a{analysis.pk}-seq-0-pathogen"))
    RiskAssessment.model_validate(risk)
    assert risk["prediction"][0]["probabilityDecimal"] == 0.9731
    assert risk["performer"]["reference"] == "Device/pathogen-seq-2026.11.0"
    assert risk["basis"] == [{"reference": f"Observation/a{analysis.pk}-seq-0"}]

    device = _fhir(_get(client, "Device/pathogen-seq-2026.11.0"))
    Device.model_validate(device)
    assert device["deviceName"] == [{"name": "pathogen-seq", "type": "model-name"}]
    assert device["version"] == [{"value": "2026.11.0"}]
    assert device["url"] == "http://testserver/api/v1/models/pathogen-seq/2026.11.0/card/"
    assert "Not a medical device" in device["note"][0]["text"]


def test_omics_class_and_paad_risk(make_client, clinician_a, patient):
    rosmap = completed_rosmap(patient, clinician_a, reports=False)
    paad = completed_paad(patient, clinician_a, reports=False)
    client = make_client(clinician_a)
    cls = _fhir(_get(client, f"Observation/a{rosmap.pk}-omics-class"))
    assert cls["valueCodeableConcept"] == {"text": ROSMAP["predicted_class"]}
    assert _components(cls)["probability of AD"]["value"] == ROSMAP["probabilities"]["AD"]
    report = _fhir(_get(client, f"DiagnosticReport/a{rosmap.pk}"))
    assert report["category"][0]["coding"][0]["code"] == "GE"
    assert "presentedForm" not in report  # no report was made: none is listed

    risk_obs = _components(_fhir(_get(client, f"Observation/a{paad.pk}-omics-risk")))
    assert risk_obs["risk group"] == "high"
    assert risk_obs["group median survival"]["code"] == "d"
    assert risk_obs["predicted survival at 365 days"]["value"] == PAAD["predicted_survival"]["365"]
    risk = _fhir(_get(client, f"RiskAssessment/a{paad.pk}-paad-risk"))
    RiskAssessment.model_validate(risk)
    assert risk["prediction"][0]["qualitativeRisk"]["coding"][0]["code"] == "high"
    survival = {
        p["whenRange"]["high"]["value"]: p["probabilityDecimal"] for p in risk["prediction"][1:]
    }
    assert survival == {float(d): p for d, p in PAAD["predicted_survival"].items()}
    assert risk["performer"]["reference"] == "Device/tcga-paad-cox-2026.11.0"
    assert "C-index" in risk["note"][0]["text"]


def test_conclusion_follows_accept_language(make_client, clinician_a, patient):
    analysis = completed_rosmap(patient, clinician_a, reports=False)
    client = make_client(clinician_a)
    korean = _fhir(_get(client, f"DiagnosticReport/a{analysis.pk}", HTTP_ACCEPT_LANGUAGE="ko"))
    english = _fhir(_get(client, f"DiagnosticReport/a{analysis.pk}", HTTP_ACCEPT_LANGUAGE="en"))
    assert korean["conclusion"].startswith("결과로부터 규칙에 따라 생성")
    assert english["conclusion"].startswith("Generated from the result by rules")


def test_only_completed_clinical_analyses_are_reports(make_client, clinician_a, patient):
    done = completed_rosmap(patient, clinician_a, reports=False)
    running = AnalysisFactory(
        patient=patient, requested_by=clinician_a, kind="omics_rosmap", status=Status.PROCESSING
    )
    chained = Analysis.objects.filter(kind="interpretation", inputs__analysis=done.pk).first()
    client = make_client(clinician_a)
    for analysis_id in (running.pk, chained.pk):
        body = _fhir(_get(client, f"DiagnosticReport/a{analysis_id}"), 404)
        OperationOutcome.model_validate(body)
    listed = _fhir(_get(client, f"DiagnosticReport?patient={patient.pk}"))
    assert [e["resource"]["id"] for e in listed["entry"]] == [f"a{done.pk}"]
    assert listed["total"] == 1


def test_everything_bundles_the_whole_record(make_client, clinician_a, patient):
    ct = completed_ct(patient, clinician_a, reports=False)
    seq = completed_sequences(patient, clinician_a, reports=False)
    paad = completed_paad(patient, clinician_a, reports=False)
    other = PatientFactory(care_team=[clinician_a])
    completed_rosmap(other, clinician_a, chained=False)
    body = _fhir(_get(make_client(clinician_a), f"Patient/{patient.pk}/$everything"))
    Bundle.model_validate(body)
    ids = {(e["resource"]["resourceType"], e["resource"]["id"]) for e in body["entry"]}
    assert ("Patient", str(patient.pk)) in ids
    assert {("DiagnosticReport", f"a{a.pk}") for a in (ct, seq, paad)} <= ids
    assert ("Observation", f"a{ct.pk}-liver-lesions") in ids
    assert ("RiskAssessment", f"a{seq.pk}-seq-0-pathogen") in ids
    assert ("RiskAssessment", f"a{paad.pk}-paad-risk") in ids
    assert ("DocumentReference", f"f{ct.inputs['volume_file']}") in ids
    devices = {i for t, i in ids if t == "Device"}
    assert devices == {"cdss-ct-2026.11.0", "pathogen-seq-2026.11.0", "tcga-paad-cox-2026.11.0"}
    # Nothing of another patient; every resource passes the value-set checks.
    subjects = {
        e["resource"]["subject"]["reference"] for e in body["entry"] if "subject" in e["resource"]
    }
    assert subjects == {f"Patient/{patient.pk}"}
    assert resource_problems(body) == []
    for entry in body["entry"]:
        resource = entry["resource"]
        assert resource_problems(resource) == [], resource["id"]
        # Served as the R4B model itself writes it: validated, nothing lost or added.
        model = get_fhir_model_class(resource["resourceType"])
        assert model.model_validate(resource).model_dump(mode="json", exclude_none=True) == resource
    assert body["total"] == sum(1 for e in body["entry"] if e["search"]["mode"] == "match")
    for entry in body["entry"]:
        resource = entry["resource"]
        assert entry["fullUrl"] == (
            f"http://testserver/fhir/r4/{resource['resourceType']}/{resource['id']}"
        )


def test_everything_reads_in_bounded_queries(
    make_client, clinician_a, patient, django_assert_max_num_queries
):
    for _ in range(3):
        completed_ct(patient, clinician_a, reports=False)
        completed_sequences(patient, clinician_a, reports=False)
    client = make_client(clinician_a)
    url = f"/fhir/r4/Patient/{patient.pk}/$everything"
    with django_assert_max_num_queries(16) as few:
        client.get(url)
    for _ in range(3):
        completed_paad(patient, clinician_a)
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert len(client.get(url).json()["entry"]) > 20


def test_content_type_and_format_negotiation(make_client, clinician_a, patient):
    client = make_client(clinician_a)
    path = f"Patient/{patient.pk}"
    for extra in (
        {},
        {"HTTP_ACCEPT": FHIR_JSON},
        {"HTTP_ACCEPT": "application/json"},
        {"HTTP_ACCEPT": "text/html, */*;q=0.1"},
    ):
        assert _fhir(_get(client, path, **extra))["resourceType"] == "Patient"
    for fmt in ("json", "application/fhir%2Bjson", "application/json"):
        assert _fhir(_get(client, f"{path}?_format={fmt}"))["id"] == str(patient.pk)
    for bad in ({"HTTP_ACCEPT": "application/fhir+xml"}, {}):
        url = path + ("?_format=xml" if not bad else "")
        outcome = _fhir(_get(client, url, **bad), 406)
        assert outcome["issue"][0]["code"] == "not-supported"
        assert "JSON" in outcome["issue"][0]["diagnostics"]


def test_anonymous_and_bad_tokens_get_401_operation_outcome(make_client, patient):
    for extra in ({}, {"HTTP_AUTHORIZATION": "Bearer not.a.jwt"}):
        response = _get(make_client(None), f"Patient/{patient.pk}/$everything", **extra)
        outcome = _fhir(response, 401)
        OperationOutcome.model_validate(outcome)
        assert outcome["issue"][0]["code"] == "login"
        assert response["WWW-Authenticate"].startswith("Bearer")


def test_errors_are_operation_outcomes(make_client, clinician_a):
    client = make_client(clinician_a)
    unknown = _fhir(_get(client, "Medication/1"), 404)
    assert unknown["issue"][0] == {
        "severity": "error",
        "code": "not-found",
        "diagnostics": "Unknown resource type: 'Medication'.",
    }
    _fhir(_get(client, "Encounter"), 404)
    assert "resource type" in _fhir(_get(client, ""), 404)["issue"][0]["diagnostics"]
    # A model version no served analysis names is no Device.
    assert _fhir(_get(client, "Device/pathogen-seq-0.0.0"), 404)["issue"][0]["code"] == "not-found"
    missing_param = _fhir(_get(client, "Observation"), 400)
    assert "'patient'" in missing_param["issue"][0]["diagnostics"]
    assert missing_param["issue"][0]["code"] == "invalid"
    twice = _fhir(_get(client, "Observation?patient=1&patient=2"), 400)
    assert "once" in twice["issue"][0]["diagnostics"]
    not_allowed = _fhir(client.post("/fhir/r4/Patient/1", {}, format="json"), 405)
    assert not_allowed["issue"][0]["code"] == "not-supported"


def test_a_server_error_is_a_500_operation_outcome(make_client, clinician_a, patient, monkeypatch):
    from cdss.interop.fhir import apis

    def broken(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(apis, "patient_resource", broken)
    outcome = _fhir(_get(make_client(clinician_a), f"Patient/{patient.pk}"), 500)
    assert outcome["issue"][0]["severity"] == "fatal"
    assert "request id" in outcome["issue"][0]["diagnostics"]
    assert "boom" not in outcome["issue"][0]["diagnostics"]


def _events(**filters: Any) -> list[AccessEvent]:
    return list(AccessEvent.objects.filter(action__startswith="fhir.", **filters).order_by("id"))


def test_every_read_is_audited_once(make_client, clinician_a, patient):
    analysis = completed_sequences(patient, clinician_a, reports=False)
    client = make_client(clinician_a)
    reads = [
        (f"Patient/{patient.pk}", "fhir.patient.read", str(patient.pk)),
        (f"Patient/{patient.pk}/$everything", "fhir.patient.everything", str(patient.pk)),
        (f"DiagnosticReport/a{analysis.pk}", "fhir.diagnosticreport.read", f"a{analysis.pk}"),
        (
            f"Observation/a{analysis.pk}-seq-1",
            "fhir.observation.read",
            f"a{analysis.pk}-seq-1",
        ),
        (f"Observation?patient={patient.pk}", "fhir.observation.search", f"patient={patient.pk}"),
        (
            f"RiskAssessment?subject=Patient/{patient.pk}",
            "fhir.riskassessment.search",
            f"subject=Patient/{patient.pk}",
        ),
    ]
    for path, action, object_id in reads:
        before = AccessEvent.objects.count()
        _fhir(_get(client, path))
        assert AccessEvent.objects.count() == before + 1, path
        event = AccessEvent.objects.order_by("-id").first()
        assert (event.action, event.outcome, event.object_id) == (action, Outcome.OK, object_id)
        assert event.patient_id == patient.pk and event.user_id == clinician_a.pk
    # A finding the analysis does not have, and an id that does not parse: one event each.
    for path in (f"Observation/a{analysis.pk}-seq-9", "Observation/whatever"):
        before = AccessEvent.objects.count()
        _fhir(_get(client, path), 404)
        assert AccessEvent.objects.count() == before + 1
        assert AccessEvent.objects.order_by("-id").first().outcome == Outcome.NOT_FOUND


def test_patient_search_by_mrn(make_client, clinician_a, clinician_b, patient, settings):
    settings.CDSS_FHIR_MRN_SYSTEM = "urn:cdss:mrn"
    theirs = PatientFactory(care_team=[clinician_b], mrn="MRN-99")
    client = make_client(clinician_a)
    for query in ("identifier=MRN-77", "identifier=urn:cdss:mrn|MRN-77", f"_id={patient.pk}"):
        body = _fhir(_get(client, f"Patient?{query}"))
        assert [e["resource"]["id"] for e in body["entry"]] == [str(patient.pk)], query
    for query in ("identifier=other|MRN-77", "identifier=MRN-99", f"_id={theirs.pk}", "_id=x"):
        body = _fhir(_get(client, f"Patient?{query}"))
        assert body["total"] == 0 and "entry" not in body, query


def test_a_failed_sequence_item_has_no_finding(make_client, clinician_a, patient):
    from cdss.interop.tests.fhir_fixtures import completed
    from cdss.reports.tests.results import sequence_batch

    result = sequence_batch(0.42)
    result["results"].append({"ok": False, "index": 1, "id": "s2", "error": "too short"})
    analysis = completed(patient, clinician_a, "sequence_batch", result, chained=False)
    report = _fhir(_get(make_client(clinician_a), f"DiagnosticReport/a{analysis.pk}"))
    assert [r["reference"] for r in report["result"]] == [f"Observation/a{analysis.pk}-seq-0"]
    assert "conclusion" not in report and "presentedForm" not in report
    _fhir(_get(make_client(clinician_a), f"Observation/a{analysis.pk}-seq-1"), 404)
