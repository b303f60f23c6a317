"""HTTP middleware: request id, request body limit (413), content security policy, request log."""

from __future__ import annotations

import functools
import ipaddress
import logging
import re
import time
import uuid
from collections.abc import Callable

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.http import HttpRequest, HttpResponse, JsonResponse

from cdss.common.limits import body_limit_for, too_large_message
from cdss.common.request_context import (
    RequestContext,
    reset_request_context,
    set_request_context,
)

logger = logging.getLogger("cdss.request")

_REQUEST_ID_RE = re.compile(r"^[A-Za-z0-9._-]{1,64}$")

Handler = Callable[[HttpRequest], HttpResponse]


# What CDSS_TRUSTED_PROXIES names: networks, plus "unix" for a unix-socket peer (no REMOTE_ADDR).
_Networks = tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]
_UNIX_PEER = "unix"


@functools.lru_cache(maxsize=8)
def _trusted_proxies(entries: tuple[str, ...]) -> tuple[_Networks, bool]:
    networks = []
    for entry in entries:
        if entry == _UNIX_PEER:
            continue
        try:
            networks.append(ipaddress.ip_network(entry.strip(), strict=False))
        except ValueError as exc:
            raise ImproperlyConfigured(
                f"CDSS_TRUSTED_PROXIES: {entry!r} is not an IP address, a CIDR network or 'unix'"
            ) from exc
    return tuple(networks), _UNIX_PEER in entries


def _parse_ip(value: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        ip = ipaddress.ip_address(value.strip())
    except ValueError:
        return None
    if isinstance(ip, ipaddress.IPv6Address):
        # An IPv4 client seen through a dual-stack socket is still that IPv4 client.
        if ip.ipv4_mapped is not None:
            return ip.ipv4_mapped
        # A zone ("%eth0") names an interface of the proxy, not the client; the audit column
        # (an IP field) refuses it.
        if ip.scope_id is not None:
            return ipaddress.IPv6Address(int(ip))
    return ip


def _is_trusted(ip: ipaddress.IPv4Address | ipaddress.IPv6Address, networks: _Networks) -> bool:
    return any(ip in network for network in networks)


def _from_trusted_proxy(request: HttpRequest) -> bool:
    """Whether the peer that sent this request is one of CDSS_TRUSTED_PROXIES."""
    networks, unix_peer = _trusted_proxies(tuple(settings.CDSS_TRUSTED_PROXIES))
    remote = request.META.get("REMOTE_ADDR")
    if not remote:
        return unix_peer
    ip = _parse_ip(str(remote))
    return ip is not None and _is_trusted(ip, networks)


def _client_ip(request: HttpRequest) -> str | None:
    """The client's address: the peer's own, unless the peer is a trusted proxy.

    From a trusted proxy: X-Real-IP when it names an address that is not itself a trusted proxy,
    else the right-most X-Forwarded-For entry that is not a trusted proxy (each proxy appends the
    address it saw, so entries left of the first untrusted one are the client's own claims). A
    malformed header is ignored and the proxy's own address is kept.
    """
    remote = request.META.get("REMOTE_ADDR")
    peer = _parse_ip(str(remote)) if remote else None
    if not _from_trusted_proxy(request):
        return str(peer) if peer else None
    networks, _ = _trusted_proxies(tuple(settings.CDSS_TRUSTED_PROXIES))
    real_ip = _parse_ip(request.META.get("HTTP_X_REAL_IP", ""))
    if real_ip is not None and not _is_trusted(real_ip, networks):
        return str(real_ip)
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    for entry in reversed([e for e in forwarded.split(",") if e.strip()]):
        hop = _parse_ip(entry)
        if hop is None:
            break
        if not _is_trusted(hop, networks):
            return str(hop)
    return str(peer) if peer else None


class RequestIdMiddleware:
    """Makes a request id, or keeps a well-formed X-Request-ID from a trusted proxy; sets the
    request context (id, client IP, user agent) and echoes the id on every response.

    The id lands in audit records, so a client's own X-Request-ID is never believed: it could
    tie its requests to another's. A trusted proxy must set the header itself (nginx:
    ``proxy_set_header X-Request-ID $request_id``), overwriting any the client sent.
    """

    def __init__(self, get_response: Handler) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        incoming = request.headers.get("X-Request-ID", "") if _from_trusted_proxy(request) else ""
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

    def __call__(self, request: HttpRequest) -> HttpResponse:
        limit = body_limit_for(request.path)
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            return JsonResponse(
                {"error": "Invalid Content-Length header.", "detail": {}}, status=400
            )
        if length > limit:
            return JsonResponse(
                {
                    "error": too_large_message(limit, length),
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
    """One line per request: request id, method, route, status, user id, latency.

    The route is the URL pattern that matched (``api/v1/patients/<int:patient_id>/``), never the
    path itself, and query strings are left out on purpose: searches carry patient names and MRNs.
    With CDSS_LOG_FORMAT=json the fields are the line's own (cdss.common.logging.JsonFormatter).
    """

    def __init__(self, get_response: Handler) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        started = time.perf_counter()
        response = self.get_response(request)
        latency_ms = round((time.perf_counter() - started) * 1000, 1)
        user = getattr(request, "user", None)
        user_id = user.pk if user is not None and user.is_authenticated else None
        match = getattr(request, "resolver_match", None)
        route = f"/{match.route}" if match is not None and match.route else "<unmatched>"
        logger.info(
            "%s %s %s user=%s %.1fms",
            request.method,
            route,
            response.status_code,
            user_id if user_id is not None else "-",
            latency_ms,
            extra={
                "type": "request",
                "method": request.method,
                "route": route,
                "status": response.status_code,
                "user_id": user_id,
                "latency_ms": latency_ms,
            },
        )
        return response
