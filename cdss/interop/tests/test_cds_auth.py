"""The CDS client's JWT: each way a token can be wrong is a 401 in the one error shape, and a good
token (RS384, ES384, RS256, ES256) is served."""

from __future__ import annotations

import base64
import hashlib
import hmac
import http.server
import json
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from django.core.exceptions import ImproperlyConfigured
from django.test import Client

from cdss.interop.cds_hooks.clients import cds_clients
from cdss.interop.tests.cds_ehr import (
    ISSUER,
    SERVICE_PATH,
    SERVICE_URL,
    Ehr,
    cached_key,
    configure_ehr,
    ec_key,
    hook_request,
    public_jwk,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def ehr(settings: Any, tmp_path: Path) -> Ehr:
    return configure_ehr(settings, tmp_path)


def _call(headers: dict[str, str]) -> Any:
    return Client().post(
        SERVICE_PATH,
        data=hook_request("MRN-NONE", "Practitioner/nobody"),
        content_type="application/json",
        **headers,
    )


def _refused(response: Any, words: str) -> None:
    assert response.status_code == 401, response.content
    body = response.json()
    assert set(body) == {"error", "detail"}
    assert words in body["error"], body["error"]
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_good_token_is_served(ehr: Ehr) -> None:
    response = _call(ehr.auth())
    assert response.status_code == 200, response.content
    assert response.json() == {"cards": []}


def _p256() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


@pytest.mark.parametrize(("alg", "make"), [("ES384", ec_key), ("RS256", None), ("ES256", _p256)])
def test_other_accepted_algorithms(ehr: Ehr, alg: str, make: Any) -> None:
    key = cached_key(alg, make) if make is not None else ehr.key
    ehr.key, ehr.kid, ehr.alg = key, f"k-{alg}", alg
    ehr.publish()
    assert _call(ehr.auth()).status_code == 200


def test_no_token(ehr: Ehr) -> None:
    response = _call({})
    assert response.status_code == 401
    assert response.json()["error"]


def test_not_bearer(ehr: Ehr) -> None:
    _refused(_call({"HTTP_AUTHORIZATION": "Basic abc"}), "Bearer")


def test_garbage(ehr: Ehr) -> None:
    _refused(_call({"HTTP_AUTHORIZATION": "Bearer not.a.jwt"}), "not a JWT")


def test_wrong_audience(ehr: Ehr) -> None:
    _refused(_call(ehr.auth(aud="https://other.example.org/cds-services/x")), "aud")


def test_audience_is_the_service_url_not_discovery(ehr: Ehr) -> None:
    _refused(_call(ehr.auth(aud="https://cdss.example.org/cds-services")), "aud")


def test_expired(ehr: Ehr) -> None:
    _refused(_call(ehr.auth(lifetime=-120)), "expired")


def test_lifetime_over_five_minutes(ehr: Ehr) -> None:
    _refused(_call(ehr.auth(lifetime=3600)), "at most 300")


def test_wrong_key(ehr: Ehr) -> None:
    other = cached_key("intruder")
    _refused(_call(ehr.auth(key=other)), "signature")


def test_alg_none(ehr: Ehr) -> None:
    token = jwt.encode(
        {"iss": ISSUER, "sub": "x", "aud": SERVICE_URL, "iat": 1, "exp": 2, "jti": "j"},
        key=None,
        algorithm="none",
        headers={"kid": ehr.kid},
    )
    _refused(_call({"HTTP_AUTHORIZATION": f"Bearer {token}"}), "alg 'none'")


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def test_hs256_even_with_the_public_key_as_secret(ehr: Ehr) -> None:
    # The classic confusion attack: HMAC keyed with the published key's bytes. PyJWT refuses to
    # sign that, so the token is put together by hand.
    secret = json.dumps(public_jwk(ehr.key, ehr.kid)).encode()
    header = _b64(json.dumps({"alg": "HS256", "kid": ehr.kid, "typ": "JWT"}).encode())
    payload = _b64(
        json.dumps(
            {"iss": ISSUER, "sub": "x", "aud": SERVICE_URL, "iat": 1, "exp": 2, "jti": "j"}
        ).encode()
    )
    signature = _b64(hmac.new(secret, f"{header}.{payload}".encode(), hashlib.sha256).digest())
    token = f"{header}.{payload}.{signature}"
    _refused(_call({"HTTP_AUTHORIZATION": f"Bearer {token}"}), "alg 'HS256'")


def test_unknown_issuer(ehr: Ehr) -> None:
    _refused(_call(ehr.auth(iss="https://evil.example.org")), "unknown issuer")


def test_no_clients_configured_refuses_everyone(ehr: Ehr, settings: Any) -> None:
    settings.CDSS_CDS_HOOKS_CLIENTS = []
    _refused(_call(ehr.auth()), "unknown issuer")


def test_replayed_jti(ehr: Ehr) -> None:
    headers = ehr.auth()
    assert _call(headers).status_code == 200
    _refused(_call(headers), "replay")


def test_missing_jti(ehr: Ehr) -> None:
    _refused(_call(ehr.auth(jti=None)), "jti")


def test_unknown_kid(ehr: Ehr) -> None:
    _refused(_call(ehr.auth(headers={"kid": "rotated-away"})), "no key 'rotated-away'")


def test_key_of_the_wrong_type_for_alg(ehr: Ehr) -> None:
    # An RSA key named by an ES384 token.
    token = ehr.token(key=cached_key("p384", ec_key), alg="ES384")
    _refused(_call({"HTTP_AUTHORIZATION": f"Bearer {token}"}), "not a ES384 key")


def test_sub_must_match_a_configured_client_id(ehr: Ehr, settings: Any) -> None:
    settings.CDSS_CDS_HOOKS_CLIENTS = [ehr.client_config(client_id="ehr-client-1")]
    assert _call(ehr.auth()).status_code == 200
    _refused(_call(ehr.auth(sub="someone-else")), "sub")


def test_jku_not_on_the_allow_list(ehr: Ehr) -> None:
    _refused(_call(ehr.auth(headers={"jku": "https://evil.example.org/jwks"})), "allow-list")


@pytest.fixture
def jwks_server(ehr: Ehr) -> Iterator[tuple[str, list[int]]]:
    """The EHR's JWK Set over HTTP on a port of this engineer's range (8620-8629); counts GETs."""
    hits: list[int] = []
    body = ehr.jwks_path.read_bytes()

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            hits.append(1)
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 8621), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield "http://127.0.0.1:8621/jwks.json", hits
    finally:
        server.shutdown()
        server.server_close()


def test_jwks_url_is_fetched_once_and_cached(
    ehr: Ehr, settings: Any, jwks_server: tuple[str, list[int]]
) -> None:
    url, hits = jwks_server
    settings.CDSS_CDS_HOOKS_CLIENTS = [{"issuer": ISSUER, "jwks_url": url, "user_mode": "named"}]
    assert _call(ehr.auth()).status_code == 200
    assert _call(ehr.auth()).status_code == 200
    assert len(hits) == 1


def test_jku_on_the_allow_list_is_used(
    ehr: Ehr, settings: Any, tmp_path: Path, jwks_server: tuple[str, list[int]]
) -> None:
    url, hits = jwks_server
    # The configured file holds another key: only the jku's set can verify this token.
    (tmp_path / "other.json").write_text(
        json.dumps({"keys": [public_jwk(cached_key("intruder"), "x")]})
    )
    settings.CDSS_CDS_HOOKS_CLIENTS = [
        ehr.client_config(jwks_path=str(tmp_path / "other.json"), jku_allowlist=[url])
    ]
    assert _call(ehr.auth(headers={"jku": url})).status_code == 200
    assert hits == [1]


def test_unreachable_jwks_url(ehr: Ehr, settings: Any) -> None:
    settings.CDSS_CDS_HOOKS_CLIENTS = [
        {"issuer": ISSUER, "jwks_url": "http://127.0.0.1:8629/none", "user_mode": "named"}
    ]
    _refused(_call(ehr.auth()), "unavailable")


def test_symmetric_and_private_keys_in_a_jwks_are_ignored(ehr: Ehr) -> None:
    private = {**public_jwk(ehr.key, ehr.kid), "d": "AAAA"}
    oct_key = {"kty": "oct", "kid": "hmac", "k": "c2VjcmV0"}
    ehr.jwks_path.write_text(json.dumps({"keys": [private, oct_key]}))
    _refused(_call(ehr.auth()), "no key 'ehr-key-1'")


@pytest.mark.parametrize(
    ("config", "words"),
    [
        ("not json", "not JSON"),
        ([{"issuer": "x"}], "exactly one of jwks_url and jwks_path"),
        ([{"issuer": "x", "jwks_url": "http://example.org/k"}], "https"),
        ([{"issuer": "x", "jwks_url": "http://localhost.example.org/k"}], "https"),
        ([{"issuer": "x", "jwks_path": "/k", "jku_allowlist": ["http://a.example"]}], "https"),
        ([{"issuer": "x", "jwks_path": "/k", "user_mode": "service"}], "service_user"),
        ([{"issuer": "x", "jwks_path": "/k", "patient_id": "ssn"}], "patient_id"),
        ([{"issuer": "x", "jwks_path": "/k", "typo": 1}], "unknown keys"),
    ],
)
def test_bad_client_configuration_is_named(settings: Any, config: Any, words: str) -> None:
    settings.CDSS_CDS_HOOKS_CLIENTS = config
    with pytest.raises(ImproperlyConfigured, match=words):
        cds_clients()


def test_discovery_needs_no_token(ehr: Ehr) -> None:
    assert Client().get("/cds-services").status_code == 200


def test_token_without_kid(ehr: Ehr) -> None:
    token = jwt.encode(
        {"iss": ISSUER, "sub": "x", "aud": SERVICE_URL, "iat": 1, "exp": 2, "jti": "j"},
        ehr.key,
        algorithm="RS384",
    )
    _refused(_call({"HTTP_AUTHORIZATION": f"Bearer {token}"}), "kid")


@pytest.mark.parametrize(
    ("content", "words"),
    [(b"x" * (64 * 1024 + 1), "over 65536 bytes"), (b"not json", "not JSON"), (b"[]", "keys")],
)
def test_bad_jwks_file(ehr: Ehr, content: bytes, words: str) -> None:
    ehr.jwks_path.write_bytes(content)
    _refused(_call(ehr.auth()), words)
