"""Reads of users: the user a JWT names, if that token is still good for them."""

from __future__ import annotations

from rest_framework_simplejwt.settings import api_settings
from rest_framework_simplejwt.tokens import Token

from cdss.accounts.models import User
from cdss.accounts.tokens import TOKEN_VERSION_CLAIM


def user_get_for_token(*, token: Token) -> User | None:
    """The active user a validated access or refresh token names, or None when that user is gone,
    inactive, or has logged out or changed password since the token was issued.

    A token without the version claim (issued before token versions existed) counts as version 0.
    """
    user_id = token.get(api_settings.USER_ID_CLAIM)
    if user_id is None:
        return None
    try:
        user = User.objects.filter(pk=user_id).first()
    except (TypeError, ValueError):
        return None
    if user is None or not user.is_active:
        return None
    if token.get(TOKEN_VERSION_CLAIM, 0) != user.token_version:
        return None
    return user
