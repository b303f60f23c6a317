"""The inference client follows its settings and maps transport failures to typed errors."""

from __future__ import annotations

import httpx
import pytest

from cdss.common.request_context import (
    RequestContext,
    reset_request_context,
    set_request_context,
)
from cdss.ml.client import (
    InferenceBadResponse,
    InferenceClient,
    InferenceUnavailable,
    get_client,
)
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


@pytest.mark.parametrize(
    ("body", "named"),
    [
        (b'{"ok": true, "probability": Infinity}', "Infinity is not a JSON number"),
        (b'{"ok": true, "probability": 1e999}', "out of range"),
        (b'{"ok": true, "label": "\\udc00"}', "lone UTF-16 surrogate"),
        (b'{"ok": true, "x": ' + b"[" * 100 + b"]" * 100 + b"}", "nested deeper than 64"),
    ],
)
def test_an_answer_no_json_consumer_could_store_is_a_bad_response(body, named):
    client = InferenceClient("http://127.0.0.1:9")
    client._http = httpx.Client(
        base_url=client.base_url,
        transport=httpx.MockTransport(lambda request: httpx.Response(200, content=body)),
    )
    with pytest.raises(InferenceBadResponse) as caught:
        client.health()
    assert caught.value.status_code == 502 and named in caught.value.message


def test_the_request_id_travels_to_the_inference_server():
    seen: list[str | None] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request.headers.get("X-Request-ID"))
        return httpx.Response(200, json={"ok": True, "status": "alive"})

    client = InferenceClient("http://127.0.0.1:9")
    client._http = httpx.Client(base_url=client.base_url, transport=httpx.MockTransport(answer))
    client.health()  # outside a request: no id to pass on
    token = set_request_context(RequestContext(request_id="req-42"))
    try:
        client.health()
    finally:
        reset_request_context(token)
    assert seen == [None, "req-42"]
