"""/ws/chat/{id}/ through the real ASGI application (Channels' WebsocketCommunicator): an ask
streams sources, deltas and the stored message; a cancel stops the answer unstored; another
user's session, a missing one and a socket without a token or from another origin are refused
before any message."""

from __future__ import annotations

import threading

import pytest
from asgiref.sync import async_to_sync
from channels.db import database_sync_to_async
from rest_framework_simplejwt.tokens import AccessToken

from cdss.assistant import answers, consumers
from cdss.assistant.models import ChatSession, Message
from cdss.jobs.tests.ws import WebsocketCommunicator

pytestmark = pytest.mark.django_db(transaction=True)

ORIGIN = (b"origin", b"http://localhost:8000")
WAIT = 30  # seconds: a deadline for an expected frame (the first ask loads the model)


def _socket(session_id: int, user=None, *, origin=ORIGIN) -> WebsocketCommunicator:
    from config.asgi import application

    protocols = ["cdss.bearer", str(AccessToken.for_user(user))] if user is not None else None
    return WebsocketCommunicator(
        application, f"/ws/chat/{session_id}/", headers=[origin], subprotocols=protocols
    )


def test_an_ask_streams_sources_deltas_and_the_stored_message(corpus, clinician_a) -> None:
    session = ChatSession.objects.create(user=clinician_a)

    async def scenario() -> list[dict]:
        socket = _socket(session.pk, clinician_a)
        connected, subprotocol = await socket.connect(timeout=WAIT)
        assert connected and subprotocol == "cdss.bearer"
        await socket.send_json_to({"type": "ask", "content": "당화혈색소 목표는 얼마인가요?"})
        frames = [await socket.receive_json_from(WAIT)]
        while frames[-1]["type"] not in ("done", "error"):
            frames.append(await socket.receive_json_from(WAIT))
        await socket.disconnect()
        return frames

    frames = async_to_sync(scenario)()
    assert frames[0]["type"] == "sources"
    assert frames[0]["sources"][0]["section"] == "당뇨병"
    assert frames[-1]["type"] == "done"
    text = "".join(f["text"] for f in frames if f["type"] == "delta")
    assert text == frames[-1]["message"]["content"]
    assert "7% 미만" in text
    stored = Message.objects.get(pk=frames[-1]["message"]["id"])
    assert stored.session_id == session.pk and stored.citations


def test_a_cancel_stops_the_answer_unstored(monkeypatch, clinician_a) -> None:
    session = ChatSession.objects.create(user=clinician_a)

    def endless(*, user, session, question, cancel: threading.Event):
        yield {"type": "sources", "sources": []}
        while not cancel.is_set():
            yield {"type": "delta", "text": "word "}

    monkeypatch.setattr(consumers, "answer_events", endless)

    async def scenario() -> dict:
        socket = _socket(session.pk, clinician_a)
        assert (await socket.connect(timeout=WAIT))[0]
        await socket.send_json_to({"type": "ask", "content": "anything"})
        assert (await socket.receive_json_from(WAIT))["type"] == "sources"
        assert (await socket.receive_json_from(WAIT))["type"] == "delta"
        await socket.send_json_to({"type": "cancel"})
        frame = await socket.receive_json_from(WAIT)
        while frame["type"] == "delta":
            frame = await socket.receive_json_from(WAIT)
        await socket.disconnect()
        return frame

    assert async_to_sync(scenario)() == {
        "type": "error",
        "code": "cancelled",
        "error": "Cancelled; the answer was not stored.",
    }


def test_a_cancelled_answer_is_not_stored(corpus, clinician_a) -> None:
    session = ChatSession.objects.create(user=clinician_a)
    cancel = threading.Event()
    frames = answers.answer_events(
        user=clinician_a, session=session, question="sepsis antibiotics", cancel=cancel
    )
    assert next(frames)["type"] == "sources"
    cancel.set()
    assert [f["type"] for f in frames if f["type"] == "done"] == []
    assert list(Message.objects.filter(session=session).values_list("role", flat=True)) == ["user"]


@pytest.mark.parametrize("case", ["someone_elses", "missing", "no_token", "bad_origin"])
def test_refused_before_any_message(case, clinician_a, clinician_b) -> None:
    session = ChatSession.objects.create(user=clinician_a)
    session_id, user, origin = session.pk, clinician_a, ORIGIN
    if case == "someone_elses":
        user = clinician_b
    elif case == "missing":
        session_id = 987654321
    elif case == "no_token":
        user = None
    elif case == "bad_origin":
        origin = (b"origin", b"https://evil.example.com")

    async def scenario() -> None:
        socket = _socket(session_id, user, origin=origin)
        connected, code = await socket.connect(timeout=WAIT)
        assert connected is False
        if case in ("someone_elses", "missing"):
            assert code == consumers.CLOSE_NOT_FOUND
        assert await socket.receive_nothing(timeout=0.05)

    async_to_sync(scenario)()


def test_losing_the_sessions_patient_ends_the_socket(clinician_a) -> None:
    from cdss.patients.tests.factories import PatientFactory

    patient = PatientFactory(care_team=[clinician_a])
    session = ChatSession.objects.create(user=clinician_a, patient_id=patient.pk)

    async def scenario() -> tuple[dict, dict]:
        socket = _socket(session.pk, clinician_a)
        assert (await socket.connect(timeout=WAIT))[0]
        await database_sync_to_async(patient.care_team.remove)(clinician_a)
        await socket.send_json_to({"type": "ask", "content": "results?"})
        frame = await socket.receive_json_from(WAIT)
        closed = await socket.receive_output(WAIT)
        return frame, closed

    frame, closed = async_to_sync(scenario)()
    assert frame["code"] == "not_found"
    assert closed == {"type": "websocket.close", "code": consumers.CLOSE_NOT_FOUND}
