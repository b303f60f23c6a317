"""The web app's routes: everything that is not a server route. Included last in config/urls.py.

The excluded prefixes keep their JSON 404s (an unknown ``/api/v1/...`` is an API error, not the
app), and a path ending in a file extension (with or without a slash) is a missing file, not a
page of the app.
"""

from django.urls import re_path

from cdss.web import views

SERVER_PREFIXES = (
    "api",
    "ml",
    "admin",
    "static",
    "media",
    "protected-media",
    "ws",
    "fhir",
    "cds-services",
    "metrics",
    "healthz",
    "readyz",
)

urlpatterns = [
    re_path(
        rf"^(?!(?:{'|'.join(SERVER_PREFIXES)})(?:/|$))(?!.*\.[A-Za-z0-9]{{1,8}}/?$).*$",
        views.web_app,
        name="web-app",
    ),
]
