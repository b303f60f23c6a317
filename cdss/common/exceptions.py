"""The one DRF exception handler and the domain error types it maps.

Every error response has the shape ``{"error": "<message>", "detail": {...}}``. A 400 names the
bad field(s) in the message and lists them in ``detail``; a 5xx also carries ``request_id``, the
id of the log lines that explain it.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler

from cdss.common.request_context import get_request_context


class ApplicationError(Exception):
    """A domain error with an HTTP status; services raise these, never build responses."""

    status_code: int = status.HTTP_400_BAD_REQUEST

    def __init__(self, message: str, *, detail: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.detail = detail or {}


class ConflictError(ApplicationError):
    status_code = status.HTTP_409_CONFLICT


def error_body(
    status_code: int, message: str, detail: dict[str, Any] | None = None
) -> dict[str, Any]:
    """The one error shape; server errors name the request so an operator can find its log."""
    body: dict[str, Any] = {"error": message, "detail": detail or {}}
    if status_code >= 500:
        body["request_id"] = get_request_context().request_id
    return body


def _flatten(detail: Any, prefix: str = "") -> list[str]:
    """Turns DRF's nested error detail into "field: message" strings."""
    if isinstance(detail, dict):
        out: list[str] = []
        for key, value in detail.items():
            name = f"{prefix}.{key}" if prefix else str(key)
            if key == "non_field_errors":
                name = prefix or "body"
            out.extend(_flatten(value, name))
        return out
    if isinstance(detail, list):
        out = []
        for i, item in enumerate(detail):
            if isinstance(item, (dict, list)):
                out.extend(_flatten(item, f"{prefix}[{i}]"))
            else:
                out.extend(_flatten(item, prefix))
        return out
    return [f"{prefix}: {detail}" if prefix else str(detail)]


def invalid_input(detail: dict[str, Any]) -> ApplicationError:
    """The 400 of a service that validated input itself (a serializer's ``errors``): the same
    message and detail the handler gives a view's validation error."""
    return ApplicationError("Invalid input: " + "; ".join(_flatten(detail)), detail=detail)


def _message_for(exc: exceptions.APIException) -> str:
    if isinstance(exc, exceptions.ValidationError):
        return "Invalid input: " + "; ".join(_flatten(exc.detail))
    if isinstance(exc, exceptions.ParseError):
        return f"Malformed request body: {exc.detail}"
    detail = exc.detail
    if isinstance(detail, dict) and isinstance(detail.get("detail"), str):
        # simplejwt's token errors: {"detail": message, "code": ..., "messages": [...]}.
        return str(detail["detail"])
    if isinstance(detail, (list, dict)):
        return "; ".join(_flatten(detail))
    return str(detail)


def _record_denied(context: dict[str, Any]) -> None:
    request = context.get("request")
    if request is not None:
        record_denied(request)


def record_denied(request: Any) -> None:
    """A refused permission is an access attempt: it goes into the audit trail like a 404 does."""
    from cdss.audit.models import Outcome
    from cdss.audit.services import access_event_record

    match = getattr(request, "resolver_match", None)
    route = (match.url_name if match is not None else None) or request.path
    access_event_record(
        user=getattr(request, "user", None),
        action="access.denied",
        outcome=Outcome.DENIED,
        object_type="route",
        object_id=f"{request.method} {route}"[:64],
    )


def api_exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, ApplicationError):
        if exc.status_code == status.HTTP_403_FORBIDDEN:
            _record_denied(context)
        return Response(
            error_body(exc.status_code, exc.message, exc.detail), status=exc.status_code
        )
    if isinstance(exc, RequestDataTooBig):
        return Response(
            {"error": "Request body is over the configured limit.", "detail": {}},
            status=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE,
        )
    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(
            exc.message_dict if hasattr(exc, "error_dict") else {"body": exc.messages}
        )
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()

    response = exception_handler(exc, context)
    if response is None or not isinstance(exc, exceptions.APIException):
        return response
    if isinstance(exc, exceptions.PermissionDenied):
        _record_denied(context)
    detail = exc.detail if isinstance(exc.detail, dict) else {}
    if isinstance(exc, exceptions.ValidationError) and not isinstance(exc.detail, dict):
        detail = {"body": exc.detail}
    response.data = error_body(response.status_code, _message_for(exc), detail)
    return response
