"""``/ws/analyses/``: pushes every status change of the analyses the user may see.

Every event goes to the group ``settings.CDSS_JOBS_EVENT_GROUP``; each socket checks, per event,
with the same rule as the REST API (``cdss.jobs.selectors.analysis_visible_to``), that its user
may see the analysis now (a clinician removed from a care team stops receiving at once), and
records each delivery in the audit trail. Events carry ids and status, never names. A socket whose
token expires is closed at its next event.

Each event reaches each socket once and is audited once: the socket joins exactly one group (the
deployment's, or with the database relay this process's relay group, ``cdss.jobs.events``), drops
an event id it has already handled, and leaves its group and relay however it ends.
"""

from __future__ import annotations

import time
from typing import Any

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.conf import settings

from cdss.accounts.models import User
from cdss.audit.models import Outcome
from cdss.audit.services import access_event_record
from cdss.common.metrics import websocket_closed, websocket_opened
from cdss.common.parsers import json_loads_strict
from cdss.common.websocket_auth import SUBPROTOCOL
from cdss.jobs.events import EventRelay, group_name, relay_for_running_loop
from cdss.jobs.selectors import analysis_visible_to

CLOSE_UNAUTHENTICATED = 4401
# How many recent event ids a socket remembers to drop a second copy of the same event.
_SEEN_WINDOW = 1024


def _now() -> float:
    return time.time()


def _fresh_user(user_id: int) -> User | None:
    return User.objects.filter(pk=user_id, is_active=True).first()


def _deliverable(user_id: int, event: dict[str, Any]) -> bool:
    """Whether the user may see this event now; a delivery is recorded in the audit trail like
    any other read (``analysis.event``, with the patient). Events the socket drops are not: every
    socket sees every event, and those are nobody's reads."""
    user = _fresh_user(user_id)
    analysis_id = event.get("analysis_id")
    if (
        user is None
        or not isinstance(analysis_id, int)
        or not analysis_visible_to(user=user, analysis_id=analysis_id)
    ):
        return False
    access_event_record(
        user=user,
        action="analysis.event",
        outcome=Outcome.OK,
        patient_id=event.get("patient_id"),
        object_type="analysis",
        object_id=str(event.get("analysis_id", "")),
    )
    return True


def _record_subscribe(user: User) -> None:
    access_event_record(
        user=user, action="analysis.subscribe", outcome=Outcome.OK, object_type="analysis"
    )


class AnalysisStatusConsumer(AsyncJsonWebsocketConsumer):  # type: ignore[misc]
    user_id: int | None = None
    # The group this socket joined and the relay it counts in, until it leaves (``_leave``).
    group: str | None = None
    relay: EventRelay | None = None

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        # A socket whose handler raised (a send to a client already gone, a failed audit write)
        # never reaches ``disconnect``; it must still leave its group and its relay.
        try:
            await super().__call__(scope, receive, send)
        finally:
            await self._leave()

    async def connect(self) -> None:
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            await self.close(code=CLOSE_UNAUTHENTICATED)
            return
        self.user_id = user.pk
        self.expires_at = self.scope.get("token_expires_at")
        # Event ids this socket has handled, oldest first: an event the layer hands over twice
        # (a relay's retry after a failed send) is delivered and audited once.
        self.seen: dict[int, None] = {}
        relay = relay_for_running_loop() if settings.CDSS_JOBS_EVENT_RELAY else None
        self.group = relay.group if relay is not None else group_name()
        await self.channel_layer.group_add(self.group, self.channel_name)
        if relay is not None:
            await relay.subscribe()
            self.relay = relay
        await database_sync_to_async(_record_subscribe)(user)
        offered = self.scope.get("subprotocols") or []
        await self.accept(subprotocol=SUBPROTOCOL if SUBPROTOCOL in offered else None)
        websocket_opened(self, route="ws/analyses/")

    async def disconnect(self, code: int) -> None:
        await self._leave()

    async def _leave(self) -> None:
        """Leaves the group and the relay, once, whichever way the socket ends."""
        websocket_closed(self)
        group, self.group = self.group, None
        relay, self.relay = self.relay, None
        try:
            if group is not None:
                await self.channel_layer.group_discard(group, self.channel_name)
        finally:
            if relay is not None:
                await relay.unsubscribe()

    async def receive(self, text_data: Any = None, bytes_data: Any = None, **kwargs: Any) -> None:
        # The REST API's JSON rules (depth, finite numbers, valid Unicode): a bad frame gets an
        # error frame, and the socket stays open.
        try:
            content = json_loads_strict(text_data if text_data is not None else bytes_data or b"")
        except ValueError as exc:
            await self.send_json({"type": "error", "error": f"Malformed message: {exc}"})
            return
        await self.receive_json(content)

    async def receive_json(self, content: Any, **kwargs: Any) -> None:
        if isinstance(content, dict) and content.get("type") == "ping":
            await self.send_json({"type": "pong"})

    async def analysis_event(self, message: dict[str, Any]) -> None:
        if self.user_id is None:
            return
        if self.expires_at is not None and _now() >= self.expires_at:
            await self._leave()  # no further event is read for a socket being closed
            await self.close(code=CLOSE_UNAUTHENTICATED)
            return
        event = message["event"]
        if not self._first_sight(event.get("event_id")):
            return
        if await database_sync_to_async(_deliverable)(self.user_id, event):
            await self.send_json(event)

    def _first_sight(self, event_id: Any) -> bool:
        if event_id in self.seen:
            return False
        self.seen[event_id] = None
        if len(self.seen) > _SEEN_WINDOW:
            del self.seen[next(iter(self.seen))]
        return True
