"""Every 5xx is the JSON error shape with the request id, never Django's HTML debug page."""

from __future__ import annotations

import pytest
from django.test import Client, override_settings


@pytest.mark.parametrize("path", ["/crash/plain", "/crash/api"])
@override_settings(ROOT_URLCONF="cdss.common.tests.crash_urls", DEBUG=False)
def test_a_crash_is_a_json_500_with_the_request_id(path):
    client = Client(raise_request_exception=False)
    response = client.get(path, HTTP_X_REQUEST_ID="req-crash-1")
    assert response.status_code == 500
    assert response["Content-Type"] == "application/json"
    body = response.json()
    assert body["error"] == "Internal server error."
    assert body["request_id"] == response["X-Request-ID"]
    assert "Traceback" not in response.content.decode()
    assert "RuntimeError" not in response.content.decode()
