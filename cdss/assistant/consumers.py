"""``/ws/chat/{session_id}/``: questions in, streamed answers out.

Authenticated and origin-checked by ``cdss.common.websocket_auth`` like every socket. The client
sends ``{"type": "ask", "content": ...}`` (one at a time), ``{"type": "cancel"}`` or
``{"type": "ping"}``; the server answers an ask with ``{"type": "sources", "sources": [...]}``,
``{"type": "delta", "text": ...}`` frames and ``{"type": "done", "message": {...}}``, or
``{"type": "error", "code": ..., "error": ...}`` (``cancelled`` after a cancel: the answer is not
stored). The session is looked up again for every question, so a user who loses the session's
patient (or whose token ran out) is refused and the socket closed.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Iterator
from typing import Any

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.http import Http404

from cdss.accounts.models import User
from cdss.assistant.access import chat_session_for_request
from cdss.assistant.answers import answer_events
from cdss.assistant.schemas import MAX_QUESTION_CHARS
from cdss.common.metrics import websocket_closed, websocket_opened
from cdss.common.parsers import json_loads_strict
from cdss.common.websocket_auth import SUBPROTOCOL

logger = logging.getLogger(__name__)

CLOSE_UNAUTHENTICATED = 4401
CLOSE_NOT_FOUND = 4404
_DONE = object()


def _session_for(user_id: int, session_id: int, *, connect: bool) -> tuple[User, Any] | None:
    """The user and the session through the audited access path (``chat_session.connect``: a
    refusal is recorded, and so is opening a patient's session); None when refused. Each ask
    looks again (unaudited: the answer records its own reads)."""
    user = User.objects.filter(pk=user_id, is_active=True).first()
    if user is None:
        return None
    try:
        session = chat_session_for_request(
            user=user, session_id=session_id, action="chat_session.connect", audit_success=connect
        )
    except Http404:
        return None
    return user, session


class ChatConsumer(AsyncJsonWebsocketConsumer):  # type: ignore[misc]
    user_id: int | None = None
    task: asyncio.Task[None] | None = None
    cancel_event: threading.Event | None = None

    async def connect(self) -> None:
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            await self.close(code=CLOSE_UNAUTHENTICATED)
            return
        self.session_id = int(self.scope["url_route"]["kwargs"]["session_id"])
        if (
            await database_sync_to_async(_session_for)(user.pk, self.session_id, connect=True)
            is None
        ):
            await self.close(code=CLOSE_NOT_FOUND)
            return
        self.user_id = user.pk
        self.expires_at = self.scope.get("token_expires_at")
        offered = self.scope.get("subprotocols") or []
        await self.accept(subprotocol=SUBPROTOCOL if SUBPROTOCOL in offered else None)
        websocket_opened(self, route="ws/chat/<int:session_id>/")

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        # A socket whose handler raised never reaches ``disconnect``; it must still leave the
        # gauge of open sockets.
        try:
            await super().__call__(scope, receive, send)
        finally:
            websocket_closed(self)

    async def disconnect(self, code: int) -> None:
        websocket_closed(self)
        await self._stop()

    async def receive(self, text_data: Any = None, bytes_data: Any = None, **kwargs: Any) -> None:
        try:
            content = json_loads_strict(text_data if text_data is not None else bytes_data or b"")
        except ValueError as exc:
            await self._error("bad_message", f"Malformed message: {exc}")
            return
        await self.receive_json(content)

    async def receive_json(self, content: Any, **kwargs: Any) -> None:
        kind = content.get("type") if isinstance(content, dict) else None
        if kind == "ping":
            await self.send_json({"type": "pong"})
        elif kind == "cancel":
            await self._stop()
        elif kind == "ask":
            question = content.get("content")
            if not isinstance(question, str) or not question.strip():
                await self._error("bad_message", "content: a question is required.")
            elif len(question) > MAX_QUESTION_CHARS:
                await self._error(
                    "bad_message", f"content: at most {MAX_QUESTION_CHARS} characters."
                )
            elif self.task is not None and not self.task.done():
                await self._error("busy", "An answer is still being written; cancel it first.")
            else:
                self.cancel_event = threading.Event()
                self.task = asyncio.ensure_future(self._answer(question.strip(), self.cancel_event))
        else:
            await self._error("bad_message", "type: one of ask, cancel, ping.")

    async def _error(self, code: str, message: str) -> None:
        await self.send_json({"type": "error", "code": code, "error": message})

    async def _stop(self) -> None:
        """Cancels the answer being written, if any: it stops at its next step, unstored."""
        task, event = self.task, self.cancel_event
        if event is not None:
            event.set()
        if task is not None and not task.done():
            await asyncio.wait([task], timeout=30)

    async def _answer(self, question: str, cancel: threading.Event) -> None:
        if self.user_id is None:
            return
        if self.expires_at is not None and time.time() >= self.expires_at:
            await self.close(code=CLOSE_UNAUTHENTICATED)
            return
        found = await database_sync_to_async(_session_for)(
            self.user_id, self.session_id, connect=False
        )
        if found is None:  # the session is gone, or its patient is no longer the user's
            await self._error("not_found", "Not found.")
            await self.close(code=CLOSE_NOT_FOUND)
            return
        user, session = found
        frames: Iterator[dict[str, Any]] = answer_events(
            user=user, session=session, question=question, cancel=cancel
        )
        step = database_sync_to_async(lambda: next(frames, _DONE))
        try:
            while True:
                frame = await step()
                if frame is _DONE:
                    break
                await self.send_json(frame)
        except Exception:
            logger.exception("chat answer failed (session %s)", self.session_id)
            await self._error("internal_error", "The answer could not be written.")
            return
        if cancel.is_set():
            await self._error("cancelled", "Cancelled; the answer was not stored.")
