"""The Flask app factory of the inference server.

``create_app(config)`` loads the configured engines once (per worker process), registers the
blueprints (health, v1, omics, imaging) and installs the one error policy: every response is JSON,
``inference.errors`` types map to their status with ``{"error", "field"}``, HTTP errors (404, 405,
413, ...) become ``{"error": ...}``, anything unexpected is a logged 500 that leaks no details.

Production: ``gunicorn -c inference/gunicorn_conf.py 'inference.app:create_app()'``.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, request
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge

from inference.api import health, v1
from inference.config import InferenceConfig
from inference.errors import InferenceError
from inference.registry import EngineRegistry
from inference.retrain import RetrainManager

log = logging.getLogger(__name__)


def _register_engine_blueprints(app: Flask) -> None:
    # Imported here: these modules belong to the omics and imaging engines and may import their
    # (heavier) dependencies at module level.
    from inference.api import imaging, omics

    app.register_blueprint(omics.bp)
    app.register_blueprint(imaging.bp)


def _install_error_handlers(app: Flask, config: InferenceConfig) -> None:
    @app.errorhandler(InferenceError)
    def inference_error(exc: InferenceError) -> tuple[dict[str, Any], int]:
        return exc.to_dict(), exc.status_code

    @app.errorhandler(RequestEntityTooLarge)
    def too_large(exc: RequestEntityTooLarge) -> tuple[dict[str, Any], int]:
        limit = request.max_content_length or config.max_body
        return {"error": f"body: the request is larger than the limit of {limit} bytes"}, 413

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException) -> tuple[dict[str, Any], int]:
        code = exc.code or 500
        body: dict[str, Any] = {"error": f"{exc.name}: {exc.description}"}
        if code == 405 and exc.valid_methods:  # type: ignore[attr-defined]  # set on MethodNotAllowed
            body["allowed_methods"] = sorted(exc.valid_methods)  # type: ignore[attr-defined]
        return body, code

    @app.errorhandler(Exception)
    def unexpected(exc: Exception) -> tuple[dict[str, Any], int]:
        log.exception("unhandled error on %s %s", request.method, request.path)
        return {"error": "internal server error"}, 500


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
    app.json.sort_keys = False  # type: ignore[attr-defined]  # DefaultJSONProvider attribute

    if registry is None:
        registry = EngineRegistry(config)
        registry.load_all()
    manager = (
        RetrainManager(config, registry, module=retrain_module)
        if retrain_module
        else RetrainManager(config, registry)
    )
    app.extensions["cdss"] = {
        "config": config,
        "registry": registry,
        "engines": registry.engines,
        "retrain": manager,
    }

    @app.before_request
    def pick_up_new_versions() -> None:
        registry.refresh_if_changed()

    app.register_blueprint(health.bp)
    app.register_blueprint(v1.bp)
    _register_engine_blueprints(app)
    _install_error_handlers(app, config)
    return app
