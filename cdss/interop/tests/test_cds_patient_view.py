"""Discovery, the patient-view service and its feedback endpoint over HTTP: cards from stored
results, the access rule of the user the EHR names (or the service account), one audit event per
call, and feedback stored and checked against the cards really issued."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from cdss.accounts.models import Role, User
from cdss.accounts.tests.factories import UserFactory
from cdss.audit.models import AccessEvent, Outcome
from cdss.interop.models import CdsFeedback, CdsIssuedCard
from cdss.interop.tests.cds_ehr import (
    FEEDBACK_PATH,
    PUBLIC_URL,
    SERVICE_PATH,
    Ehr,
    cached_key,
    completed,
    configure_ehr,
    hook_request,
)
from cdss.jobs.models import Analysis, Status
from cdss.jobs.tests.factories import AnalysisFactory
from cdss.patients.models import Patient
from cdss.patients.tests.factories import PatientFactory
from cdss.reports.tests.results import CT, PAAD, ROSMAP, sequence_batch

pytestmark = pytest.mark.django_db


@pytest.fixture
def ehr(settings: Any, tmp_path: Path) -> Ehr:
    # Cards never need the inference server: point it at a closed port to be sure.
    settings.CDSS_INFERENCE_URL = "http://127.0.0.1:8628"
    return configure_ehr(settings, tmp_path)


@pytest.fixture
def patient(clinician_a: User) -> Patient:
    return PatientFactory(care_team=[clinician_a], mrn="MRN-0042")


def _post(ehr: Ehr, body: dict[str, Any], path: str = SERVICE_PATH, **token: Any) -> Any:
    return Client().post(path, data=body, content_type="application/json", **ehr.auth(**token))


def _view(ehr: Ehr, patient_id: str, user: str = "Practitioner/clin_a") -> Any:
    return _post(ehr, hook_request(patient_id, user))


def _all_kinds(patient: Patient, owner: User) -> list[Analysis]:
    return [
        completed(patient, owner, kind="sequence_batch", result=sequence_batch(0.9731)),
        completed(patient, owner, kind="omics_rosmap", result=ROSMAP),
        completed(patient, owner, kind="omics_paad_survival", result=PAAD),
        completed(patient, owner, kind="ct", result=CT),
    ]


def test_discovery() -> None:
    response = Client().get("/cds-services")
    assert response.status_code == 200
    (service,) = response.json()["services"]
    assert service["id"] == "cdss-patient-view"
    assert service["hook"] == "patient-view"
    assert service["title"] and service["description"]
    assert service["prefetch"] == {"patient": "Patient/{{context.patientId}}"}


def test_cards_for_each_kind(ehr: Ehr, patient: Patient, clinician_a: User) -> None:
    analyses = _all_kinds(patient, clinician_a)
    response = _view(ehr, "MRN-0042")
    assert response.status_code == 200, response.content
    cards = response.json()["cards"]
    # Newest first.
    assert [c["source"]["topic"]["code"] for c in cards] == [
        "ct",
        "omics_paad_survival",
        "omics_rosmap",
        "sequence_batch",
    ]
    assert [c["indicator"] for c in cards] == ["warning", "warning", "warning", "critical"]
    for card, analysis in zip(cards, reversed(analyses), strict=True):
        assert len(card["summary"]) < 140
        assert uuid.UUID(card["uuid"])
        assert card["links"] == [
            {
                "label": "Open the result in CDSS",
                "url": f"{PUBLIC_URL}/analyses/{analysis.pk}",
                "type": "absolute",
            }
        ]
        name, version = analysis.model_name, analysis.model_version
        assert card["source"]["label"] == f"CDSS {name} {version} (not a medical device)"
        assert card["source"]["url"] == f"{PUBLIC_URL}/api/v1/models/{name}/{version}/card/"
        assert f"**AI result** of {name} {version} (analysis {analysis.pk}," in card["detail"]
        assert "Not a medical device" in card["detail"]
    assert cards[1]["summary"] == "Pancreatic cancer survival model: high-risk group"
    assert "risk score 0.6421" in cards[1]["detail"]
    issued = CdsIssuedCard.objects.order_by("analysis_id")
    assert [str(c.uuid) for c in issued] == [c["uuid"] for c in reversed(cards)]
    assert {c.issuer for c in issued} == {ehr.issuer}


def test_only_completed_analyses_of_card_kinds_at_most_the_cap(
    ehr: Ehr, patient: Patient, clinician_a: User, settings: Any
) -> None:
    settings.CDSS_CDS_HOOKS_MAX_CARDS = 2
    _all_kinds(patient, clinician_a)
    AnalysisFactory(patient=patient, kind="ct", status=Status.PROCESSING)
    AnalysisFactory(patient=patient, kind="ct", status=Status.FAILED)
    completed(patient, clinician_a, kind="interpretation", result={"text": "x"})
    before = Analysis.objects.count()
    cards = _view(ehr, "MRN-0042").json()["cards"]
    assert [c["source"]["topic"]["code"] for c in cards] == ["ct", "omics_paad_survival"]
    # Nothing was started by the hook.
    assert Analysis.objects.count() == before


def test_patient_by_fhir_id(settings: Any, tmp_path: Path, patient: Patient, clinician_a: User):
    ehr = configure_ehr(settings, tmp_path, patient_id="fhir_id")
    completed(patient, clinician_a, kind="omics_rosmap", result=ROSMAP)
    assert len(_view(ehr, str(patient.pk)).json()["cards"]) == 1
    # In fhir_id mode the MRN names nothing.
    assert _view(ehr, "MRN-0042").json() == {"cards": []}


def test_other_clinicians_patient_is_like_an_unknown_one(
    ehr: Ehr, patient: Patient, clinician_a: User, clinician_b: User
) -> None:
    completed(patient, clinician_a, kind="omics_paad_survival", result=PAAD)
    theirs = _view(ehr, "MRN-0042", "Practitioner/clin_b")
    missing = _view(ehr, "MRN-NOPE", "Practitioner/clin_b")
    assert theirs.status_code == missing.status_code == 200
    assert theirs.json() == missing.json() == {"cards": []}
    assert theirs.headers["Content-Type"] == missing.headers["Content-Type"]
    assert not CdsIssuedCard.objects.exists()
    events = list(AccessEvent.objects.filter(action="cds_hooks.patient_view").order_by("id"))
    assert [(e.outcome, e.patient_id, e.user_id) for e in events] == [
        (Outcome.DENIED, patient.pk, clinician_b.pk),
        (Outcome.NOT_FOUND, None, clinician_b.pk),
    ]


def test_deleted_patient_and_unknown_user_give_no_cards(
    ehr: Ehr, patient: Patient, clinician_a: User
) -> None:
    completed(patient, clinician_a, kind="omics_rosmap", result=ROSMAP)
    assert _view(ehr, "MRN-0042", "Practitioner/nobody").json() == {"cards": []}
    inactive = UserFactory(username="gone", role=Role.CLINICIAN, is_active=False)
    patient.care_team.add(inactive)
    assert _view(ehr, "MRN-0042", "Practitioner/gone").json() == {"cards": []}
    assert _view(ehr, "MRN-0042", "Patient/1").json() == {"cards": []}
    Patient.objects.filter(pk=patient.pk).update(deleted_at=timezone.now())
    assert _view(ehr, "MRN-0042").json() == {"cards": []}


def test_admin_named_by_the_ehr_sees_every_patient(
    ehr: Ehr, patient: Patient, clinician_a: User, admin_user: User
) -> None:
    completed(patient, clinician_a, kind="ct", result=CT)
    assert len(_view(ehr, "MRN-0042", "Practitioner/admin1").json()["cards"]) == 1


def test_service_mode_gets_cards_without_detail(
    settings: Any, tmp_path: Path, patient: Patient, clinician_a: User, admin_user: User
) -> None:
    ehr = configure_ehr(settings, tmp_path, user_mode="service", service_user="admin1")
    completed(patient, clinician_a, kind="omics_paad_survival", result=PAAD)
    # The userId is not a CDSS user: in service mode the service account's rule applies.
    (card,) = _view(ehr, "MRN-0042", "Practitioner/ehr-user-9").json()["cards"]
    assert set(card) == {"uuid", "summary", "indicator", "source", "links"}
    assert "0.6421" not in str(card)
    (event,) = AccessEvent.objects.filter(action="cds_hooks.patient_view")
    assert (event.user_id, event.patient_id, event.outcome) == (admin_user.pk, patient.pk, "ok")


def test_service_account_follows_its_own_access_rule(
    settings: Any, tmp_path: Path, patient: Patient, clinician_a: User, clinician_b: User
) -> None:
    ehr = configure_ehr(settings, tmp_path, user_mode="service", service_user="clin_b")
    completed(patient, clinician_a, kind="ct", result=CT)
    assert _view(ehr, "MRN-0042").json() == {"cards": []}


def test_one_audit_event_per_call(ehr: Ehr, patient: Patient, clinician_a: User) -> None:
    _all_kinds(patient, clinician_a)
    before = AccessEvent.objects.count()
    assert len(_view(ehr, "MRN-0042").json()["cards"]) == 4
    new = list(AccessEvent.objects.order_by("id")[before:])
    assert [(e.action, e.outcome, e.patient_id, e.user_id, e.object_type) for e in new] == [
        ("cds_hooks.patient_view", "ok", patient.pk, clinician_a.pk, "patient")
    ]


def test_links_fall_back_to_the_request_host(
    ehr: Ehr, settings: Any, patient: Patient, clinician_a: User
) -> None:
    settings.CDSS_PUBLIC_URL = ""
    completed(patient, clinician_a, kind="ct", result=CT)
    aud = "http://testserver/cds-services/cdss-patient-view"
    (card,) = _post(ehr, hook_request("MRN-0042", "Practitioner/clin_a"), aud=aud).json()["cards"]
    assert card["links"][0]["url"].startswith("http://testserver/analyses/")


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"hook": "order-select"}, "hook"),
        ({"hookInstance": "not-a-uuid"}, "hookInstance"),
        ({"context": {"userId": "Practitioner/clin_a"}}, "context.patientId"),
        ({"context": {"patientId": "MRN-0042"}}, "context.userId"),
        ({"context": {"patientId": "MRN-0042", "userId": "clin_a"}}, "context.userId"),
        ({"fhirServer": "not a url"}, "fhirServer"),
        ({"fhirServer": None, "fhirAuthorization": {"access_token": "x"}}, "fhirServer"),
    ],
)
def test_bad_requests_name_the_field(ehr: Ehr, change: dict[str, Any], field: str) -> None:
    body = {**hook_request("MRN-0042", "Practitioner/clin_a"), **change}
    body = {k: v for k, v in body.items() if v is not None}
    response = _post(ehr, body)
    assert response.status_code == 400, response.content
    assert f"{field}:" in response.json()["error"]


def test_unknown_members_are_allowed(ehr: Ehr, patient: Patient) -> None:
    body = hook_request("MRN-0042", "Practitioner/clin_a", extension={"com.example": 1})
    body["context"]["encounterId"] = "E1"
    assert _post(ehr, body).status_code == 200


# --- Feedback ------------------------------------------------------------------------------------


def _issued(ehr: Ehr, patient: Patient, owner: User) -> list[dict[str, Any]]:
    completed(patient, owner, kind="omics_paad_survival", result=PAAD)
    completed(patient, owner, kind="ct", result=CT)
    return list(_view(ehr, "MRN-0042").json()["cards"])


def test_feedback_is_stored(ehr: Ehr, patient: Patient, clinician_a: User) -> None:
    ct_card, paad_card = _issued(ehr, patient, clinician_a)
    body = {
        "feedback": [
            {
                "card": ct_card["uuid"],
                "outcome": "accepted",
                "acceptedSuggestions": [],
                "outcomeTimestamp": "2026-11-27T10:15:00Z",
            },
            {
                "card": paad_card["uuid"],
                "outcome": "overridden",
                "overrideReason": {
                    "reason": {"code": "not-relevant", "system": "https://ehr.example.org/r"},
                    "userComment": "Already discussed with oncology.",
                },
                "outcomeTimestamp": "2026-11-27T10:16:00+00:00",
            },
        ]
    }
    response = _post(ehr, body, FEEDBACK_PATH)
    assert response.status_code == 200, response.content
    assert response.json() == {"stored": 2}
    accepted, overridden = CdsFeedback.objects.order_by("id")
    assert str(accepted.card.uuid) == ct_card["uuid"] and accepted.outcome == "accepted"
    assert overridden.override_reason == {
        "reason": {"code": "not-relevant", "system": "https://ehr.example.org/r"},
        "userComment": "Already discussed with oncology.",
    }
    assert overridden.outcome_timestamp.isoformat() == "2026-11-27T10:16:00+00:00"
    assert {o.issuer for o in (accepted, overridden)} == {ehr.issuer}
    events = AccessEvent.objects.filter(action="cds_hooks.feedback")
    assert [(e.patient_id, e.user_id) for e in events] == [(patient.pk, clinician_a.pk)]


def test_feedback_token_may_name_the_feedback_url(
    ehr: Ehr, patient: Patient, clinician_a: User
) -> None:
    (card, _) = _issued(ehr, patient, clinician_a)
    body = {
        "feedback": [
            {"card": card["uuid"], "outcome": "accepted", "outcomeTimestamp": "2026-11-27T10:15Z"}
        ]
    }
    aud = f"{PUBLIC_URL}/cds-services/cdss-patient-view/feedback"
    assert _post(ehr, body, FEEDBACK_PATH, aud=aud).status_code == 200


def test_feedback_on_a_card_never_issued_is_refused(
    ehr: Ehr, patient: Patient, clinician_a: User
) -> None:
    (card, _) = _issued(ehr, patient, clinician_a)
    body = {
        "feedback": [
            {"card": card["uuid"], "outcome": "accepted", "outcomeTimestamp": "2026-11-27T10:15Z"},
            {
                "card": str(uuid.uuid4()),
                "outcome": "accepted",
                "outcomeTimestamp": "2026-11-27T10:15Z",
            },
        ]
    }
    response = _post(ehr, body, FEEDBACK_PATH)
    assert response.status_code == 400
    assert "feedback.1.card: Not a card this service issued" in response.json()["error"]
    # All or nothing.
    assert not CdsFeedback.objects.exists()


def test_feedback_on_another_clients_card_is_refused(
    ehr: Ehr, settings: Any, patient: Patient, clinician_a: User
) -> None:
    (card, _) = _issued(ehr, patient, clinician_a)
    other = Ehr(
        key=cached_key("other-ehr"),
        kid="o1",
        jwks_path=ehr.jwks_path.with_name("other.json"),
        issuer="https://other-ehr.example.org",
    )
    other.publish()
    settings.CDSS_CDS_HOOKS_CLIENTS = [ehr.client_config(), other.client_config()]
    body = {
        "feedback": [
            {"card": card["uuid"], "outcome": "accepted", "outcomeTimestamp": "2026-11-27T10:15Z"}
        ]
    }
    response = _post(other, body, FEEDBACK_PATH)
    assert response.status_code == 400
    assert "feedback.0.card" in response.json()["error"]


@pytest.mark.parametrize(
    ("item", "field"),
    [
        ({"outcome": "ignored"}, "feedback.0.outcome"),
        ({"outcomeTimestamp": None}, "feedback.0.outcomeTimestamp"),
        ({"outcomeTimestamp": "yesterday"}, "feedback.0.outcomeTimestamp"),
        ({"card": "nope"}, "feedback.0.card"),
        ({"overrideReason": {"userComment": "no"}}, "feedback.0.overrideReason"),
        (
            {"outcome": "overridden", "acceptedSuggestions": [{"id": "s1"}]},
            "feedback.0.acceptedSuggestions",
        ),
    ],
)
def test_bad_feedback_names_the_field(
    ehr: Ehr, patient: Patient, clinician_a: User, item: dict[str, Any], field: str
) -> None:
    (card, _) = _issued(ehr, patient, clinician_a)
    entry = {
        "card": card["uuid"],
        "outcome": "accepted",
        "outcomeTimestamp": "2026-11-27T10:15:00Z",
        **item,
    }
    entry = {k: v for k, v in entry.items() if v is not None}
    response = _post(ehr, {"feedback": [entry]}, FEEDBACK_PATH)
    assert response.status_code == 400, response.content
    assert f"{field}:" in response.json()["error"]
    assert not CdsFeedback.objects.exists()


def test_empty_feedback_is_refused(ehr: Ehr) -> None:
    response = _post(ehr, {"feedback": []}, FEEDBACK_PATH)
    assert response.status_code == 400
    assert "feedback:" in response.json()["error"]


def test_feedback_needs_a_token(ehr: Ehr) -> None:
    response = Client().post(FEEDBACK_PATH, data={"feedback": []}, content_type="application/json")
    assert response.status_code == 401
