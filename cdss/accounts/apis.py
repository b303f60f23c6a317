"""Authentication endpoints: token pair, refresh with rotation, logout, and the current user."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.exceptions import AuthenticationFailed, ValidationError
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView
from rest_framework_simplejwt.exceptions import TokenError
from rest_framework_simplejwt.serializers import TokenObtainPairSerializer
from rest_framework_simplejwt.tokens import RefreshToken
from rest_framework_simplejwt.views import TokenRefreshView

from cdss.accounts import services
from cdss.accounts.serializers import UserOutputSerializer
from cdss.audit.services import access_event_record
from cdss.common.exceptions import ApplicationError
from cdss.common.serializers import StrictInputSerializer

_token_pair = inline_serializer(
    "TokenPair", fields={"access": serializers.CharField(), "refresh": serializers.CharField()}
)


class TokenObtainInputSerializer(StrictInputSerializer):
    username = serializers.CharField(max_length=150)
    password = serializers.CharField(max_length=256, trim_whitespace=False)


class TokenObtainApi(APIView):
    authentication_classes: list[Any] = []
    permission_classes = [AllowAny]

    @extend_schema(request=TokenObtainInputSerializer, responses={200: _token_pair}, tags=["auth"])
    def post(self, request: Request) -> Response:
        data = TokenObtainInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        username = data.validated_data["username"]
        retry_after = services.login_retry_after(username=username)
        if retry_after is not None:
            access_event_record(
                user=None, action="auth.login", outcome="throttled", object_type="user"
            )
            return Response(
                {"error": "Too many failed logins; try again later.", "detail": {}},
                status=status.HTTP_429_TOO_MANY_REQUESTS,
                headers={"Retry-After": str(retry_after)},
            )
        pair = TokenObtainPairSerializer(data=data.validated_data)
        try:
            pair.is_valid(raise_exception=True)
            authenticated = True
        except (AuthenticationFailed, ValidationError):
            authenticated = False
        if not authenticated:
            services.login_failure_record(username=username)
            access_event_record(
                user=None, action="auth.login", outcome="failed", object_type="user"
            )
            return Response(
                {"error": "No active account with these credentials.", "detail": {}},
                status=status.HTTP_401_UNAUTHORIZED,
            )
        services.login_failures_clear(username=username)
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

    @extend_schema(tags=["auth"])
    def post(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().post(request, *args, **kwargs)


class LogoutInputSerializer(StrictInputSerializer):
    refresh = serializers.CharField()


class LogoutApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(request=LogoutInputSerializer, responses={205: None}, tags=["auth"])
    def post(self, request: Request) -> Response:
        data = LogoutInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            token = RefreshToken(data.validated_data["refresh"])
            if str(token.get("user_id")) != str(request.user.pk):
                raise ApplicationError("refresh: token belongs to another user")
            token.blacklist()
        except TokenError as exc:
            raise ApplicationError(f"refresh: {exc}") from exc
        return Response(status=status.HTTP_205_RESET_CONTENT)


class MeApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(responses=UserOutputSerializer, tags=["auth"])
    def get(self, request: Request) -> Response:
        return Response(UserOutputSerializer(request.user).data)  # type: ignore[arg-type]
