"""The Flask app factory of the inference server.

``create_app(config)`` loads the configured engines once (per worker process), registers the
server's blueprints (health, v1) and the blueprint of every row of ``inference.engines.ENGINES``
(an engine that is not configured answers its routes with a 503), attaches the ``ServerState``
as ``app.extensions["cdss"]`` and installs the one error policy: every response is JSON,
``inference.errors`` types map to their status with ``{"error", "field"}``, HTTP errors (404, 405,
413, ...) become ``{"error": ...}``, anything unexpected is a logged 500 that leaks no details.

Every response carries ``X-Request-ID``: the caller's, when it is well formed
(``[A-Za-z0-9._-]{1,64}``), else a new one; every 5xx body names it (``request_id``). A WSGI
wrapper around the Flask app answers the JSON 500 itself if even the error handling fails, so no
response is ever an HTML page or a traceback. Responses are encoded with ``allow_nan=False``: a
result holding NaN or an infinity is withheld as a 500 instead of sent as invalid JSON.

``GET /metrics`` (``inference.metrics``) counts and times every request; it answers loopback
clients and the metrics token only.

Production: ``gunicorn -c inference/gunicorn_conf.py 'inference.app:create_app()'``.
"""

from __future__ import annotations

import importlib
import json
import logging
import re
import sys
import uuid
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import Any

from flask import Blueprint, Flask, request
from flask.json.provider import DefaultJSONProvider
from werkzeug.exceptions import HTTPException, InternalServerError, RequestEntityTooLarge

from inference import metrics
from inference.api import health, v1
from inference.config import InferenceConfig
from inference.engines import ENGINES
from inference.errors import InferenceError, NonFiniteResult
from inference.registry import EngineRegistry
from inference.retrain import RetrainManager
from inference.state import EXTENSION_KEY, ServerState

log = logging.getLogger(__name__)

REQUEST_ID_HEADER = "X-Request-ID"
_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")
_ENVIRON_KEY = "cdss.request_id"
_INTERNAL_ERROR = "internal server error"

StartResponse = Callable[..., Any]
WsgiApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]


def request_id() -> str:
    """The id of the request being handled (set by ``RequestIdMiddleware``)."""
    return str(request.environ.get(_ENVIRON_KEY) or "-")


class RequestIdMiddleware:
    """Gives every request an id, sets ``X-Request-ID`` on every response, and answers a JSON 500
    when the wrapped app raises (its own error handling failed)."""

    def __init__(self, app: WsgiApp) -> None:
        self.app = app

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        incoming = str(environ.get("HTTP_X_REQUEST_ID", ""))
        rid = incoming if _REQUEST_ID.fullmatch(incoming) else uuid.uuid4().hex
        environ[_ENVIRON_KEY] = rid
        started = False

        def start(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            nonlocal started
            started = True
            headers = [(k, v) for k, v in headers if k.lower() != REQUEST_ID_HEADER.lower()]
            headers.append((REQUEST_ID_HEADER, rid))
            return start_response(status, headers, exc_info)

        try:
            return self.app(environ, start)
        except Exception:
            log.exception("error handling failed on request %s", rid)
            body = json.dumps({"error": _INTERNAL_ERROR, "request_id": rid}).encode()
            headers = [
                ("Content-Type", "application/json"),
                ("Content-Length", str(len(body))),
                (REQUEST_ID_HEADER, rid),
            ]
            start_response(
                "500 INTERNAL SERVER ERROR", headers, sys.exc_info() if started else None
            )
            return [body]


class StrictJSONProvider(DefaultJSONProvider):
    """Flask's JSON with ``allow_nan=False``: NaN or an infinity becomes ``NonFiniteResult``."""

    sort_keys = False

    def dumps(self, obj: Any, **kwargs: Any) -> str:
        kwargs.setdefault("allow_nan", False)
        try:
            return super().dumps(obj, **kwargs)
        except ValueError as exc:
            if "Out of range float" not in str(exc):
                raise
            raise NonFiniteResult() from exc


def _error_body(exc: BaseException, config: InferenceConfig) -> tuple[dict[str, Any], int]:
    """The JSON error shape and status for any exception that reached the app's handlers."""
    # An error raised while a response was finished (e.g. while encoding it) arrives wrapped.
    if isinstance(exc, InternalServerError) and exc.original_exception is not None:
        exc = exc.original_exception
    if isinstance(exc, InferenceError):
        body: dict[str, Any] = exc.to_dict()
        status = exc.status_code
    elif isinstance(exc, RequestEntityTooLarge):
        limit = request.max_content_length or config.max_body
        body, status = (
            {"error": f"body: the request is larger than the limit of {limit} bytes"},
            413,
        )
    elif isinstance(exc, HTTPException) and exc.code is not None:
        status = exc.code
        # A 5xx names only its status: its description may hold internal detail.
        body = {"error": f"{exc.name}: {exc.description}" if status < 500 else exc.name.lower()}
        valid = getattr(exc, "valid_methods", None)  # set on MethodNotAllowed
        if status == 405 and valid:
            body["allowed_methods"] = sorted(valid)
    else:
        body, status = {"error": _INTERNAL_ERROR}, 500
    if status >= 500:
        body["request_id"] = request_id()
    return body, status


def engine_blueprint(name: str) -> Blueprint:
    """The blueprint of the table's engine ``name`` (its module is imported on first use)."""
    blueprint: Blueprint = importlib.import_module(ENGINES[name].api_module).bp
    if blueprint.name != name:
        raise RuntimeError(
            f"{ENGINES[name].api_module}.bp is named {blueprint.name!r}, not {name!r}"
        )
    return blueprint


def _install_error_handlers(app: Flask, config: InferenceConfig) -> None:
    @app.errorhandler(Exception)
    def any_error(exc: Exception) -> tuple[dict[str, Any], int]:
        body, status = _error_body(exc, config)
        # Flask has logged what it wrapped in InternalServerError; log the rest of the 500s here.
        if status >= 500 and not isinstance(exc, InternalServerError):
            log.error(
                "error on %s %s (request %s)",
                request.method,
                request.path,
                request_id(),
                exc_info=exc if not isinstance(exc, InferenceError) else None,
            )
        return body, status


def create_app(
    config: InferenceConfig | None = None,
    *,
    registry: EngineRegistry | None = None,
    retrain_module: str | None = None,
) -> Flask:
    """Build the server. ``registry`` (already loaded) and ``retrain_module`` are for tests."""
    config = config or InferenceConfig.from_env()
    app = Flask(__name__, static_folder=None)
    app.config["MAX_CONTENT_LENGTH"] = config.max_body
    app.json = StrictJSONProvider(app)
    app.wsgi_app = RequestIdMiddleware(app.wsgi_app)  # type: ignore[method-assign]

    if registry is None:
        registry = EngineRegistry(config)
        registry.load_all()
    manager = (
        RetrainManager(config, registry, module=retrain_module)
        if retrain_module
        else RetrainManager(config, registry)
    )
    app.extensions[EXTENSION_KEY] = ServerState(
        config=config, registry=registry, retrain=manager, started_at=datetime.now(UTC)
    )

    @app.before_request
    def pick_up_new_versions() -> None:
        registry.refresh_if_changed()

    app.register_blueprint(health.bp)
    app.register_blueprint(v1.bp)
    for name in ENGINES:
        app.register_blueprint(engine_blueprint(name))
    # /metrics, and the request counts and latencies behind it (inference.metrics).
    metrics.install(app)
    _install_error_handlers(app, config)
    return app
