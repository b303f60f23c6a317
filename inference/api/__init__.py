"""HTTP routes of the inference server, one Flask blueprint per concern.

``health`` (liveness and readiness), ``v1`` (the seed-compatible sequence API: model-info, predict,
retrain, structures), ``omics`` and ``imaging`` (their engines' routes). Routes parse and validate
input, call one engine, and serialize; they hold no model logic and never import Django.
``request_json`` and ``extension`` are the helpers every blueprint may share.
"""

from __future__ import annotations

from typing import Any

from flask import current_app, request

from inference.errors import InvalidInput


def request_json() -> dict[str, Any]:
    """The request body as a JSON object, or a 400 that says what is wrong with it."""
    if not request.get_data(cache=True):
        raise InvalidInput("body: is empty; send a JSON object", field="body")
    body = request.get_json(force=True, silent=True)
    if body is None:
        raise InvalidInput("body: is not valid JSON", field="body")
    if not isinstance(body, dict):
        raise InvalidInput(
            f"body: must be a JSON object, got a JSON {type(body).__name__}", field="body"
        )
    return body


def extension() -> dict[str, Any]:
    """The server's shared state: ``engines``, ``registry``, ``retrain``, ``config``."""
    state: dict[str, Any] = current_app.extensions["cdss"]
    return state
