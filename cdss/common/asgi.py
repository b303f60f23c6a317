"""ASGI wrapper that enforces the request body limit before Django reads the body.

Django's ASGI handler receives the whole body (spooling it to disk) before any middleware runs, so
a limit checked in middleware comes after the upload. Here a declared ``Content-Length`` over the
route's limit is answered 413 at once, and a body without one (chunked) is cut off as soon as it
passes the limit: at most ``limit`` bytes plus one chunk are ever read.

Except a small excess: a body of at most ``DRAIN_MAX_BYTES`` is read to its end (and dropped)
before the 413. Closing a connection with unread bytes makes the kernel reset it, and a proxy
still sending the body (nginx, which buffers it first) then loses the answer and says 502; a
larger body is refused at once (nginx's own caps keep those from reaching us behind it).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from cdss.common.limits import body_limit_for, too_large_message

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
# Any ASGI application; Django's handler types its arguments more narrowly than this wrapper.
App = Callable[..., Awaitable[None]]

DRAIN_MAX_BYTES = 32 * 1024 * 1024


async def _drain(receive: Receive, budget: int) -> None:
    """Reads and drops the rest of the body, at most ``budget`` bytes; stops at a disconnect."""
    while budget >= 0:
        message = await receive()
        if message["type"] != "http.request" or not message.get("more_body", False):
            return
        budget -= len(message.get("body", b""))


async def _send_413(send: Send, limit: int, length: int | None) -> None:
    request_id = uuid.uuid4().hex
    body = json.dumps(
        {
            "error": too_large_message(limit, length),
            "detail": {"limit_bytes": limit},
        }
    ).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"x-request-id", request_id.encode()),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


def _declared_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", []):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return -1
    return None


class BodyLimitMiddleware:
    def __init__(self, app: App) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = body_limit_for(scope.get("path", ""))
        length = _declared_length(scope)
        if length is not None and length > limit:
            if length <= DRAIN_MAX_BYTES:
                await _drain(receive, length)
            await _send_413(send, limit, length)
            return
        # A body with no length, or one longer than it said: count what arrives.
        received = 0
        over = False
        started = False

        async def limited_receive() -> Message:
            nonlocal received, over
            if over:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    over = True
                    if message.get("more_body", False) and received <= DRAIN_MAX_BYTES:
                        await _drain(receive, DRAIN_MAX_BYTES - received)
                    return {"type": "http.disconnect"}
            return message

        async def tracked_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        await self.app(scope, limited_receive, tracked_send)
        if over and not started:
            await _send_413(send, limit, None)
