"""DRF authentication for the API (and the check WebSockets share): a valid access token whose
user is active and whose token version is the user's current one."""

from __future__ import annotations

from typing import Any

from rest_framework import exceptions
from rest_framework_simplejwt.authentication import JWTAuthentication
from rest_framework_simplejwt.exceptions import AuthenticationFailed
from rest_framework_simplejwt.tokens import Token

from cdss.accounts.selectors import user_get_for_token


class TokenNoLongerValid(AuthenticationFailed):
    """simplejwt's AuthenticationFailed (what cdss.common.websocket_auth catches), with a plain
    message in the error shape rather than simplejwt's nested detail."""

    def __init__(self) -> None:
        exceptions.AuthenticationFailed.__init__(
            self, "Token is no longer valid; log in again.", "token_not_valid"
        )


class VersionedJWTAuthentication(JWTAuthentication):
    def get_user(self, validated_token: Token) -> Any:
        """Raises simplejwt's AuthenticationFailed (401) for an unknown, inactive or ended user;
        one message for all three, so the response tells nothing about the account."""
        user = user_get_for_token(token=validated_token)
        if user is None:
            raise TokenNoLongerValid()
        return user
