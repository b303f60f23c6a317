"""Health probes and the JSON error pages for routes outside DRF."""

from __future__ import annotations

from typing import Any

from django.db import connection
from django.http import HttpRequest, JsonResponse
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from cdss.common.exceptions import error_body, record_denied

_health_schema = inline_serializer(
    "Health", fields={"ok": serializers.BooleanField(), "status": serializers.CharField()}
)


class LivenessApi(APIView):
    """The process is up and answering."""

    authentication_classes: list[Any] = []
    permission_classes = [AllowAny]

    @extend_schema(responses=_health_schema, tags=["health"])
    def get(self, request: Request) -> Response:
        return Response({"ok": True, "status": "alive"})


class ReadinessApi(APIView):
    """The process can serve: its database answers."""

    authentication_classes: list[Any] = []
    permission_classes = [AllowAny]

    @extend_schema(responses={200: _health_schema, 503: _health_schema}, tags=["health"])
    def get(self, request: Request) -> Response:
        try:
            with connection.cursor() as cursor:
                cursor.execute("SELECT 1")
                cursor.fetchone()
        except Exception:
            return Response({"ok": False, "status": "database unavailable"}, status=503)
        return Response({"ok": True, "status": "ready", "database": connection.vendor})


def _error(status: int, message: str) -> JsonResponse:
    return JsonResponse(error_body(status, message), status=status)


def bad_request(request: HttpRequest, exception: Exception | None = None) -> JsonResponse:
    return _error(400, "Bad request.")


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> JsonResponse:
    record_denied(request)
    return _error(403, "Permission denied.")


def not_found(request: HttpRequest, exception: Exception | None = None) -> JsonResponse:
    return _error(404, "Not found.")


def server_error(request: HttpRequest) -> JsonResponse:
    return _error(500, "Internal server error.")
