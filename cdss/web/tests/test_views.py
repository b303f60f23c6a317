"""The web app at ``/``: index.html for the app's routes with a per-response CSP nonce, the server
routes untouched, and a clear page (not a 500) when the client is not built."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from django.test import Client

INDEX = """<!doctype html><html><head>
<meta property="csp-nonce" nonce="__CSP_NONCE__">
<script type="module" src="/static/web/assets/index-AbCd1234.js" nonce="__CSP_NONCE__"></script>
</head><body><div id="root"></div></body></html>
"""


@pytest.fixture
def web_build(settings, tmp_path) -> Path:
    dist = tmp_path / "dist"
    (dist / "assets").mkdir(parents=True)
    (dist / "index.html").write_text(INDEX, encoding="utf-8")
    (dist / "assets" / "index-AbCd1234.js").write_text("console.log(1)", encoding="utf-8")
    (dist / "favicon.svg").write_text("<svg/>", encoding="utf-8")
    settings.CDSS_WEB_DIST = dist
    return dist


@pytest.mark.parametrize("path", ["/", "/login", "/patients", "/patients/12/", "/analyses/8"])
def test_app_routes_serve_the_index_with_a_fresh_nonce(client: Client, web_build, path):
    response = client.get(path)
    assert response.status_code == 200
    assert response["Content-Type"] == "text/html; charset=utf-8"
    html = response.content.decode()
    nonces = set(re.findall(r'nonce="([^"]+)"', html))
    assert len(nonces) == 1 and "__CSP_NONCE__" not in html
    (nonce,) = nonces
    policy = response["Content-Security-Policy"]
    assert f"'nonce-{nonce}'" in re.search(r"style-src[^;]*", policy).group(0)
    assert client.get(path)["Content-Security-Policy"] != policy  # one nonce per response


def test_the_index_is_never_cached(client: Client, web_build):
    cache_control = client.get("/patients")["Cache-Control"]
    assert "no-cache" in cache_control and "private" in cache_control


def test_the_policy_keeps_the_sites_rules_and_adds_only_what_the_app_needs(
    client: Client, web_build, settings
):
    policy = client.get("/")["Content-Security-Policy"]
    directives = {d.split()[0]: d.split()[1:] for d in policy.split("; ")}
    assert directives["script-src"] == ["'self'"]
    assert "'unsafe-inline'" not in policy and "'unsafe-eval'" not in policy
    assert directives["img-src"] == ["'self'", "data:", "blob:"]
    assert directives["frame-ancestors"] == ["'none'"] and directives["object-src"] == ["'none'"]
    # An operator's stricter policy stays the base.
    settings.CDSS_CSP = "default-src 'none'; script-src 'self'"
    directives = dict(
        (d.split()[0], d.split()[1:])
        for d in client.get("/")["Content-Security-Policy"].split("; ")
    )
    assert directives["default-src"] == ["'none'"]
    assert directives["style-src"][0].startswith("'nonce-") and directives["img-src"] == ["blob:"]


def test_security_headers_are_kept(client: Client, web_build):
    response = client.get("/patients")
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Request-ID"]


def test_a_new_build_is_served_without_a_restart(client: Client, web_build):
    client.get("/")
    index = web_build / "index.html"
    index.write_text(INDEX.replace("AbCd1234", "NewHash9"), encoding="utf-8")
    stat = index.stat()
    # A rebuild within the same clock tick still changes the file's mtime.
    os.utime(index, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000))
    assert b"index-NewHash9.js" in client.get("/").content


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/no-such-thing/",
        "/api",
        "/ml/v1/nothing/",
        "/static/web/assets/missing-1234.js",
        "/media/x",
        "/healthz/extra",
        "/favicon.ico",
        "/robots.txt",
    ],
)
def test_server_routes_and_files_keep_their_json_404(client: Client, web_build, path):
    response = client.get(path)
    assert response.status_code == 404
    assert response.json()["error"]


def test_server_routes_still_answer(client: Client, web_build):
    assert client.get("/healthz").json()["status"] == "alive"
    assert client.get("/api/v1/patients/").status_code == 401
    # APPEND_SLASH still reaches the API's own routes.
    assert client.get("/api/v1/patients").status_code == 301


def test_only_reads_are_served(client: Client, web_build):
    assert client.head("/patients").status_code == 200
    assert client.post("/patients", {}).status_code == 405


def test_without_a_build_the_page_says_how_to_make_one(client: Client, settings, tmp_path):
    settings.CDSS_WEB_DIST = tmp_path / "no-build"
    response = client.get("/patients/3")
    assert response.status_code == 503
    assert response["Content-Type"].startswith("text/html")
    assert b"make web" in response.content
    assert "'unsafe-inline'" not in response["Content-Security-Policy"]
