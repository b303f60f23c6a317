"""HTTP routes of the inference server, one Flask blueprint per concern.

``health`` (liveness and readiness), ``v1`` (the seed-compatible sequence API: model-info, predict,
retrain, structures), ``omics`` and ``imaging`` (their engines' routes). Routes parse and validate
input, call one engine, and serialize; they hold no model logic and never import Django.
``request_json`` and ``extension`` are the helpers every blueprint may share.
"""

from __future__ import annotations

from typing import Any

from flask import current_app, request

from inference.errors import PayloadTooLarge
from inference.jsonbody import parse_json_body


def _json_limit() -> int:
    limit: int = current_app.extensions["cdss"]["config"].max_body
    return limit


def request_json() -> dict[str, Any]:
    """The request body as a JSON object, or a 400 that says what is wrong with it.

    Every JSON route reads its body here: at most the server's ``max_body`` bytes (also on routes
    that accept larger uploads), parsed by ``inference.jsonbody`` (depth limit, finite numbers,
    valid Unicode).
    """
    limit = _json_limit()
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


def extension() -> dict[str, Any]:
    """The server's shared state: ``engines``, ``registry``, ``retrain``, ``config``."""
    state: dict[str, Any] = current_app.extensions["cdss"]
    return state
