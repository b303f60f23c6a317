"""Authentication endpoints (token pair, refresh with rotation, logout, password change, the
current user), the users administrators manage, and the directory of active clinicians that
care teams are picked from."""

from __future__ import annotations

from typing import Any

from django.http import Http404
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.exceptions import AuthenticationFailed, ValidationError
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView
from rest_framework_simplejwt.views import TokenRefreshView

from cdss.accounts import selectors, services
from cdss.accounts.models import User
from cdss.accounts.serializers import (
    DirectoryEntrySerializer,
    DirectoryFilterSerializer,
    LogoutInputSerializer,
    ManagedUserOutputSerializer,
    PasswordChangeInputSerializer,
    TokenObtainInputSerializer,
    UserCreateInputSerializer,
    UserFilterSerializer,
    UserOutputSerializer,
    UserUpdateInputSerializer,
    VersionedTokenObtainPairSerializer,
    VersionedTokenRefreshSerializer,
)
from cdss.accounts.tokens import token_pair_for_user
from cdss.audit.services import access_event_record, access_events_record_page
from cdss.common.metrics import LOGIN_FAILURES
from cdss.common.openapi import errors, paginated
from cdss.common.pagination import StandardPagination
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
            LOGIN_FAILURES.labels(reason="throttled").inc()
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
            LOGIN_FAILURES.labels(reason="invalid").inc()
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


# --- Users (administrators) and the clinician directory ---------------------------------------


class UserListCreateApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        operation_id="users_list",
        description="Every user, by username (administrators only).",
        parameters=[UserFilterSerializer],
        responses={
            200: paginated(ManagedUserOutputSerializer, StandardPagination),
            **errors(403, 404, _404="No such page: past the last one."),
        },
        tags=["users"],
    )
    def get(self, request: Request) -> Response:
        filters = UserFilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        data = filters.validated_data
        users = selectors.user_list(
            user=request.user,  # type: ignore[arg-type]
            search=(data.get("search") or "").strip() or None,
            role=data.get("role"),
            is_active=data.get("is_active"),
        )
        paginator = StandardPagination()
        page = paginator.paginate_queryset(users, request, view=self) or []
        access_events_record_page(
            user=request.user,
            action="user.list",
            object_type="user",
            shown=[(None, str(u.pk)) for u in page],
        )
        return paginator.get_paginated_response(ManagedUserOutputSerializer(page, many=True).data)

    @extend_schema(
        operation_id="users_create",
        description=(
            "Creates a user with a role (administrators only). The password must pass the "
            "password rules; a taken username is a 400 naming ``username``."
        ),
        request=UserCreateInputSerializer,
        responses={201: ManagedUserOutputSerializer, **errors(403)},
        tags=["users"],
    )
    def post(self, request: Request) -> Response:
        data = UserCreateInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        user = services.user_register(actor=request.user, **data.validated_data)  # type: ignore[arg-type]
        return Response(ManagedUserOutputSerializer(user).data, status=status.HTTP_201_CREATED)


class UserDetailApi(APIView):
    permission_classes = [IsAuthenticated]

    def _user(self, request: Request, user_id: int) -> User:
        found = selectors.user_get(user=request.user, user_id=user_id)  # type: ignore[arg-type]
        if found is None:
            raise Http404("No such user.")
        return found

    @extend_schema(
        operation_id="users_retrieve",
        description="One user (administrators only).",
        responses={200: ManagedUserOutputSerializer, **errors(403)},
        tags=["users"],
    )
    def get(self, request: Request, user_id: int) -> Response:
        user = self._user(request, user_id)
        access_event_record(
            user=request.user,
            action="user.read",
            outcome="ok",
            object_type="user",
            object_id=str(user.pk),
        )
        return Response(ManagedUserOutputSerializer(user).data)

    @extend_schema(
        operation_id="users_partial_update",
        description=(
            "Changes a user's role, active state, e-mail or name (administrators only). A "
            "deactivated user's tokens stop working at once; administrators cannot deactivate or "
            "demote themselves."
        ),
        request=UserUpdateInputSerializer,
        responses={200: ManagedUserOutputSerializer, **errors(403)},
        tags=["users"],
    )
    def patch(self, request: Request, user_id: int) -> Response:
        data = UserUpdateInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        user = services.user_update(
            actor=request.user,  # type: ignore[arg-type]
            user=self._user(request, user_id),
            **data.validated_data,
        )
        return Response(ManagedUserOutputSerializer(user).data)


class ClinicianDirectoryApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        operation_id="users_directory_list",
        description=(
            "The active clinicians a care team can name, by username: id, username, display "
            "name and role only (clinicians and administrators)."
        ),
        parameters=[DirectoryFilterSerializer],
        responses={
            200: paginated(DirectoryEntrySerializer, StandardPagination),
            **errors(403, 404, _404="No such page: past the last one."),
        },
        tags=["users"],
    )
    def get(self, request: Request) -> Response:
        filters = DirectoryFilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        clinicians = selectors.clinician_directory_list(
            user=request.user,  # type: ignore[arg-type]
            search=(filters.validated_data.get("search") or "").strip() or None,
        )
        paginator = StandardPagination()
        page = paginator.paginate_queryset(clinicians, request, view=self) or []
        access_events_record_page(
            user=request.user,
            action="user.directory",
            object_type="user",
            shown=[(None, str(u.pk)) for u in page],
        )
        return paginator.get_paginated_response(DirectoryEntrySerializer(page, many=True).data)
