"""/ws/analyses/ in process: who receives which status events; origin and token checks.

Each test drives the real ASGI application (config.asgi) with Channels' WebsocketCommunicator,
in both delivery modes: the database relay (embedded) and the channel layer (Redis in production).
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from asgiref.sync import async_to_sync
from channels.db import database_sync_to_async
from rest_framework_simplejwt.tokens import AccessToken

from cdss.audit.models import AccessEvent
from cdss.jobs import consumers, services
from cdss.jobs.tests.factories import AnalysisFactory
from cdss.jobs.tests.ws import WebsocketCommunicator

pytestmark = pytest.mark.django_db(transaction=True)

ORIGIN = (b"origin", b"http://localhost:8000")
WAIT = 10  # seconds: a deadline for an expected message, never a wait for nothing


def _application():
    from config.asgi import application

    return application


def _socket(token: str | None, *, origin=ORIGIN, header: bool = False) -> WebsocketCommunicator:
    headers = [origin] if origin else []
    subprotocols = None
    if token and header:
        headers.append((b"authorization", f"Bearer {token}".encode()))
    elif token:
        subprotocols = ["cdss.bearer", token]
    return WebsocketCommunicator(
        _application(), "/ws/analyses/", headers=headers, subprotocols=subprotocols
    )


def _token(user, **lifetime) -> str:
    token = AccessToken.for_user(user)
    if lifetime:
        token.set_exp(lifetime=timedelta(**lifetime))
    return str(token)


async def _connected(user, **kwargs) -> WebsocketCommunicator:
    socket = _socket(_token(user), **kwargs)
    connected, _ = await socket.connect(timeout=WAIT)
    assert connected
    return socket


def _run(patient, owner) -> int:
    analysis = AnalysisFactory(patient=patient, requested_by=owner, kind="test_patient_hold")
    services.analysis_execute(analysis_id=analysis.pk)
    return analysis.pk


@pytest.fixture(params=["relay", "layer"])
def delivery(request, settings):
    settings.CDSS_JOBS_EVENT_RELAY = request.param == "relay"
    settings.CDSS_JOBS_EVENT_POLL_SECONDS = 0.05
    return request.param


def test_events_reach_only_clinicians_who_may_see_the_patient(
    delivery, clinician_a, clinician_b, admin_user, patient_a, patient_b
):
    async def scenario() -> None:
        sock_a = await _connected(clinician_a)
        sock_b = await _connected(clinician_b, header=True)
        sock_admin = await _connected(admin_user)
        a_id = await database_sync_to_async(_run)(patient_a, clinician_a)
        got = [await sock_a.receive_json_from(WAIT) for _ in range(2)]
        assert [(e["analysis_id"], e["status"]) for e in got] == [
            (a_id, "PROCESSING"),
            (a_id, "COMPLETED"),
        ]
        assert set(got[0]) >= {"type", "analysis_id", "kind", "status", "patient_id"}
        assert "name" not in got[0] and "mrn" not in got[0]
        # Events reach each socket in order: if B's first event is its own, A's never came.
        b_id = await database_sync_to_async(_run)(patient_b, clinician_b)
        first_for_b = await sock_b.receive_json_from(WAIT)
        assert first_for_b["analysis_id"] == b_id
        seen_by_admin = {
            (await sock_admin.receive_json_from(WAIT))["analysis_id"] for _ in range(4)
        }
        assert seen_by_admin == {a_id, b_id}
        for sock in (sock_a, sock_b, sock_admin):
            await sock.disconnect()
        ids.update(a=a_id, b=b_id)

    ids: dict[str, int] = {}
    async_to_sync(scenario)()
    # Every delivery is an audited read with its patient; dropped events are nobody's reads.
    delivered = AccessEvent.objects.filter(action="analysis.event", outcome="ok")

    def reads(user) -> list[tuple[int | None, str]]:
        return sorted((e.patient_id, e.object_id) for e in delivered.filter(user=user))

    assert reads(clinician_a) == [(patient_a.pk, str(ids["a"]))] * 2
    assert (patient_a.pk, str(ids["a"])) not in reads(clinician_b)
    assert (patient_b.pk, str(ids["b"])) in reads(clinician_b)
    assert len(reads(admin_user)) == 4


def test_patientless_events_reach_only_the_requester(delivery, clinician_a, clinician_b):
    async def scenario() -> None:
        sock_a = await _connected(clinician_a)
        sock_b = await _connected(clinician_b)
        mine = await database_sync_to_async(_run)(None, clinician_a)
        assert (await sock_a.receive_json_from(WAIT))["analysis_id"] == mine
        theirs = await database_sync_to_async(_run)(None, clinician_b)
        assert (await sock_b.receive_json_from(WAIT))["analysis_id"] == theirs
        await sock_a.disconnect()
        await sock_b.disconnect()

    async_to_sync(scenario)()


def test_removed_from_care_team_stops_receiving(delivery, clinician_a, clinician_b, patient_a):
    patient_a.care_team.add(clinician_b)

    async def scenario() -> None:
        sock_b = await _connected(clinician_b)
        first = await database_sync_to_async(_run)(patient_a, clinician_a)
        assert (await sock_b.receive_json_from(WAIT))["analysis_id"] == first
        await sock_b.receive_json_from(WAIT)  # its COMPLETED
        await database_sync_to_async(patient_a.care_team.remove)(clinician_b)
        await database_sync_to_async(_run)(patient_a, clinician_a)
        own = await database_sync_to_async(_run)(None, clinician_b)
        assert (await sock_b.receive_json_from(WAIT))["analysis_id"] == own
        await sock_b.disconnect()

    async_to_sync(scenario)()


@pytest.mark.parametrize(
    "case", ["bad_origin", "no_origin", "expired_token", "garbage_token", "no_token", "inactive"]
)
def test_socket_is_closed_before_any_message(case, clinician_a):
    async def scenario() -> None:
        token: str | None = _token(clinician_a)
        origin: tuple[bytes, bytes] | None = ORIGIN
        if case == "bad_origin":
            origin = (b"origin", b"https://evil.example.com")
        elif case == "no_origin":
            origin = None
        elif case == "expired_token":
            token = _token(clinician_a, seconds=-1)
        elif case == "garbage_token":
            token = "not.a.jwt"
        elif case == "no_token":
            token = None
        elif case == "inactive":
            clinician_a.is_active = False
            await database_sync_to_async(clinician_a.save)()
        socket = _socket(token, origin=origin)
        connected, _ = await socket.connect(timeout=WAIT)
        assert connected is False
        assert await socket.receive_nothing(timeout=0.05)

    async_to_sync(scenario)()


def test_subprotocol_is_answered_and_ping_pong(clinician_a):
    async def scenario() -> None:
        socket = _socket(_token(clinician_a))
        connected, subprotocol = await socket.connect(timeout=WAIT)
        assert connected and subprotocol == "cdss.bearer"
        await socket.send_json_to({"type": "ping"})
        assert await socket.receive_json_from(WAIT) == {"type": "pong"}
        await socket.disconnect()

    async_to_sync(scenario)()


def test_socket_closes_when_its_token_expires(delivery, clinician_a, patient_a, monkeypatch):
    async def scenario() -> None:
        socket = await _connected(clinician_a)
        monkeypatch.setattr(consumers, "_now", lambda: 10**12)  # far past the token's expiry
        await database_sync_to_async(_run)(patient_a, clinician_a)
        closed = await socket.receive_output(WAIT)
        assert closed["type"] == "websocket.close" and closed["code"] == 4401

    async_to_sync(scenario)()
