"""Live status: every status event reaches the channel-layer group
``settings.CDSS_JOBS_EVENT_GROUP``; the WebSocket consumer (``cdss.jobs.consumers``) decides per
socket whether its user may see it.

Two ways to the group, chosen by ``settings.CDSS_JOBS_EVENT_RELAY``:

- through the channel layer (Redis in production): the process that made the change sends the
  event when its transaction commits, so a change made in a worker reaches every web process;
- through the database (the embedded mode's in-memory layer cannot cross processes): each web
  process runs one ``EventRelay`` while it has sockets open, which reads new ``AnalysisEvent``
  rows (written in the same transaction as the change) and sends each one once to a group of its
  own (``EventRelay.group``), which only that process's sockets join. A shared layer (Redis)
  with the relay switched on therefore still delivers each event once per socket, not once per
  web process.

Invariants of the relay: at most one poller per process (its event loop), one cursor, owned by
the relay; the first socket starts it, the last one stops it and waits for it to end; a failed
poll is logged and retried, never the end of the poller.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
import weakref
from typing import Any

from asgiref.sync import async_to_sync
from channels.db import database_sync_to_async
from channels.layers import get_channel_layer
from django.conf import settings
from django.db import transaction

from cdss.jobs.models import AnalysisEvent

logger = logging.getLogger(__name__)

MESSAGE_TYPE = "analysis.event"
_RELAY_BATCH = 500
# A relay that keeps failing (database down) waits longer between tries: up to this many intervals.
_RELAY_MAX_BACKOFF = 64


def group_name() -> str:
    return str(settings.CDSS_JOBS_EVENT_GROUP)


def event_payload(event: AnalysisEvent, *, kind: str) -> dict[str, Any]:
    """What a socket receives: ids and status only, never patient-identifying values."""
    return {
        "type": "analysis.status",
        "event_id": event.pk,
        "analysis_id": event.analysis_id,
        "kind": kind,
        "status": event.status,
        "attempt": event.attempt,
        "error_code": event.error_code or None,
        "patient_id": event.patient_id,
        "requested_by_id": event.requested_by_id,
        "occurred_at": event.occurred_at.isoformat(),
    }


def _send(payload: dict[str, Any]) -> None:
    layer = get_channel_layer()
    if layer is None:
        return
    async_to_sync(layer.group_send)(group_name(), {"type": MESSAGE_TYPE, "event": payload})


def event_publish_on_commit(event: AnalysisEvent, *, kind: str) -> None:
    """Sends the event to the group after the surrounding transaction commits (layer mode)."""
    if settings.CDSS_JOBS_EVENT_RELAY:
        return  # the relay of each web process reads it from the database
    payload = event_payload(event, kind=kind)
    transaction.on_commit(lambda: _send(payload), robust=True)


def _events_after(cursor: int) -> list[dict[str, Any]]:
    rows = (
        AnalysisEvent.objects.filter(pk__gt=cursor)
        .select_related("analysis")
        .only(
            "id",
            "analysis_id",
            "analysis__kind",
            "status",
            "attempt",
            "error_code",
            "patient_id",
            "requested_by_id",
            "occurred_at",
        )
        .order_by("pk")[:_RELAY_BATCH]
    )
    return [event_payload(e, kind=e.analysis.kind) for e in rows]


def _last_event_id() -> int:
    last = AnalysisEvent.objects.order_by("-pk").values_list("pk", flat=True).first()
    return int(last or 0)


class EventRelay:
    """Reads status events from the database and sends each one once to ``self.group``.

    Sockets call ``subscribe`` after joining ``self.group`` and ``unsubscribe`` when they leave.
    Starting and stopping happen under one lock, so sockets that connect at the same moment share
    one poller and its cursor.
    """

    def __init__(self) -> None:
        # Unique per relay, so only this process's sockets receive what this relay sends.
        self.group = f"{group_name()}.relay.{uuid.uuid4().hex[:12]}"
        self._lock = asyncio.Lock()
        self._subscribers = 0
        self._cursor = 0
        self._interval = 0.0
        self._task: asyncio.Task[None] | None = None

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    @property
    def subscribers(self) -> int:
        return self._subscribers

    async def subscribe(self) -> None:
        """Counts one more socket, starting the poller for the first. Cancelled or failed while
        starting, it counts nothing, so the caller has nothing to undo."""
        async with self._lock:
            self._subscribers += 1
            if not self.running:
                try:
                    await self._start()
                except BaseException:
                    self._subscribers -= 1
                    raise

    async def unsubscribe(self) -> None:
        """Counts one socket less; the last one stops the poller and waits for it to end."""
        # Counted before waiting for the lock: a socket cancelled while it waits is still gone,
        # and a poller that finds nobody subscribed ends by itself.
        self._subscribers = max(0, self._subscribers - 1)
        async with self._lock:
            if self._subscribers == 0:
                await self._stop()

    async def _start(self) -> None:
        self._interval = float(settings.CDSS_JOBS_EVENT_POLL_SECONDS)
        self._cursor = await database_sync_to_async(_last_event_id)()
        self._task = asyncio.get_running_loop().create_task(
            self._run(), name="cdss.jobs.events.relay"
        )
        self._task.add_done_callback(_log_unexpected_end)

    async def _stop(self) -> None:
        task, self._task = self._task, None
        if task is None:
            return
        task.cancel()
        # asyncio.wait, not ``await task``: a cancellation of the caller must reach the caller.
        await asyncio.wait([task])

    async def poll_once(self) -> int:
        """Sends the events after the cursor, in order, moving the cursor past each one sent."""
        events = await database_sync_to_async(_events_after)(self._cursor)
        layer = get_channel_layer()
        for payload in events:
            if layer is not None:
                await layer.group_send(self.group, {"type": MESSAGE_TYPE, "event": payload})
            self._cursor = payload["event_id"]
        return len(events)

    async def _run(self) -> None:
        failures = 0
        while self._subscribers > 0:
            try:
                sent = await self.poll_once()
                failures = 0
            except Exception:
                failures += 1
                logger.exception("analysis event relay: polling failed (%d in a row)", failures)
                sent = 0
            if sent < _RELAY_BATCH:
                await asyncio.sleep(self._interval * min(2**failures, _RELAY_MAX_BACKOFF))


def _log_unexpected_end(task: asyncio.Task[None]) -> None:
    if not task.cancelled() and task.exception() is not None:
        logger.error("analysis event relay ended unexpectedly", exc_info=task.exception())


_relays: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, EventRelay] = (
    weakref.WeakKeyDictionary()
)


def relay_for_running_loop() -> EventRelay:
    """This process's relay (one per event loop: a loop is what a poller task belongs to)."""
    loop = asyncio.get_running_loop()
    relay = _relays.get(loop)
    if relay is None:
        relay = _relays[loop] = EventRelay()
    return relay
