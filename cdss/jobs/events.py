"""Live status: every status event reaches the channel-layer group
``settings.CDSS_JOBS_EVENT_GROUP``; the WebSocket consumer (``cdss.jobs.consumers``) decides per
socket whether its user may see it.

Two ways to the group, chosen by ``settings.CDSS_JOBS_EVENT_RELAY``:

- through the channel layer (Redis in production): the process that made the change sends the
  event when its transaction commits, so a change made in a worker reaches every web process;
- through the database (the embedded mode's in-memory layer cannot cross processes): each web
  process runs one ``EventRelay`` while it has sockets open, which reads new ``AnalysisEvent``
  rows (written in the same transaction as the change) and sends them to its own layer.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
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
    """Reads status events from the database and sends them to this process's channel layer.

    One per event loop, running while at least one socket of that loop is subscribed.
    """

    def __init__(self) -> None:
        self.subscribers = 0
        self.cursor = 0
        self.task: asyncio.Task[None] | None = None

    async def subscribe(self) -> None:
        self.subscribers += 1
        if self.task is None or self.task.done():
            self.cursor = await database_sync_to_async(_last_event_id)()
            self.task = asyncio.get_running_loop().create_task(self._run())

    async def unsubscribe(self) -> None:
        self.subscribers = max(0, self.subscribers - 1)
        if self.subscribers == 0 and self.task is not None:
            self.task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.task
            self.task = None

    async def poll_once(self) -> int:
        events = await database_sync_to_async(_events_after)(self.cursor)
        layer = get_channel_layer()
        for payload in events:
            if layer is not None:
                await layer.group_send(group_name(), {"type": MESSAGE_TYPE, "event": payload})
            self.cursor = payload["event_id"]
        return len(events)

    async def _run(self) -> None:
        interval = float(settings.CDSS_JOBS_EVENT_POLL_SECONDS)
        while True:
            try:
                sent = await self.poll_once()
            except asyncio.CancelledError:
                raise
            except Exception:
                logger.exception("analysis event relay: polling failed; trying again")
                sent = 0
            if sent < _RELAY_BATCH:
                await asyncio.sleep(interval)


_relays: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, EventRelay] = (
    weakref.WeakKeyDictionary()
)


def relay_for_running_loop() -> EventRelay:
    loop = asyncio.get_running_loop()
    relay = _relays.get(loop)
    if relay is None:
        relay = _relays[loop] = EventRelay()
    return relay
