"""The single-page app's entry: ``web/dist/index.html`` for any route of the app."""

from __future__ import annotations

import secrets
import threading
from pathlib import Path

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.cache import patch_cache_control
from django.views.decorators.http import require_safe

from cdss.web.csp import web_app_policy

# What the build writes where each response's nonce goes (web/vite.config.ts: html.cspNonce).
NONCE_PLACEHOLDER = "__CSP_NONCE__"

_lock = threading.Lock()
_cached: dict[Path, tuple[int, str]] = {}


def _index_html() -> str | None:
    """The built index.html, re-read when a new build replaces it; None when there is none."""
    path = Path(settings.CDSS_WEB_DIST) / "index.html"
    try:
        mtime = path.stat().st_mtime_ns
    except FileNotFoundError:
        return None
    with _lock:
        cached = _cached.get(path)
        if cached is not None and cached[0] == mtime:
            return cached[1]
    text = path.read_text(encoding="utf-8")
    with _lock:
        _cached[path] = (mtime, text)
    return text


@require_safe
def web_app(request: HttpRequest) -> HttpResponse:
    html = _index_html()
    if html is None:
        response = render(request, "web/build_missing.html", status=503)
    else:
        nonce = secrets.token_urlsafe(18)
        response = HttpResponse(
            html.replace(NONCE_PLACEHOLDER, nonce), content_type="text/html; charset=utf-8"
        )
        response["Content-Security-Policy"] = web_app_policy(settings.CDSS_CSP, nonce)
    # A new build must reach the browser at once; the hashed assets it names are cached forever.
    patch_cache_control(response, no_cache=True, private=True)
    return response
