"""/api/v1/assistant/: sessions are their owner's alone (the cross-user contract), questions get
extractive answers with citations (whole, or as server-sent events), documents and prompts are
for ML engineers and administrators."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from cdss.assistant.models import AnswerKind, ChatSession, Document, Message
from cdss.assistant.services import document_index
from cdss.assistant.tests.pdf import pdf_with_pages
from cdss.common.testing import PatientScopedRouteContract
from cdss.jobs.models import Analysis
from cdss.patients.tests.factories import PatientFactory

pytestmark = pytest.mark.django_db
SESSIONS = "/api/v1/assistant/sessions/"


class _SessionOfPatient:
    """The contract's object: clinician A's session about A's patient."""

    def url_kwargs(self, patient, owner) -> dict[str, Any]:
        session = ChatSession.objects.create(user=owner, patient=patient, title="t")
        return {"session_id": session.pk}


class TestSessionDetailRoute(_SessionOfPatient, PatientScopedRouteContract):
    route_name = "assistant-session-detail"
    methods = {"get": None, "patch": {"title": "x"}, "delete": None}


class TestMessagesRoute(_SessionOfPatient, PatientScopedRouteContract):
    route_name = "assistant-message-list"
    methods = {"get": None, "post": {"content": "sepsis?"}}


def test_an_unlinked_session_is_its_owners_alone_even_for_admins(
    make_client, clinician_a, admin_user
) -> None:
    session = make_client(clinician_a).post(SESSIONS, {"title": "mine"}, format="json").json()
    url = f"{SESSIONS}{session['id']}/"
    assert make_client(clinician_a).get(url).status_code == 200
    theirs = make_client(admin_user).get(url)
    missing = make_client(admin_user).get(f"{SESSIONS}987654321/")
    assert theirs.status_code == missing.status_code == 404
    assert theirs.json() == missing.json()
    assert make_client(admin_user).get(SESSIONS).json()["count"] == 0


def test_a_session_for_someone_elses_patient_is_refused_like_a_missing_one(
    make_client, clinician_a, clinician_b
) -> None:
    patient = PatientFactory(care_team=[clinician_b])
    theirs = make_client(clinician_a).post(SESSIONS, {"patient": patient.pk}, format="json")
    missing = make_client(clinician_a).post(SESSIONS, {"patient": 987654321}, format="json")
    assert theirs.status_code == missing.status_code == 400
    assert theirs.json() == missing.json()


def test_sessions_list_rename_delete(make_client, clinician_a) -> None:
    client = make_client(clinician_a)
    created = client.post(SESSIONS, {}, format="json")
    assert created.status_code == 201, created.content
    url = f"{SESSIONS}{created.json()['id']}/"
    assert client.patch(url, {"title": "Sepsis"}, format="json").json()["title"] == "Sepsis"
    assert [s["title"] for s in client.get(SESSIONS).json()["results"]] == ["Sepsis"]
    assert client.delete(url).status_code == 204
    assert client.get(url).status_code == 404


def test_a_question_gets_an_extractive_answer_with_citations(
    corpus, make_client, clinician_a
) -> None:
    client = make_client(clinician_a)
    session = client.post(SESSIONS, {}, format="json").json()
    url = f"{SESSIONS}{session['id']}/messages/"
    answer = client.post(url, {"content": "패혈증에서 항생제는 언제 시작하나요?"}, format="json")
    assert answer.status_code == 201, answer.content
    body = answer.json()
    assert body["answer_kind"] == AnswerKind.RETRIEVED
    assert body["provider"] == "extractive"
    assert body["content"].startswith("검색된 원문")
    assert "1시간 이내에 광범위 항생제를 투여한다" in body["content"]
    first = body["citations"][0]
    assert first["section"] == "패혈증 치료"
    assert "[1]" in body["content"]
    assert "항생제" in first["excerpt"]
    listed = client.get(url).json()["results"]
    assert [m["role"] for m in listed] == ["user", "assistant"]
    assert client.get(f"{SESSIONS}{session['id']}/").json()["title"].startswith("패혈증")


def test_nothing_relevant_is_said_plainly(corpus, make_client, clinician_a) -> None:
    client = make_client(clinician_a)
    session = client.post(SESSIONS, {}, format="json").json()
    body = client.post(
        f"{SESSIONS}{session['id']}/messages/",
        {"content": "What is the capital of France?"},
        format="json",
    ).json()
    assert body["answer_kind"] == AnswerKind.NOTHING_FOUND
    assert body["citations"] == []
    assert "found nothing" in body["content"]


def _events(response) -> list[dict[str, Any]]:
    text = b"".join(response.streaming_content).decode()
    frames = []
    for block in text.strip().split("\n\n"):
        event, data = block.split("\n", 1)
        frame = json.loads(data.removeprefix("data: "))
        assert event == f"event: {frame['type']}"
        frames.append(frame)
    return frames


def test_server_sent_events_stream_sources_deltas_and_done(
    corpus, make_client, clinician_a
) -> None:
    client = make_client(clinician_a)
    session = client.post(SESSIONS, {}, format="json").json()
    response = client.post(
        f"{SESSIONS}{session['id']}/messages/?stream=1",
        {"content": "When should antibiotics be started in sepsis?"},
        format="json",
    )
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/event-stream")
    frames = _events(response)
    assert frames[0]["type"] == "sources"
    assert frames[0]["sources"][0]["section"] == "Sepsis management"
    assert frames[-1]["type"] == "done"
    deltas = [f["text"] for f in frames if f["type"] == "delta"]
    assert len(deltas) > 1
    assert "".join(deltas) == frames[-1]["message"]["content"]
    assert Message.objects.filter(session_id=session["id"]).count() == 2


def test_documents_are_for_ml_engineers_and_admins(make_client, clinician_a, ml_engineer) -> None:
    upload = SimpleUploadedFile("guide.md", b"# Title\n\ntext\n")
    refused = make_client(clinician_a).post(
        "/api/v1/assistant/documents/", {"file": upload}, format="multipart"
    )
    assert refused.status_code == 403
    assert make_client(clinician_a).get("/api/v1/assistant/documents/").status_code == 403
    assert make_client(clinician_a).get("/api/v1/assistant/prompts/").status_code == 403
    assert make_client(ml_engineer).get("/api/v1/assistant/documents/").status_code == 200


def test_an_uploaded_pdf_is_queued_indexed_and_cited_by_page(
    make_client, clinician_a, ml_engineer
) -> None:
    client = make_client(ml_engineer)
    pdf = pdf_with_pages(
        [
            "Cover page of the ward handbook.",
            "Vancomycin trough levels should be checked before the fourth dose.",
        ]
    )
    created = client.post(
        "/api/v1/assistant/documents/",
        {"file": SimpleUploadedFile("handbook.pdf", pdf), "title": "Ward handbook"},
        format="multipart",
    )
    assert created.status_code == 201, created.content
    assert created.json()["status"] == "pending"
    job = Analysis.objects.get(kind="assistant_index")
    assert job.inputs == {"document": created.json()["id"]}
    again = client.post(
        "/api/v1/assistant/documents/",
        {"file": SimpleUploadedFile("copy.pdf", pdf)},
        format="multipart",
    )
    assert again.status_code == 409
    document_index(document_id=created.json()["id"])  # what the worker's run does
    detail = client.get(f"/api/v1/assistant/documents/{created.json()['id']}/").json()
    assert (detail["status"], detail["pages"], detail["progress"]) == ("ready", 2, 1.0)

    asker = make_client(clinician_a)
    session = asker.post(SESSIONS, {}, format="json").json()
    body = asker.post(
        f"{SESSIONS}{session['id']}/messages/",
        {"content": "When should vancomycin trough levels be checked?"},
        format="json",
    ).json()
    assert body["citations"][0]["page"] == 2
    assert body["citations"][0]["document"] == "Ward handbook"
    assert "(Ward handbook, p. 2) [1]" in body["content"]


def test_a_bad_document_is_a_400_naming_the_file(make_client, ml_engineer) -> None:
    response = make_client(ml_engineer).post(
        "/api/v1/assistant/documents/",
        {"file": SimpleUploadedFile("x.md", b"\x00\x01binary")},
        format="multipart",
    )
    assert response.status_code == 400
    assert "file" in response.json()["error"]
    assert not Document.objects.exists()


def test_prompts_are_versioned_with_one_active(make_client, ml_engineer) -> None:
    client = make_client(ml_engineer)
    url = "/api/v1/assistant/prompts/"
    text = "Answer from these passages only:\n{passages}"
    first = client.post(url, {"name": "assistant", "language": "en", "text": text}, format="json")
    second = client.post(url, {"name": "assistant", "language": "en", "text": text}, format="json")
    assert (first.json()["version"], second.json()["version"]) == (1, 2)
    listed = client.get(url).json()["results"]
    assert [(p["version"], p["active"]) for p in listed] == [(2, True), (1, False)]
    back = client.post(f"{url}{first.json()['id']}/activate/")
    assert (back.status_code, back.json()["active"]) == (200, True)
    listed = client.get(url).json()["results"]
    assert [(p["version"], p["active"]) for p in listed] == [(2, False), (1, True)]
    bad = client.post(
        url, {"name": "assistant", "language": "en", "text": "no slot"}, format="json"
    )
    assert bad.status_code == 400


def test_search_returns_the_retrieval_alone(corpus, make_client, clinician_a) -> None:
    hits = make_client(clinician_a).get(
        "/api/v1/assistant/search/", {"q": "당화혈색소 목표", "limit": 2}
    )
    assert hits.status_code == 200
    assert len(hits.json()["results"]) == 2
    assert hits.json()["results"][0]["heading"] == "당뇨병"


def test_a_failure_mid_stream_is_an_error_event(monkeypatch, make_client, clinician_a) -> None:
    from cdss.assistant import apis

    def failing(**kwargs):
        yield {"type": "sources", "sources": []}
        raise RuntimeError("boom")

    monkeypatch.setattr(apis, "answer_events", failing)
    client = make_client(clinician_a)
    session = client.post(SESSIONS, {}, format="json").json()
    response = client.post(
        f"{SESSIONS}{session['id']}/messages/?stream=1", {"content": "x"}, format="json"
    )
    frames = _events(response)
    assert [f["type"] for f in frames] == ["sources", "error"]
    assert "boom" not in json.dumps(frames)
