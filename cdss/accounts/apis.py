"""Authentication endpoints: token pair, refresh with rotation, logout, password change, and the
current user."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.exceptions import AuthenticationFailed, ValidationError
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView
from rest_framework_simplejwt.views import TokenRefreshView

from cdss.accounts import services
from cdss.accounts.serializers import (
    LogoutInputSerializer,
    PasswordChangeInputSerializer,
    TokenObtainInputSerializer,
    UserOutputSerializer,
    VersionedTokenObtainPairSerializer,
    VersionedTokenRefreshSerializer,
)
from cdss.accounts.tokens import token_pair_for_user
from cdss.audit.services import access_event_record
from cdss.common.openapi import errors
from cdss.common.request_context import get_request_context

_token_pair = inline_serializer(
    "TokenPair", fields={"access": serializers.CharField(), "refresh": serializers.CharField()}
)


def _throttled(message: str, retry_after: int) -> Response:
    return Response(
        {"error": message, "detail": {}},
        status=status.HTTP_429_TOO_MANY_REQUESTS,
        headers={"Retry-After": str(retry_after)},
    )


class TokenObtainApi(APIView):
    authentication_classes: list[Any] = []
    permission_classes = [AllowAny]

    @extend_schema(
        request=TokenObtainInputSerializer,
        responses={
            200: _token_pair,
            **errors(401, 429, _401="No active account with these credentials."),
        },
        tags=["auth"],
    )
    def post(self, request: Request) -> Response:
        data = TokenObtainInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        username = data.validated_data["username"]
        ip = get_request_context().ip
        retry_after = services.login_attempt_start(username=username, ip=ip)
        if retry_after is not None:
            access_event_record(
                user=None, action="auth.login", outcome="throttled", object_type="user"
            )
            return _throttled("Too many failed logins; try again later.", retry_after)
        pair = VersionedTokenObtainPairSerializer(data=data.validated_data)
        try:
            pair.is_valid(raise_exception=True)
            authenticated = True
        except (AuthenticationFailed, ValidationError):
            authenticated = False
        if not authenticated:
            access_event_record(
                user=None, action="auth.login", outcome="failed", object_type="user"
            )
            return Response(
                {"error": "No active account with these credentials.", "detail": {}},
                status=status.HTTP_401_UNAUTHORIZED,
            )
        services.login_attempt_succeeded(username=username, ip=ip)
        user = pair.user
        access_event_record(
            user=user,
            action="auth.login",
            outcome="ok",
            object_type="user",
            object_id=str(user.pk if user else ""),
        )
        return Response(pair.validated_data)


class TokenRefreshApi(TokenRefreshView):
    """Returns a new access token and a rotated refresh token; the old one is blacklisted."""

    serializer_class = VersionedTokenRefreshSerializer

    @extend_schema(
        responses={
            200: _token_pair,
            **errors(401, _401="The refresh token is invalid, expired or no longer valid."),
        },
        tags=["auth"],
    )
    def post(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().post(request, *args, **kwargs)


class LogoutApi(APIView):
    """Ends every token of the user, on all devices (access tokens included, at once)."""

    permission_classes = [IsAuthenticated]

    @extend_schema(request=LogoutInputSerializer, responses={205: None}, tags=["auth"])
    def post(self, request: Request) -> Response:
        LogoutInputSerializer(data=request.data).is_valid(raise_exception=True)
        services.user_logout(user=request.user)  # type: ignore[arg-type]
        return Response(status=status.HTTP_205_RESET_CONTENT)


class PasswordChangeApi(APIView):
    """Changes the user's own password, ends every earlier token, and returns a fresh pair."""

    permission_classes = [IsAuthenticated]

    @extend_schema(
        request=PasswordChangeInputSerializer,
        responses={200: _token_pair, **errors(429)},
        tags=["auth"],
    )
    def post(self, request: Request) -> Response:
        data = PasswordChangeInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        user = request.user
        ip = get_request_context().ip
        retry_after = services.login_attempt_start(username=user.get_username(), ip=ip)
        if retry_after is not None:
            access_event_record(
                user=user, action="auth.password_change", outcome="throttled", object_type="user"
            )
            return _throttled("Too many failed password attempts; try again later.", retry_after)
        saved = services.user_password_change(
            user=user,  # type: ignore[arg-type]
            old_password=data.validated_data["old_password"],
            new_password=data.validated_data["new_password"],
            ip=ip,
        )
        return Response(token_pair_for_user(saved))


class MeApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(responses=UserOutputSerializer, tags=["auth"])
    def get(self, request: Request) -> Response:
        return Response(UserOutputSerializer(request.user).data)  # type: ignore[arg-type]
