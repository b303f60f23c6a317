"""Switching the assistant to an OpenAI-compatible server (CDSS_LLM_BASE_URL): a real HTTP server
answers; a grounded answer is kept with its provider and model, an ungrounded one is replaced by
the retrieved text."""

from __future__ import annotations

import json

import pytest

from cdss.assistant.models import AnswerKind, GuardOutcome
from cdss.reports.tests.llm_servers import server_process

pytestmark = pytest.mark.django_db
SESSIONS = "/api/v1/assistant/sessions/"
QUESTION = "When should antibiotics be started in sepsis?"


def _ask(settings, make_client, user, answer: str) -> dict:
    with server_process("canned", json.dumps([{"text": answer}])) as url:
        settings.CDSS_INTERPRETATION_PROVIDER = "openai"
        settings.CDSS_LLM_BASE_URL = url
        client = make_client(user)
        session = client.post(SESSIONS, {}, format="json").json()
        response = client.post(
            f"{SESSIONS}{session['id']}/messages/", {"content": QUESTION}, format="json"
        )
    assert response.status_code == 201, response.content
    return response.json()


def test_a_grounded_generated_answer_is_kept(corpus, settings, make_client, clinician_a) -> None:
    body = _ask(
        settings,
        make_client,
        clinician_a,
        "Start broad-spectrum antibiotics within one hour of recognizing sepsis [1].",
    )
    assert (body["answer_kind"], body["provider"], body["model"]) == (
        AnswerKind.GENERATED,
        "openai",
        "canned",
    )
    assert body["guard_outcome"] == GuardOutcome.PASSED
    assert body["citations"][0]["section"] == "Sepsis management"


def test_an_ungrounded_answer_is_replaced(corpus, settings, make_client, clinician_a) -> None:
    body = _ask(settings, make_client, clinician_a, "Give antibiotics within 6 hours [1].")
    assert body["answer_kind"] == AnswerKind.RETRIEVED
    assert body["guard_outcome"] == GuardOutcome.FELL_BACK
    assert "number '6' is not in the result" in body["guard_notes"]
