"""Per-request facts (request id, client IP, user agent) carried in context variables.

The middleware sets them once per request, so services can write audit records and loggers can
stamp lines without passing the request object through every layer.
"""

from __future__ import annotations

import contextvars
from dataclasses import dataclass


@dataclass(frozen=True)
class RequestContext:
    request_id: str = "-"
    ip: str | None = None
    user_agent: str = ""


_current: contextvars.ContextVar[RequestContext] = contextvars.ContextVar(
    "cdss_request_context",
    default=RequestContext(),  # noqa: B039 - a frozen dataclass, never mutated
)


def get_request_context() -> RequestContext:
    return _current.get()


def set_request_context(ctx: RequestContext) -> contextvars.Token[RequestContext]:
    return _current.set(ctx)


def reset_request_context(token: contextvars.Token[RequestContext]) -> None:
    _current.reset(token)
