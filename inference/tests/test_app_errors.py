"""The error policy of the app factory: every error is JSON, every response carries a request id.

A route that raises is added to a real app (the app factory, a stand-in sequence engine), so the
tests go through Flask's whole error path, not a handler called by hand.
"""

from __future__ import annotations

import json
import re

import pytest
from flask import Flask
from flask.testing import FlaskClient

import inference.app
from inference.api import request_json

REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
SEED_PROTEIN = "MFVFLVLLPLVSSQCVNLTTRTQLPPAYTNSFTRGVYYPDKVFRSSVLHS"


class _Unserializable:
    pass


@pytest.fixture
def app(fake_app: Flask) -> Flask:
    """The real app plus routes that fail in the ways a bug would."""

    def boom() -> dict[str, object]:
        raise RuntimeError("secret internal detail /srv/cdss/var/models")

    def not_json() -> dict[str, object]:
        return {"value": _Unserializable()}

    def non_finite() -> dict[str, object]:
        return {"ok": True, "logit": float("inf"), "p": float("nan")}

    def echo() -> dict[str, object]:
        return {"ok": True, "body": request_json()}

    fake_app.add_url_rule("/__test__/boom", view_func=boom)
    fake_app.add_url_rule("/__test__/not-json", view_func=not_json)
    fake_app.add_url_rule("/__test__/non-finite", view_func=non_finite)
    fake_app.add_url_rule("/__test__/echo", view_func=echo, methods=["POST"])
    return fake_app


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


def _is_json_error(response_data: bytes) -> dict[str, object]:
    body = json.loads(response_data)  # strict: raises on HTML or on NaN/Infinity
    assert isinstance(body, dict) and isinstance(body["error"], str)
    text = response_data.decode()
    assert "Traceback" not in text and "<html" not in text.lower()
    return body


def test_an_uncaught_exception_is_a_json_500_with_the_request_id(client: FlaskClient) -> None:
    response = client.get("/__test__/boom")
    assert response.status_code == 500
    assert response.mimetype == "application/json"
    body = _is_json_error(response.data)
    request_id = response.headers["X-Request-ID"]
    assert REQUEST_ID.match(request_id)
    assert body == {"error": "internal server error", "request_id": request_id}
    assert "secret" not in response.get_data(as_text=True)


def test_a_well_formed_incoming_request_id_is_echoed(client: FlaskClient) -> None:
    response = client.get("/__test__/boom", headers={"X-Request-ID": "django-7f3a.b_c-1"})
    assert response.headers["X-Request-ID"] == "django-7f3a.b_c-1"
    assert response.get_json()["request_id"] == "django-7f3a.b_c-1"
    ok = client.get("/health", headers={"X-Request-ID": "abc"})
    assert ok.status_code == 200 and ok.headers["X-Request-ID"] == "abc"


@pytest.mark.parametrize("bad", ["has space", "a" * 65, "semi;colon", "<script>", "é"])
def test_a_malformed_incoming_request_id_is_replaced(client: FlaskClient, bad: str) -> None:
    response = client.get("/health", headers={"X-Request-ID": bad})
    assert response.status_code == 200
    request_id = response.headers["X-Request-ID"]
    assert request_id != bad and REQUEST_ID.match(request_id)


def test_every_response_gets_its_own_request_id(client: FlaskClient) -> None:
    ids = {client.get("/health").headers["X-Request-ID"] for _ in range(3)}
    assert len(ids) == 3


def test_unknown_route_wrong_method_and_too_large_are_json_with_request_id(
    client: FlaskClient,
) -> None:
    missing = client.get("/no/such/route")
    wrong = client.delete("/api/v1/predict")
    too_large = client.post(
        "/api/v1/predict",
        data=json.dumps({"sequence": "A" * (64 * 1024)}),
        content_type="application/json",
    )
    for response, status in ((missing, 404), (wrong, 405), (too_large, 413)):
        assert response.status_code == status
        _is_json_error(response.data)
        assert REQUEST_ID.match(response.headers["X-Request-ID"])


def test_an_unserializable_result_is_a_json_500(client: FlaskClient) -> None:
    response = client.get("/__test__/not-json")
    assert response.status_code == 500
    body = _is_json_error(response.data)
    assert body["request_id"] == response.headers["X-Request-ID"]


def test_a_non_finite_number_in_a_result_is_never_sent(client: FlaskClient) -> None:
    response = client.get("/__test__/non-finite")
    assert response.status_code == 500
    body = _is_json_error(response.data)  # strict parse: no NaN or Infinity in the body
    assert "non-finite" in str(body["error"])
    assert body["request_id"] == response.headers["X-Request-ID"]


def test_a_non_finite_engine_output_is_a_clear_500(app: Flask) -> None:
    engine = app.extensions["cdss"].engines["sequence"]
    original = engine.predict_protein

    def nan_probability(protein: str, **kwargs: object) -> dict[str, object]:
        result = original(protein, **kwargs)
        result["prediction"]["task1"]["probability"] = float("nan")
        return result

    engine.predict_protein = nan_probability
    response = app.test_client().post("/api/v1/predict", json={"sequence": SEED_PROTEIN})
    assert response.status_code == 500
    assert "non-finite" in str(_is_json_error(response.data)["error"])


def test_a_failing_error_handler_still_answers_json(
    client: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: object, **kwargs: object) -> object:
        raise RuntimeError("the error handler itself failed")

    monkeypatch.setattr(inference.app, "_error_body", broken)
    response = client.get("/__test__/boom", headers={"X-Request-ID": "req-1"})
    assert response.status_code == 500
    assert response.headers["X-Request-ID"] == "req-1"
    assert _is_json_error(response.data) == {
        "error": "internal server error",
        "request_id": "req-1",
    }


def test_4xx_keeps_its_shape(client: FlaskClient) -> None:
    response = client.post("/api/v1/predict", json={"sequence": ""})
    assert response.status_code == 400
    assert response.get_json()["field"] == "sequence"
    assert REQUEST_ID.match(response.headers["X-Request-ID"])
