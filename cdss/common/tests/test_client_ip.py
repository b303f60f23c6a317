"""Forwarded headers (X-Real-IP, X-Forwarded-For) and X-Request-ID are believed only from the
proxies named in CDSS_TRUSTED_PROXIES; anyone else could forge the audit trail's IP and id."""

from __future__ import annotations

import re

import pytest
from django.http import HttpRequest, HttpResponse
from django.test import RequestFactory
from django.urls import reverse

from cdss.audit.models import AccessEvent
from cdss.common.middleware import RequestIdMiddleware
from cdss.common.request_context import RequestContext, get_request_context

CLIENT = "203.0.113.7"
FORGED = "192.0.2.66"


def _seen(**meta: str) -> tuple[RequestContext, HttpResponse]:
    """The request context the middleware sets for a request with these META entries."""
    seen: list[RequestContext] = []

    def view(request: HttpRequest) -> HttpResponse:
        seen.append(get_request_context())
        return HttpResponse("ok")

    request = RequestFactory().get("/healthz")
    request.META.pop("REMOTE_ADDR", None)
    request.META.update(meta)
    response = RequestIdMiddleware(view)(request)
    return seen[0], response


def test_untrusted_loopback_client_cannot_set_its_address(settings):
    settings.CDSS_TRUSTED_PROXIES = []
    ctx, _ = _seen(
        REMOTE_ADDR="127.0.0.1", HTTP_X_REAL_IP=FORGED, HTTP_X_FORWARDED_FOR=f"{FORGED}, {FORGED}"
    )
    assert ctx.ip == "127.0.0.1"


def test_untrusted_client_cannot_set_its_address(settings):
    settings.CDSS_TRUSTED_PROXIES = ["10.0.0.0/8"]
    ctx, _ = _seen(REMOTE_ADDR=CLIENT, HTTP_X_REAL_IP=FORGED, HTTP_X_FORWARDED_FOR=FORGED)
    assert ctx.ip == CLIENT


def test_trusted_proxy_real_ip_is_used(settings):
    settings.CDSS_TRUSTED_PROXIES = ["10.0.0.0/8", "192.168.1.1"]
    assert _seen(REMOTE_ADDR="10.1.2.3", HTTP_X_REAL_IP=CLIENT)[0].ip == CLIENT
    assert _seen(REMOTE_ADDR="192.168.1.1", HTTP_X_REAL_IP=CLIENT)[0].ip == CLIENT
    assert _seen(REMOTE_ADDR="192.168.1.2", HTTP_X_REAL_IP=CLIENT)[0].ip == "192.168.1.2"


def test_trusted_proxy_forwarded_for_gives_the_right_most_untrusted_entry(settings):
    settings.CDSS_TRUSTED_PROXIES = ["10.0.0.0/8"]
    ctx, _ = _seen(
        REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR=f"{FORGED}, {CLIENT}, 10.0.0.9, 10.0.0.8"
    )
    assert ctx.ip == CLIENT


def test_trusted_proxy_with_malformed_headers_falls_back_to_the_proxy(settings):
    settings.CDSS_TRUSTED_PROXIES = ["10.0.0.0/8"]
    ctx, _ = _seen(
        REMOTE_ADDR="10.0.0.1", HTTP_X_REAL_IP="not-an-ip", HTTP_X_FORWARDED_FOR="junk, also junk"
    )
    assert ctx.ip == "10.0.0.1"
    # A malformed entry stops the walk: what lies left of it came through no trusted hop.
    ctx, _ = _seen(REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR=f"{FORGED}, junk")
    assert ctx.ip == "10.0.0.1"


def test_real_ip_naming_a_trusted_proxy_defers_to_forwarded_for(settings):
    settings.CDSS_TRUSTED_PROXIES = ["10.0.0.0/8"]
    ctx, _ = _seen(
        REMOTE_ADDR="10.0.0.1",
        HTTP_X_REAL_IP="10.0.0.2",
        HTTP_X_FORWARDED_FOR=f"{CLIENT}, 10.0.0.2",
    )
    assert ctx.ip == CLIENT


def test_ipv4_mapped_ipv6_proxy_address_is_matched(settings):
    settings.CDSS_TRUSTED_PROXIES = ["127.0.0.1"]
    assert _seen(REMOTE_ADDR="::ffff:127.0.0.1", HTTP_X_REAL_IP=CLIENT)[0].ip == CLIENT


def test_ipv6_networks(settings):
    settings.CDSS_TRUSTED_PROXIES = ["fd00::/8"]
    assert _seen(REMOTE_ADDR="fd12::1", HTTP_X_REAL_IP="2001:db8::7")[0].ip == "2001:db8::7"
    assert _seen(REMOTE_ADDR="2001:db8::1", HTTP_X_REAL_IP=CLIENT)[0].ip == "2001:db8::1"
    assert _seen(REMOTE_ADDR="fd00::1", HTTP_X_REAL_IP="fe80::7%eth0")[0].ip == "fe80::7"


def test_unix_socket_peer_is_trusted_only_when_configured(settings):
    # Behind the bundled nginx the app listens on a unix socket: there is no REMOTE_ADDR.
    settings.CDSS_TRUSTED_PROXIES = []
    assert _seen(HTTP_X_REAL_IP=FORGED)[0].ip is None
    settings.CDSS_TRUSTED_PROXIES = ["unix"]
    assert _seen(HTTP_X_REAL_IP=CLIENT)[0].ip == CLIENT
    assert _seen(REMOTE_ADDR="127.0.0.1", HTTP_X_REAL_IP=FORGED)[0].ip == "127.0.0.1"


def test_bad_trusted_proxies_setting_is_refused(settings):
    from django.core.exceptions import ImproperlyConfigured

    settings.CDSS_TRUSTED_PROXIES = ["10.0.0.0/33"]
    with pytest.raises(ImproperlyConfigured):
        _seen(REMOTE_ADDR="10.0.0.1")


def test_request_id_from_an_untrusted_client_is_replaced(settings):
    settings.CDSS_TRUSTED_PROXIES = []
    ctx, response = _seen(REMOTE_ADDR="127.0.0.1", HTTP_X_REQUEST_ID="forged-id-1")
    assert ctx.request_id != "forged-id-1"
    assert re.fullmatch(r"[0-9a-f]{32}", ctx.request_id)
    assert response["X-Request-ID"] == ctx.request_id


def test_request_id_from_a_trusted_proxy_is_kept_when_well_formed(settings):
    settings.CDSS_TRUSTED_PROXIES = ["10.0.0.0/8"]
    ctx, response = _seen(REMOTE_ADDR="10.0.0.1", HTTP_X_REQUEST_ID="nginx-abc.1")
    assert ctx.request_id == "nginx-abc.1" == response["X-Request-ID"]
    ctx, _ = _seen(REMOTE_ADDR="10.0.0.1", HTTP_X_REQUEST_ID="has spaces in it")
    assert re.fullmatch(r"[0-9a-f]{32}", ctx.request_id)


@pytest.mark.django_db
def test_audit_record_keeps_the_real_peer_and_a_fresh_request_id(make_client, settings):
    settings.CDSS_TRUSTED_PROXIES = []
    make_client(None).post(
        reverse("auth-token"),
        {"username": "nobody", "password": "x"},
        format="json",
        REMOTE_ADDR="127.0.0.1",
        HTTP_X_REAL_IP=FORGED,
        HTTP_X_REQUEST_ID="forged-id-2",
    )
    event = AccessEvent.objects.get(action="auth.login")
    assert event.ip == "127.0.0.1"
    assert event.request_id != "forged-id-2"
