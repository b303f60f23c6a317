"""How a CDS client proves who it is: ``Authorization: Bearer <JWT>`` signed with its own key.

The checks, in order, each a 401 with the one error shape: the header is a bearer token; its
``alg`` is an asymmetric one (RS384 and ES384 are the spec's; RS256 and ES256 are accepted, never
``HS*`` or ``none``) and it names its key (``kid``); its ``iss`` is a configured client; the key is
in that client's JWK Set (or the set at a ``jku`` the client allow-lists); the signature, ``aud``
(this service's endpoint URL), ``exp``, ``iat``, ``sub`` and ``jti`` are present and valid; the
token lives at most five minutes; and its ``jti`` was not seen before (a replayed token is refused
until it expires: the ids are kept in the Django cache, shared by every process in production).
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass
from typing import Any

import jwt
from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.core.cache import cache
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication
from rest_framework.permissions import BasePermission
from rest_framework.request import Request

from cdss.interop.cds_hooks.clients import CdsClient, cds_client_for
from cdss.interop.cds_hooks.jwks import JwksUnavailable, jwks_keys

ALLOWED_ALGORITHMS = ("RS384", "ES384", "RS256", "ES256")
_KEY_TYPE = {"RS384": "RSA", "RS256": "RSA", "ES384": "EC", "ES256": "EC"}
MAX_LIFETIME_S = 300
_REQUIRED_CLAIMS = ["iss", "sub", "aud", "exp", "iat", "jti"]


@dataclass(frozen=True)
class VerifiedClient:
    """``request.auth`` of a hook call: the client and the token's facts."""

    client: CdsClient
    subject: str
    jti: str
    tenant: str = ""


def _fail(message: str) -> exceptions.AuthenticationFailed:
    return exceptions.AuthenticationFailed(f"CDS client token refused: {message}")


def _key_for(client: CdsClient, header: dict[str, Any]) -> jwt.PyJWK:
    alg, kid = header["alg"], header.get("kid")
    if not isinstance(kid, str) or not kid:
        raise _fail("the JWT header names no key (kid)")
    jku = header.get("jku")
    if jku is not None:
        if jku not in client.jku_allowlist:
            raise _fail("jku is not on this client's allow-list")
        source, is_path = str(jku), False
    else:
        source, is_path = (client.jwks_path, True) if client.jwks_path else (client.jwks_url, False)
    try:
        keys = jwks_keys(source=source, is_path=is_path, kid=kid)
    except JwksUnavailable as exc:
        raise _fail(f"the client's keys are unavailable ({exc})") from exc
    for jwk in keys:
        if jwk.get("kid") != kid:
            continue
        if jwk["kty"] != _KEY_TYPE[alg] or jwk.get("alg", alg) != alg:
            raise _fail(f"key {kid!r} is not a {alg} key")
        try:
            # Bound to the header's alg (PyJWK would default an RSA key to RS256).
            return jwt.PyJWK(jwk, algorithm=alg)
        except jwt.PyJWTError as exc:
            raise _fail(f"key {kid!r} is unusable") from exc
    raise _fail(f"no key {kid!r} in the client's JWK Set")


def cds_token_verify(*, token: str, audiences: list[str]) -> VerifiedClient:
    """The verified client of ``token``, or AuthenticationFailed saying why not."""
    try:
        header = jwt.get_unverified_header(token)
        unverified = jwt.decode(token, options={"verify_signature": False})
    except jwt.PyJWTError as exc:
        raise _fail("not a JWT") from exc
    alg = header.get("alg")
    if alg not in ALLOWED_ALGORITHMS:
        raise _fail(f"alg {alg!r} is not accepted (use one of {', '.join(ALLOWED_ALGORITHMS)})")
    issuer = unverified.get("iss")
    client = cds_client_for(issuer) if isinstance(issuer, str) else None
    if client is None:
        raise _fail("unknown issuer")
    key = _key_for(client, header)
    try:
        claims = jwt.decode(
            token,
            key=key,
            algorithms=[alg],
            audience=audiences,
            issuer=client.issuer,
            leeway=settings.CDSS_CDS_HOOKS_LEEWAY,
            options={"require": _REQUIRED_CLAIMS},
        )
    except jwt.ExpiredSignatureError as exc:
        raise _fail("expired") from exc
    except jwt.InvalidAudienceError as exc:
        raise _fail(f"aud must be this service's endpoint ({audiences[0]})") from exc
    except jwt.InvalidSignatureError as exc:
        raise _fail("bad signature") from exc
    except jwt.PyJWTError as exc:
        raise _fail(str(exc)) from exc
    now = time.time()
    exp, iat, sub, jti = claims["exp"], claims["iat"], claims["sub"], claims["jti"]
    if not isinstance(jti, str) or not jti or len(jti) > 255:
        raise _fail("jti must be a non-empty string")
    if not isinstance(sub, str) or not sub:
        raise _fail("sub must be a non-empty string")
    if client.client_id and sub != client.client_id:
        raise _fail("sub is not this client's id")
    leeway = settings.CDSS_CDS_HOOKS_LEEWAY
    if exp - max(iat, now) > MAX_LIFETIME_S + leeway:
        raise _fail(f"a token may live at most {MAX_LIFETIME_S} s")
    seen_key = "cds-hooks:jti:" + hashlib.sha256(f"{client.issuer}\n{jti}".encode()).hexdigest()
    # Kept until the token could no longer be accepted anyway.
    if not cache.add(seen_key, 1, timeout=max(1, int(exp - now + leeway) + 1)):
        raise _fail("jti was already used (replay)")
    tenant = claims.get("tenant")
    return VerifiedClient(
        client=client, subject=sub, jti=jti, tenant=tenant if isinstance(tenant, str) else ""
    )


class CdsClientAuthentication(BaseAuthentication):
    """DRF authentication of hook calls; ``request.auth`` is a ``VerifiedClient``. The audience
    is the view's ``cds_audiences(request)``."""

    def authenticate(self, request: Request) -> tuple[AnonymousUser, VerifiedClient] | None:
        header = request.headers.get("Authorization", "")
        if not header:
            return None
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise _fail("expected 'Authorization: Bearer <JWT>'")
        view = request.parser_context.get("view") if request.parser_context else None
        audiences: list[str] = view.cds_audiences(request) if view is not None else []
        return AnonymousUser(), cds_token_verify(token=token.strip(), audiences=audiences)

    def authenticate_header(self, request: Request) -> str:
        return 'Bearer realm="cds-services"'


class IsCdsClient(BasePermission):
    def has_permission(self, request: Request, view: Any) -> bool:
        return isinstance(request.auth, VerifiedClient)
