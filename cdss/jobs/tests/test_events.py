"""The database relay of live status (cdss.jobs.events.EventRelay), driven directly.

One poller however many sockets subscribe at once, stopped and awaited when the last leaves;
a failed poll is logged and retried; a subscribe cancelled while the relay starts counts nothing;
each relay sends to its own group only.
"""

from __future__ import annotations

import asyncio
import logging
import threading

import pytest
from asgiref.sync import async_to_sync
from channels.db import database_sync_to_async
from channels.layers import get_channel_layer

from cdss.jobs import events, services
from cdss.jobs.tests.factories import AnalysisFactory

pytestmark = pytest.mark.django_db(transaction=True)

WAIT = 10  # seconds: a deadline for an expected message, never a wait for nothing


@pytest.fixture(autouse=True)
def _fast_polls(settings):
    settings.CDSS_JOBS_EVENT_RELAY = True
    settings.CDSS_JOBS_EVENT_POLL_SECONDS = 0.05


def _relay_tasks() -> list[asyncio.Task]:
    return [t for t in asyncio.all_tasks() if t.get_name() == "cdss.jobs.events.relay"]


def _run(patient) -> list[int]:
    """Runs one analysis; the ids of its status events (PROCESSING, COMPLETED)."""
    analysis = AnalysisFactory(patient=patient, requested_by=patient.care_team.first())
    services.analysis_execute(analysis_id=analysis.pk)
    return list(analysis.events.order_by("pk").values_list("pk", flat=True))


async def _listener(group: str) -> str:
    layer = get_channel_layer()
    channel = await layer.new_channel()
    await layer.group_add(group, channel)
    return channel


async def _received(channel: str, count: int) -> list[int]:
    layer = get_channel_layer()
    messages = [await asyncio.wait_for(layer.receive(channel), WAIT) for _ in range(count)]
    return [m["event"]["event_id"] for m in messages]


def test_subscribers_arriving_and_leaving_together_share_one_poller(patient_a):
    async def scenario() -> None:
        relay = events.EventRelay()
        channel = await _listener(relay.group)
        await asyncio.gather(*(relay.subscribe() for _ in range(6)))
        assert relay.subscribers == 6 and len(_relay_tasks()) == 1
        await asyncio.gather(
            *(relay.unsubscribe() for _ in range(3)), *(relay.subscribe() for _ in range(2))
        )
        assert relay.subscribers == 5 and len(_relay_tasks()) == 1
        expected = await database_sync_to_async(_run)(patient_a)
        expected += await database_sync_to_async(_run)(patient_a)
        assert await _received(channel, len(expected)) == expected
        # Sent in order by one poller: a second copy would come before the next new event.
        sentinel = await database_sync_to_async(_run)(patient_a)
        assert await _received(channel, 2) == sentinel
        poller = _relay_tasks()[0]
        await asyncio.gather(*(relay.unsubscribe() for _ in range(5)))
        assert poller.done() and not relay.running and _relay_tasks() == []

    async_to_sync(scenario)()


def test_a_failed_poll_is_logged_and_polling_goes_on(patient_a, monkeypatch, caplog):
    real = events._events_after
    failures = iter([RuntimeError("database went away")])

    def flaky(cursor: int):
        failure = next(failures, None)
        if failure is not None:
            raise failure
        return real(cursor)

    monkeypatch.setattr(events, "_events_after", flaky)

    async def scenario() -> None:
        relay = events.EventRelay()
        channel = await _listener(relay.group)
        await relay.subscribe()
        expected = await database_sync_to_async(_run)(patient_a)
        assert await _received(channel, 2) == expected
        assert relay.running
        await relay.unsubscribe()

    with caplog.at_level(logging.ERROR, logger="cdss.jobs.events"):
        async_to_sync(scenario)()
    assert "polling failed" in caplog.text


def test_a_subscribe_cancelled_while_the_relay_starts_counts_nothing(monkeypatch):
    entered, release = threading.Event(), threading.Event()
    real = events._last_event_id

    def slow_start() -> int:
        entered.set()
        release.wait(WAIT)
        return real()

    monkeypatch.setattr(events, "_last_event_id", slow_start)

    async def scenario() -> None:
        relay = events.EventRelay()
        subscribing = asyncio.ensure_future(relay.subscribe())
        assert await asyncio.to_thread(entered.wait, WAIT)
        subscribing.cancel()
        release.set()
        await asyncio.wait([subscribing], timeout=WAIT)
        assert subscribing.cancelled()
        assert relay.subscribers == 0 and not relay.running and _relay_tasks() == []

    async_to_sync(scenario)()


def test_a_relay_sends_to_its_own_group_only(patient_a):
    """Two relays on one layer stand in for two web processes on one Redis."""

    async def scenario() -> None:
        mine, other = events.EventRelay(), events.EventRelay()
        assert mine.group != other.group
        mine_channel = await _listener(mine.group)
        shared_channel = await _listener(events.group_name())
        await mine.subscribe()
        await other.subscribe()
        expected = await database_sync_to_async(_run)(patient_a)
        assert await _received(mine_channel, 2) == expected
        sentinel = await database_sync_to_async(_run)(patient_a)
        assert await _received(mine_channel, 2) == sentinel
        await mine.unsubscribe()
        await other.unsubscribe()
        layer = get_channel_layer()
        assert layer.channels.get(shared_channel) is None or layer.channels[shared_channel].empty()

    async_to_sync(scenario)()
