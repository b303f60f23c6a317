"""The JWT pair CDSS issues: simplejwt's access and refresh tokens, each carrying the user's token
version. A token whose version is not the user's current one is refused
(``cdss.accounts.selectors``), so raising the version (logout, password change) ends every earlier
token of that user at once.
"""

from __future__ import annotations

from typing import Any

from rest_framework_simplejwt.tokens import AccessToken, RefreshToken, Token

from cdss.accounts.models import User

TOKEN_VERSION_CLAIM = "token_version"  # noqa: S105 - a claim name, not a secret


class _VersionClaim(Token):
    @classmethod
    def for_user(cls, user: Any) -> Any:
        token = super().for_user(user)
        token[TOKEN_VERSION_CLAIM] = user.token_version
        return token


class VersionedAccessToken(_VersionClaim, AccessToken):
    pass


# _VersionClaim comes after RefreshToken's blacklist mixin in the method order, so the claim is set
# before the mixin records the outstanding token and the stored copy is the token as issued. (mypy
# reads the two bases' for_user annotations as different; they are the same call.)
class VersionedRefreshToken(RefreshToken, _VersionClaim):  # type: ignore[misc]
    access_token_class = VersionedAccessToken


def token_pair_for_user(user: User) -> dict[str, str]:
    refresh = VersionedRefreshToken.for_user(user)
    return {"access": str(refresh.access_token), "refresh": str(refresh)}
