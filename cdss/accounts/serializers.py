from __future__ import annotations

from typing import Any

from rest_framework import serializers
from rest_framework_simplejwt.serializers import TokenObtainPairSerializer, TokenRefreshSerializer

from cdss.accounts.authentication import TokenNoLongerValid
from cdss.accounts.models import User
from cdss.accounts.selectors import user_get_for_token
from cdss.accounts.tokens import VersionedRefreshToken
from cdss.common.serializers import StrictInputSerializer


class UserOutputSerializer(serializers.ModelSerializer[User]):
    # Empty when none is on file: a string, not always an email address (as the schema says).
    email = serializers.CharField(read_only=True)

    class Meta:
        model = User
        fields = ["id", "username", "email", "first_name", "last_name", "role", "last_login"]
        read_only_fields = fields


class TokenObtainInputSerializer(StrictInputSerializer):
    username = serializers.CharField(max_length=150)
    password = serializers.CharField(max_length=256, trim_whitespace=False)


class LogoutInputSerializer(StrictInputSerializer):
    refresh = serializers.CharField(
        required=False,
        help_text="Accepted for older clients; logout ends every token of the user either way.",
    )


class PasswordChangeInputSerializer(StrictInputSerializer):
    old_password = serializers.CharField(max_length=256, trim_whitespace=False)
    new_password = serializers.CharField(max_length=256, trim_whitespace=False)


class VersionedTokenObtainPairSerializer(TokenObtainPairSerializer):
    token_class = VersionedRefreshToken


class VersionedTokenRefreshSerializer(TokenRefreshSerializer):
    """simplejwt's rotation, refused (401, never 500) when the token's user is gone, inactive, or
    has logged out or changed password since the token was issued."""

    token_class = VersionedRefreshToken

    def validate(self, attrs: dict[str, Any]) -> dict[str, str]:
        refresh = self.token_class(attrs["refresh"])
        if user_get_for_token(token=refresh) is None:
            raise TokenNoLongerValid()
        try:
            return super().validate(attrs)
        except User.DoesNotExist as exc:  # deleted between the check above and simplejwt's read
            raise TokenNoLongerValid() from exc
