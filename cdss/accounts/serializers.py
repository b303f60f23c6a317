"""Input and output shapes of the accounts APIs: tokens, the current user, the users
administrators manage and the clinician directory."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema_serializer
from rest_framework import serializers
from rest_framework_simplejwt.serializers import TokenObtainPairSerializer, TokenRefreshSerializer

from cdss.accounts.authentication import TokenNoLongerValid
from cdss.accounts.models import Role, User
from cdss.accounts.selectors import user_get_for_token
from cdss.accounts.tokens import VersionedRefreshToken
from cdss.common.pagination import StandardPagination
from cdss.common.serializers import MAX_DB_INT, StrictInputSerializer


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


@extend_schema_serializer(component_name="ManagedUser")
class ManagedUserOutputSerializer(serializers.ModelSerializer[User]):
    """A user as administrators see it."""

    email = serializers.CharField(read_only=True)

    class Meta:
        model = User
        fields = [
            "id",
            "username",
            "email",
            "first_name",
            "last_name",
            "role",
            "is_active",
            "last_login",
            "date_joined",
        ]
        read_only_fields = fields


class UserFilterSerializer(StrictInputSerializer):
    search = serializers.CharField(required=False, max_length=150)
    role = serializers.ChoiceField(required=False, choices=Role.choices)
    is_active = serializers.BooleanField(required=False, allow_null=True, default=None)
    page = serializers.IntegerField(required=False, min_value=1, max_value=MAX_DB_INT)
    page_size = serializers.IntegerField(
        required=False, min_value=1, max_value=StandardPagination.max_page_size
    )


class UserCreateInputSerializer(StrictInputSerializer):
    username = serializers.RegexField(r"^[\w.@+-]+\Z", max_length=150)
    password = serializers.CharField(max_length=256, trim_whitespace=False)
    role = serializers.ChoiceField(choices=Role.choices)
    email = serializers.EmailField(required=False, default="", allow_blank=True, max_length=254)
    first_name = serializers.CharField(required=False, default="", allow_blank=True, max_length=150)
    last_name = serializers.CharField(required=False, default="", allow_blank=True, max_length=150)


class UserUpdateInputSerializer(StrictInputSerializer):
    role = serializers.ChoiceField(required=False, choices=Role.choices)
    is_active = serializers.BooleanField(required=False)
    email = serializers.EmailField(required=False, allow_blank=True, max_length=254)
    first_name = serializers.CharField(required=False, allow_blank=True, max_length=150)
    last_name = serializers.CharField(required=False, allow_blank=True, max_length=150)


class DirectoryFilterSerializer(StrictInputSerializer):
    search = serializers.CharField(required=False, max_length=150)
    page = serializers.IntegerField(required=False, min_value=1, max_value=MAX_DB_INT)
    page_size = serializers.IntegerField(
        required=False, min_value=1, max_value=StandardPagination.max_page_size
    )


@extend_schema_serializer(component_name="DirectoryEntry")
class DirectoryEntrySerializer(serializers.ModelSerializer[User]):
    """What every clinician may know of a colleague: no e-mail, no login history."""

    display_name = serializers.SerializerMethodField()

    class Meta:
        model = User
        fields = ["id", "username", "display_name", "role"]
        read_only_fields = fields

    def get_display_name(self, obj: User) -> str:
        return obj.get_full_name() or obj.username
