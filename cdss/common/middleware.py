"""HTTP middleware: request id, request body limit (413), content security policy, request log."""

from __future__ import annotations

import logging
import re
import time
import uuid
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse

from cdss.common.request_context import (
    RequestContext,
    reset_request_context,
    set_request_context,
)

logger = logging.getLogger("cdss.request")

_REQUEST_ID_RE = re.compile(r"^[A-Za-z0-9._-]{1,64}$")

Handler = Callable[[HttpRequest], HttpResponse]


def _client_ip(request: HttpRequest) -> str | None:
    # Behind the bundled nginx, REMOTE_ADDR is the proxy; nginx sets X-Real-IP from the client.
    real_ip = request.META.get("HTTP_X_REAL_IP", "")
    if real_ip and request.META.get("REMOTE_ADDR") in ("127.0.0.1", "::1"):
        return str(real_ip)[:45]
    remote = request.META.get("REMOTE_ADDR")
    return str(remote)[:45] if remote else None


class RequestIdMiddleware:
    """Accepts a well-formed incoming X-Request-ID or makes one; echoes it on every response."""

    def __init__(self, get_response: Handler) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        incoming = request.headers.get("X-Request-ID", "")
        request_id = incoming if _REQUEST_ID_RE.match(incoming) else uuid.uuid4().hex
        request.request_id = request_id  # type: ignore[attr-defined]
        token = set_request_context(
            RequestContext(
                request_id=request_id,
                ip=_client_ip(request),
                user_agent=request.headers.get("User-Agent", "")[:512],
            )
        )
        try:
            response = self.get_response(request)
        finally:
            reset_request_context(token)
        response["X-Request-ID"] = request_id
        return response


class RequestBodyLimitMiddleware:
    """Refuses a body larger than CDSS_MAX_REQUEST_BODY with 413 before any of it is read.

    Upload routes list their path prefix in CDSS_UPLOAD_LIMITS with a limit of their own.
    """

    def __init__(self, get_response: Handler) -> None:
        self.get_response = get_response

    def _limit_for(self, path: str) -> int:
        for prefix, limit in getattr(settings, "CDSS_UPLOAD_LIMITS", {}).items():
            if path.startswith(prefix):
                return int(limit)
        return int(settings.CDSS_MAX_REQUEST_BODY)

    def __call__(self, request: HttpRequest) -> HttpResponse:
        limit = self._limit_for(request.path)
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            return JsonResponse(
                {"error": "Invalid Content-Length header.", "detail": {}}, status=400
            )
        if length > limit:
            return JsonResponse(
                {
                    "error": f"Request body of {length} bytes is over the limit of {limit} bytes.",
                    "detail": {"limit_bytes": limit},
                },
                status=413,
            )
        return self.get_response(request)


class ContentSecurityPolicyMiddleware:
    def __init__(self, get_response: Handler) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if "Content-Security-Policy" not in response:
            docs = request.path.startswith(tuple(settings.CDSS_CSP_DOCS_PREFIXES))
            response["Content-Security-Policy"] = (
                settings.CDSS_CSP_DOCS if docs else settings.CDSS_CSP
            )
        return response


class RequestLogMiddleware:
    """One line per request: method, path without query string, status, user id, duration.

    Query strings are left out on purpose: searches carry patient names and MRNs.
    """

    def __init__(self, get_response: Handler) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        started = time.perf_counter()
        response = self.get_response(request)
        user = getattr(request, "user", None)
        user_id = user.pk if user is not None and user.is_authenticated else "-"
        logger.info(
            "%s %s %s user=%s %.1fms",
            request.method,
            request.path,
            response.status_code,
            user_id,
            (time.perf_counter() - started) * 1000,
        )
        return response
