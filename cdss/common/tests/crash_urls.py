"""The project's routes plus two that crash, for the server-error tests."""

from django.http import HttpRequest, HttpResponse
from django.urls import path
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from config.urls import urlpatterns as project_urlpatterns


def crash_plain(request: HttpRequest) -> HttpResponse:
    raise RuntimeError("a bug in a plain Django view")


class CrashApi(APIView):
    authentication_classes: list[type] = []
    permission_classes: list[type] = []

    def get(self, request: Request) -> Response:
        raise RuntimeError("a bug in an API view")


urlpatterns = [
    path("crash/plain", crash_plain),
    path("crash/api", CrashApi.as_view()),
    *project_urlpatterns,
]

handler500 = "cdss.common.apis.server_error"
