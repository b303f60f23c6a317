"""``/ws/analyses/``: pushes every status change of the analyses the user may see.

Every event goes to the group ``settings.CDSS_JOBS_EVENT_GROUP``; each socket checks, per event,
through the same selector as the REST API, that its user may see the analysis's patient now (a
clinician removed from a care team stops receiving at once), and records each delivery in the
audit trail. Events carry ids and status, never names. A socket whose token expires is closed at
its next event.
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
from cdss.jobs.events import group_name, relay_for_running_loop
from cdss.jobs.selectors import analysis_event_visible_to
from cdss.jobs.websocket_auth import SUBPROTOCOL

CLOSE_UNAUTHENTICATED = 4401


def _now() -> float:
    return time.time()


def _fresh_user(user_id: int) -> User | None:
    return User.objects.filter(pk=user_id, is_active=True).first()


def _deliverable(user_id: int, event: dict[str, Any]) -> bool:
    """Whether the user may see this event now; a delivery is recorded in the audit trail like
    any other read (``analysis.event``, with the patient). Events the socket drops are not: every
    socket sees every event, and those are nobody's reads."""
    user = _fresh_user(user_id)
    if user is None or not analysis_event_visible_to(
        user=user, patient_id=event.get("patient_id"), requested_by_id=event.get("requested_by_id")
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
    relayed = False

    async def connect(self) -> None:
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            await self.close(code=CLOSE_UNAUTHENTICATED)
            return
        self.user_id = user.pk
        self.expires_at = self.scope.get("token_expires_at")
        await self.channel_layer.group_add(group_name(), self.channel_name)
        if settings.CDSS_JOBS_EVENT_RELAY:
            await relay_for_running_loop().subscribe()
            self.relayed = True
        await database_sync_to_async(_record_subscribe)(user)
        offered = self.scope.get("subprotocols") or []
        await self.accept(subprotocol=SUBPROTOCOL if SUBPROTOCOL in offered else None)

    async def disconnect(self, code: int) -> None:
        if self.user_id is None:
            return
        await self.channel_layer.group_discard(group_name(), self.channel_name)
        if self.relayed:
            self.relayed = False
            await relay_for_running_loop().unsubscribe()

    async def receive_json(self, content: Any, **kwargs: Any) -> None:
        if isinstance(content, dict) and content.get("type") == "ping":
            await self.send_json({"type": "pong"})

    async def analysis_event(self, message: dict[str, Any]) -> None:
        if self.user_id is None:
            return
        if self.expires_at is not None and _now() >= self.expires_at:
            await self.close(code=CLOSE_UNAUTHENTICATED)
            return
        event = message["event"]
        if await database_sync_to_async(_deliverable)(self.user_id, event):
            await self.send_json(event)
