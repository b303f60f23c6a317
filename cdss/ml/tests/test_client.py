"""The inference client follows its settings and maps transport failures to typed errors."""

from __future__ import annotations

import pytest

from cdss.ml.client import InferenceUnavailable, get_client
from inference.testing import free_port


def test_client_follows_url_and_timeout_settings(settings):
    settings.CDSS_INFERENCE_URL = "http://127.0.0.1:9"
    settings.CDSS_INFERENCE_TIMEOUT_SINGLE = 30.0
    first = get_client()
    assert get_client() is first  # pooled: one client while the settings stay the same
    settings.CDSS_INFERENCE_TIMEOUT_SINGLE = 2.5
    second = get_client()
    assert second is not first and second.timeouts.single == 2.5
    settings.CDSS_INFERENCE_URL = "http://127.0.0.1:10"
    assert get_client().base_url == "http://127.0.0.1:10"


def test_connection_refused_is_unavailable(settings):
    settings.CDSS_INFERENCE_URL = f"http://127.0.0.1:{free_port()}"
    with pytest.raises(InferenceUnavailable) as caught:
        get_client().health()
    assert caught.value.status_code == 503 and caught.value.code == "inference_unavailable"
