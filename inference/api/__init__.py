"""HTTP routes of the inference server, one Flask blueprint per concern.

``health`` (liveness and readiness) and ``v1`` (model-info) belong to the server; every engine of
``inference.engines.ENGINES`` has its own module named after it: ``sequence`` (the seed-compatible
predict, retrain and structures routes), ``omics`` and ``imaging``. Routes parse and validate
input, call one engine or service, and serialize; they hold no model logic and never import
Django. ``request_json`` and ``server_state`` are the helpers every blueprint may share.
"""

from __future__ import annotations

from typing import Any

from flask import current_app, request

from inference.errors import PayloadTooLarge
from inference.jsonbody import parse_json_body
from inference.state import EXTENSION_KEY, ServerState


def server_state() -> ServerState:
    """The state of the app handling this request: config, engines, registry, retrain manager."""
    state: ServerState = current_app.extensions[EXTENSION_KEY]
    return state


def request_json() -> dict[str, Any]:
    """The request body as a JSON object, or a 400 that says what is wrong with it.

    Every JSON route reads its body here: at most the server's ``max_body`` bytes (also on routes
    that accept larger uploads), parsed by ``inference.jsonbody`` (depth limit, finite numbers,
    valid Unicode).
    """
    limit = server_state().config.max_body
    length = request.content_length
    if length is not None and length > limit:
        raise _too_large(limit)
    data = request.get_data(cache=True) if length is not None else request.stream.read(limit + 1)
    if len(data) > limit:
        raise _too_large(limit)
    body: dict[str, Any] = parse_json_body(data)
    return body


def _too_large(limit: int) -> PayloadTooLarge:
    return PayloadTooLarge(
        f"body: the JSON body is larger than the limit of {limit} bytes", field="body"
    )
