"""/ws/analyses/ in process: who receives which status events; origin and token checks.

Each test drives the real ASGI application (config.asgi) with Channels' WebsocketCommunicator,
in each delivery mode: the database relay (embedded) and the channel layer, in memory and on a
real Redis (production).
"""

from __future__ import annotations

import asyncio
import os
import uuid
from datetime import timedelta

import pytest
from asgiref.sync import async_to_sync
from channels.db import database_sync_to_async
from channels.layers import get_channel_layer
from rest_framework_simplejwt.tokens import AccessToken

from cdss.accounts.services import user_logout
from cdss.audit.models import AccessEvent
from cdss.jobs import consumers, events, services
from cdss.jobs.events import group_name
from cdss.jobs.models import AnalysisEvent
from cdss.jobs.tests.factories import AnalysisFactory
from cdss.jobs.tests.ws import WebsocketCommunicator

pytestmark = pytest.mark.django_db(transaction=True)

ORIGIN = (b"origin", b"http://localhost:8000")
WAIT = 10  # seconds: a deadline for an expected message, never a wait for nothing
REDIS = os.environ.get("CDSS_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


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


def _use_redis(settings) -> None:
    """The channel layer of production: a real Redis, and a group of this test's own, so
    concurrent runs on one Redis never see each other's events."""
    settings.CDSS_JOBS_EVENT_GROUP = f"test-{uuid.uuid4().hex[:16]}.events"
    # No client-side read timeout, as production needs (test_channel_layer.py): redis-py 8's
    # default of 5 seconds fails idle sockets at random, and a finite one holds a closing socket
    # until it runs out.
    host = {"address": REDIS, "socket_timeout": None}
    settings.CHANNEL_LAYERS = {
        "default": {"BACKEND": "channels_redis.core.RedisChannelLayer", "CONFIG": {"hosts": [host]}}
    }


@pytest.fixture(params=["relay", "layer", "redis"])
def delivery(request, settings):
    """relay: the database relay on the in-memory layer (embedded); layer: events sent on commit
    through the in-memory layer; redis: sent on commit through Redis (production)."""
    settings.CDSS_JOBS_EVENT_RELAY = request.param == "relay"
    settings.CDSS_JOBS_EVENT_POLL_SECONDS = 0.05
    if request.param == "redis":
        _use_redis(settings)
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


@pytest.mark.parametrize(
    ("frame", "named"),
    [
        ("[" * 5000 + "]" * 5000, "nested deeper than"),
        ('{"type": "ping", "x": 1e999}', "out of range"),
        ('{"type": "\\udc00"}', "lone UTF-16 surrogate"),
        ("not json", "Malformed message"),
    ],
)
def test_a_malformed_frame_gets_an_error_and_the_socket_stays(clinician_a, frame, named):
    async def scenario() -> None:
        socket = await _connected(clinician_a)
        await socket.send_text_to(frame)
        answer = await socket.receive_json_from(WAIT)
        assert answer["type"] == "error" and named in answer["error"]
        await socket.send_json_to({"type": "ping"})
        assert await socket.receive_json_from(WAIT) == {"type": "pong"}
        await socket.disconnect()

    async_to_sync(scenario)()


def test_a_logged_out_token_opens_no_socket(clinician_a):
    async def scenario() -> None:
        token = _token(clinician_a)
        await database_sync_to_async(user_logout)(user=clinician_a)
        socket = _socket(token)
        connected, _ = await socket.connect(timeout=WAIT)
        assert connected is False

    async_to_sync(scenario)()


def test_socket_closes_when_its_token_expires(delivery, clinician_a, patient_a, monkeypatch):
    async def scenario() -> None:
        socket = await _connected(clinician_a)
        monkeypatch.setattr(consumers, "_now", lambda: 10**12)  # far past the token's expiry
        await database_sync_to_async(_run)(patient_a, clinician_a)
        closed = await socket.receive_output(WAIT)
        assert closed["type"] == "websocket.close" and closed["code"] == 4401
        assert _relay_tasks() == []

    async_to_sync(scenario)()


def _relay_tasks() -> list[asyncio.Task]:
    """The relay pollers alive on this event loop (found by their code, whatever their name)."""
    return [
        task
        for task in asyncio.all_tasks()
        if getattr(task.get_coro(), "__qualname__", "").startswith("EventRelay.")
    ]


def _event_ids(analysis_ids: list[int]) -> list[int]:
    rows = AnalysisEvent.objects.filter(analysis_id__in=analysis_ids).order_by("pk")
    return list(rows.values_list("pk", flat=True))


def test_sockets_connected_at_once_get_each_event_once(
    delivery, clinician_a, clinician_b, patient_a, patient_b
):
    """Four sockets opened at the same moment: each visible event reaches each socket once, each
    delivery is audited once, and nothing of the relay is left running after the last closes."""
    users = [clinician_a, clinician_b, clinician_a, clinician_b]
    mine = {clinician_a.pk: patient_a, clinician_b.pk: patient_b}
    runs: dict[int, list[int]] = {clinician_a.pk: [], clinician_b.pk: []}

    async def scenario() -> None:
        sockets = [_socket(_token(user)) for user in users]
        accepted = await asyncio.gather(*(s.connect(timeout=WAIT) for s in sockets))
        assert all(ok for ok, _ in accepted)
        assert len(_relay_tasks()) == (1 if delivery == "relay" else 0)
        for owner in [clinician_a, clinician_b, clinician_a, clinician_a, clinician_b]:
            run = await database_sync_to_async(_run)(mine[owner.pk], owner)
            runs[owner.pk].append(run)
        for sock, user in zip(sockets, users, strict=True):
            expected = await database_sync_to_async(_event_ids)(runs[user.pk])
            got = [(await sock.receive_json_from(WAIT))["event_id"] for _ in expected]
            assert got == expected
        # Events reach a socket in order, so a duplicate would come before the next new event.
        last: dict[int, int] = {}
        for owner in (clinician_a, clinician_b):
            last[owner.pk] = await database_sync_to_async(_run)(mine[owner.pk], owner)
            runs[owner.pk].append(last[owner.pk])
        for sock, user in zip(sockets, users, strict=True):
            got = [(await sock.receive_json_from(WAIT))["analysis_id"] for _ in range(2)]
            assert got == [last[user.pk]] * 2
        await asyncio.gather(*(s.disconnect(timeout=WAIT) for s in sockets))
        assert _relay_tasks() == []

    async_to_sync(scenario)()
    # Two sockets per user, two events per analysis: four audited reads of each, by its owner only.
    delivered = AccessEvent.objects.filter(action="analysis.event", outcome="ok")
    for user in (clinician_a, clinician_b):
        other = clinician_b if user == clinician_a else clinician_a
        for run in runs[user.pk]:
            assert delivered.filter(user=user, object_id=str(run)).count() == 4
            assert not delivered.filter(user=other, object_id=str(run)).exists()


def _groups_in_use() -> set[str]:
    """This deployment's groups of the in-memory layer that still have members."""
    layer = get_channel_layer()
    return {g for g, members in layer.groups.items() if members and g.startswith(group_name())}


@pytest.mark.parametrize("mode", ["relay", "layer"])
def test_socket_that_fails_mid_delivery_leaves_nothing_behind(
    mode, settings, monkeypatch, clinician_a, clinician_b, patient_a
):
    """A socket whose client is gone when an event is sent (the server's send raises) ends
    without ``disconnect``; it must still leave its group and the relay."""
    settings.CDSS_JOBS_EVENT_RELAY = mode == "relay"
    settings.CDSS_JOBS_EVENT_POLL_SECONDS = 0.05
    patient_a.care_team.add(clinician_b)
    send_json = consumers.AnalysisStatusConsumer.send_json

    async def send_or_fail(self, content, close=False):
        if self.user_id == clinician_b.pk:
            raise ConnectionResetError("client gone")
        await send_json(self, content, close)

    monkeypatch.setattr(consumers.AnalysisStatusConsumer, "send_json", send_or_fail)

    async def scenario() -> None:
        gone = await _connected(clinician_b)
        stays = await _connected(clinician_a)
        run = await database_sync_to_async(_run)(patient_a, clinician_a)
        await asyncio.wait([gone.future], timeout=WAIT)  # the socket's application ends
        assert isinstance(gone.future.exception(), ConnectionResetError)
        got = [(await stays.receive_json_from(WAIT))["analysis_id"] for _ in range(2)]
        assert got == [run, run]
        await stays.disconnect(timeout=WAIT)
        assert _relay_tasks() == []
        assert _groups_in_use() == set()

    async_to_sync(scenario)()


def test_relays_of_other_processes_do_not_reach_this_processs_sockets(
    settings, clinician_a, patient_a
):
    """With the relay on a layer shared by several web processes (Redis), each process's relay
    sends every event; a socket must still get each one once. A second relay on the same layer
    stands in for another process."""
    settings.CDSS_JOBS_EVENT_RELAY = True
    settings.CDSS_JOBS_EVENT_POLL_SECONDS = 0.05

    async def scenario() -> None:
        other_process = events.EventRelay()
        await other_process.subscribe()
        socket = await _connected(clinician_a)
        first = await database_sync_to_async(_run)(patient_a, clinician_a)
        got = [(await socket.receive_json_from(WAIT))["analysis_id"] for _ in range(2)]
        assert got == [first, first]
        second = await database_sync_to_async(_run)(patient_a, clinician_a)
        got = [(await socket.receive_json_from(WAIT))["analysis_id"] for _ in range(2)]
        assert got == [second, second]
        await socket.disconnect(timeout=WAIT)
        await other_process.unsubscribe()
        assert _relay_tasks() == []

    async_to_sync(scenario)()
    delivered = AccessEvent.objects.filter(action="analysis.event", user=clinician_a)
    assert delivered.count() == 4


def test_an_event_handed_over_twice_is_delivered_and_audited_once(settings, clinician_a, patient_a):
    """The layer may hand a socket the same event twice (a relay that retries a send that
    failed halfway); the socket delivers it, and audits it, once."""
    settings.CDSS_JOBS_EVENT_RELAY = False

    async def scenario() -> None:
        socket = await _connected(clinician_a)
        first = await database_sync_to_async(_run)(patient_a, clinician_a)
        got = [await socket.receive_json_from(WAIT) for _ in range(2)]
        again = {"type": events.MESSAGE_TYPE, "event": got[0]}
        await get_channel_layer().group_send(group_name(), again)
        # Events reach a socket in order: had the copy been delivered, it would come first.
        sentinel = await database_sync_to_async(_run)(patient_a, clinician_a)
        assert (await socket.receive_json_from(WAIT))["analysis_id"] == sentinel
        await socket.disconnect(timeout=WAIT)
        ids.update(first=first, sentinel=sentinel)

    ids: dict[str, int] = {}
    async_to_sync(scenario)()
    delivered = AccessEvent.objects.filter(action="analysis.event", user=clinician_a)
    assert delivered.filter(object_id=str(ids["first"])).count() == 2
