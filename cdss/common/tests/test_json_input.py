"""JSON bodies that Python's json would accept but this API refuses, with a 400 that says why.

Deep nesting used to exhaust the stack (500 on every JSON route, login included); lone surrogates
and numbers beyond float range used to crash the writers that store a refused call.
"""

from __future__ import annotations

import pytest
from django.urls import reverse

from cdss.sequences.models import InferenceLog

pytestmark = pytest.mark.django_db

DEEP = "[" * 5000 + "]" * 5000
ROUTES = ["auth-token", "auth-token-refresh", "patient-list", "ml-predict"]


def _post_raw(client, name: str, body: str):
    return client.post(reverse(name), data=body, content_type="application/json")


@pytest.mark.parametrize("name", ROUTES)
@pytest.mark.parametrize(
    ("body", "named"),
    [
        (DEEP, "nested deeper than"),
        ('{"x": ' + DEEP + "}", "nested deeper than"),
        ('{"username": "a", "password": 1e999}', "out of range"),
        ('{"username": "a", "password": NaN}', "NaN is not a JSON number"),
        ('{"username": "\\udc00", "password": "x"}', "lone UTF-16 surrogate"),
        ('{"username": "a", "\\ud800": "x"}', "lone UTF-16 surrogate"),
        ('{"username": "a", "password": "x"', "JSON parse error"),
    ],
)
def test_refused_with_a_400_that_names_the_problem(make_client, clinician_a, name, body, named):
    response = _post_raw(make_client(clinician_a), name, body)
    assert response.status_code == 400, response.content
    assert named in response.json()["error"]


def test_a_paired_surrogate_escape_is_an_ordinary_character(make_client, clinician_a):
    response = _post_raw(
        make_client(clinician_a),
        "patient-list",
        '{"mrn": "M-1", "name": "Emoji \\ud83d\\ude00", "birth_date": "1980-01-02", "sex": "male"}',
    )
    assert response.status_code == 201, response.content
    assert response.json()["name"] == "Emoji \U0001f600"


@pytest.mark.parametrize(
    "body",
    [
        '{"sequence": "\\udc00", "seq_type": "protein"}',
        '{"sequence": "MKV", "seq_type": "protein", "task3_threshold": 1e999}',
        '{"items": [{"id": "\\udfff", "sequence": "MKV"}]}',
        '{"sequence": ' + DEEP + "}",
    ],
)
def test_a_refused_predict_answers_at_once_and_is_logged_once(make_client, clinician_a, body):
    response = _post_raw(make_client(clinician_a), "ml-predict", body)
    assert response.status_code == 400, response.content
    log = InferenceLog.objects.get()
    assert (log.outcome, log.http_status, log.user_id) == ("invalid_input", 400, clinician_a.pk)
