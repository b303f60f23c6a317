"""Django checks sequence inputs against the limits the server publishes, not copies of them."""

from __future__ import annotations

import httpx
import pytest
from django.urls import reverse

from cdss.ml.client import InferenceClient, get_client
from cdss.sequences.models import InferenceLog

pytestmark = pytest.mark.django_db


def test_limits_come_from_model_info_and_are_cached():
    calls = []

    def answer(request: httpx.Request) -> httpx.Response:
        calls.append(request.url.path)
        return httpx.Response(200, json={"engines": {"sequence": {"limits": {"max_top_k": 7}}}})

    client = InferenceClient("http://127.0.0.1:9")
    client._http = httpx.Client(base_url=client.base_url, transport=httpx.MockTransport(answer))
    assert client.engine_limits("sequence") == {"max_top_k": 7}
    assert client.engine_limits("sequence") == {"max_top_k": 7}
    assert client.engine_limits("omics") is None
    assert calls == ["/api/v1/model-info"]


def test_an_unreachable_server_leaves_the_check_to_the_server():
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    client = InferenceClient("http://127.0.0.1:9")
    client._http = httpx.Client(base_url=client.base_url, transport=httpx.MockTransport(refuse))
    assert client.engine_limits("sequence") is None


def test_retrain_past_the_servers_epoch_limit_is_refused_before_queueing(
    make_client, ml_engineer, use_server
):
    limits = get_client().engine_limits("sequence")
    assert limits is not None
    limit = limits["max_retrain_epochs"]
    body = {"training_data_path": "/srv/data", "epochs": limit + 1}
    response = make_client(ml_engineer).post(reverse("ml-retrain"), body, format="json")
    assert response.status_code == 400
    assert "epochs" in response.json()["detail"]
    assert f"At most {limit}" in response.json()["error"]


def test_predict_options_follow_the_servers_limits(make_client, clinician_a, use_server):
    limits = get_client().engine_limits("sequence")
    assert limits is not None
    body = {
        "sequence": "MKV" * 10,
        "seq_type": "protein",
        "top_k": limits["max_top_k"] + 1,
        "organism_hint": "x" * (limits["max_organism_hint_length"] + 1),
    }
    response = make_client(clinician_a).post(reverse("ml-predict"), body, format="json")
    assert response.status_code == 400
    assert set(response.json()["detail"]) == {"top_k", "organism_hint"}
    assert InferenceLog.objects.get().outcome == "invalid_input"
