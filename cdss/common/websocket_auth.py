"""WebSocket authentication and origin check, wrapped around every ``/ws/`` route in config/asgi
(``/ws/analyses/`` of cdss.jobs, ``/ws/chat/`` of cdss.assistant).

Browsers cannot set headers on a WebSocket, so the access token (the same JWT the REST API takes)
comes as a subprotocol pair: ``new WebSocket(url, ["cdss.bearer", accessToken])``; the server
answers with the ``cdss.bearer`` subprotocol. Other clients may send ``Authorization: Bearer``.
Tokens are never read from the query string: URLs end up in proxy logs.

A missing, malformed or expired token leaves the user anonymous; consumers refuse anonymous users
before accepting, so the socket closes before any message. ``scope["token_expires_at"]`` lets a
consumer close a socket whose token runs out while it is open.
"""

from __future__ import annotations

from typing import Any

from channels.db import database_sync_to_async
from channels.middleware import BaseMiddleware
from channels.security.websocket import OriginValidator
from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from rest_framework_simplejwt.exceptions import AuthenticationFailed, TokenError
from rest_framework_simplejwt.tokens import AccessToken

from cdss.accounts.authentication import VersionedJWTAuthentication

SUBPROTOCOL = "cdss.bearer"


def token_from_scope(scope: dict[str, Any]) -> str | None:
    protocols = list(scope.get("subprotocols") or [])
    if SUBPROTOCOL in protocols:
        i = protocols.index(SUBPROTOCOL)
        if i + 1 < len(protocols):
            return str(protocols[i + 1])
    for name, value in scope.get("headers", []):
        if name == b"authorization":
            kind, _, token = value.decode("latin1").partition(" ")
            if kind.lower() == "bearer" and token:
                return token.strip()
    return None


def _authenticate(raw: str | None) -> tuple[Any, int | None]:
    if not raw:
        return AnonymousUser(), None
    try:
        token = AccessToken(raw)  # type: ignore[arg-type]  # checks the signature, the type and the expiry
        # Refuses unknown and inactive users, and tokens ended by a logout or password change.
        user = VersionedJWTAuthentication().get_user(token)
    except (TokenError, AuthenticationFailed):
        return AnonymousUser(), None
    return user, int(token["exp"])


class JwtAuthMiddleware(BaseMiddleware):
    async def __call__(self, scope: Any, receive: Any, send: Any) -> Any:
        user, expires_at = await database_sync_to_async(_authenticate)(token_from_scope(scope))
        scope = dict(scope, user=user, token_expires_at=expires_at)
        return await super().__call__(scope, receive, send)


def origin_checked(application: Any) -> OriginValidator:
    """Refuses a socket whose Origin is not one of ours (ALLOWED_HOSTS, CSRF_TRUSTED_ORIGINS):
    a page on another site cannot open a socket with a clinician's token."""
    return OriginValidator(application, [*settings.ALLOWED_HOSTS, *settings.CSRF_TRUSTED_ORIGINS])
