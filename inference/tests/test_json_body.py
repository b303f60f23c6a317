"""The one JSON body parser of the inference server: depth limit, finite numbers, valid Unicode.

Unit tests of ``inference.jsonbody.parse_json_body``, then every JSON route of the real app
factory, each of which must answer a hostile body with a 400 that names the problem.
"""

from __future__ import annotations

import json

import pytest
from flask.testing import FlaskClient

from inference.errors import InvalidInput
from inference.jsonbody import MAX_DEPTH, parse_json_body

JSON_ROUTES = (
    "/api/v1/predict",
    "/api/v1/retrain",
    "/api/v1/omics/predict",
    "/api/v1/imaging/analyze",
)


def _refused(raw: str | bytes) -> InvalidInput:
    data = raw.encode() if isinstance(raw, str) else raw
    with pytest.raises(InvalidInput) as info:
        parse_json_body(data)
    assert info.value.field == "body"
    assert info.value.status_code == 400
    return info.value


def test_large_finite_numbers_are_kept() -> None:
    body = parse_json_body(b'{"a": 1.7e308, "b": -2.5e-300, "c": 123456789012345678901234567890}')
    assert body == {"a": 1.7e308, "b": -2.5e-300, "c": 123456789012345678901234567890}


def test_ordinary_bodies_parse() -> None:
    body = {"a": [1, 2.5, -3e-7, {"b": None, "c": True}], "s": "x\u00e9\ud55c\U0001f600"}
    assert parse_json_body(json.dumps(body).encode()) == body
    assert parse_json_body(json.dumps(body, ensure_ascii=False).encode()) == body
    # A valid surrogate pair written as escapes is one character.
    assert parse_json_body(b'{"s": "\\ud83d\\ude00"}') == {"s": "\U0001f600"}


def test_depth_up_to_the_limit_is_accepted() -> None:
    deep = "[" * MAX_DEPTH + "]" * MAX_DEPTH
    assert parse_json_body(deep.encode(), require_object=False) is not None
    objects = '{"a":' * (MAX_DEPTH - 1) + "{}" + "}" * (MAX_DEPTH - 1)
    assert isinstance(parse_json_body(objects.encode()), dict)


@pytest.mark.parametrize("depth", [MAX_DEPTH + 1, 5_000, 200_000])
def test_deeper_nesting_is_refused_naming_the_problem(depth: int) -> None:
    exc = _refused("[" * depth + "]" * depth)
    assert "nest" in exc.message and str(MAX_DEPTH) in exc.message


def test_unclosed_deep_nesting_is_refused() -> None:
    assert "nest" in _refused('{"a":' * 100_000).message


def test_brackets_inside_strings_do_not_count() -> None:
    text = json.dumps({"s": "[" * 10_000, "t": '\\"[[[' * 1000, "u": "{" * 500})
    assert parse_json_body(text.encode())["s"] == "[" * 10_000


def test_many_escaped_quotes_in_an_unterminated_string_are_refused() -> None:
    # The string scanner must stay linear on this input (a naive regex is quadratic).
    exc = _refused('["' + '\\"' * 400_000)
    assert "not valid JSON" in exc.message


@pytest.mark.parametrize(
    "raw", ["[NaN]", '{"x": Infinity}', '{"x": -Infinity}', '{"x": [1, 2, NaN]}']
)
def test_non_finite_literals_are_refused(raw: str) -> None:
    assert "finite" in _refused(raw).message


@pytest.mark.parametrize(
    "raw",
    [
        '{"x": 1e999}',
        '{"x": -1e999}',
        "[1.5e400]",
        '{"x": 1E+0309}',
        "[1" + "0" * 400 + "]",
        "[" + "9" * 250 + "e99]",
        "[" + "9" * 250 + ".5e60]",
    ],
)
def test_numbers_that_overflow_are_refused(raw: str) -> None:
    message = _refused(raw).message
    assert "finite" in message or "out of range" in message


@pytest.mark.parametrize(
    "raw",
    [
        '{"s": "\\udc00"}',
        '{"s": "a\\ud800b"}',
        '["ok", "\\ud83d"]',
        '{"\\udfff": 1}',
        '{"s": "\\ude00\\ud83d"}',
    ],
)
def test_lone_surrogates_are_refused(raw: str) -> None:
    assert "surrogate" in _refused(raw).message


@pytest.mark.parametrize(
    ("raw", "words"),
    [
        (b"", "empty"),
        (b"   ", "empty"),
        (b"{not json", "not valid JSON"),
        (b'{"a": 1} trailing', "not valid JSON"),
        (b'{"a": "\xff"}', "UTF-8"),
        (b"[1, 2]", "must be a JSON object"),
        (b'"text"', "must be a JSON object"),
    ],
)
def test_other_bad_bodies(raw: bytes, words: str) -> None:
    assert words in _refused(raw).message


@pytest.mark.parametrize("url", JSON_ROUTES)
@pytest.mark.parametrize(
    ("raw", "words"),
    [
        ("[" * 5_000 + "]" * 5_000, "nest"),
        ('{"a": ' + "[" * 50_000, "nest"),
        ('{"model": "rosmap", "sample": {"mrna": {"g": 1e999}}}', "finite"),
        ('{"sequence": "MKV", "x": NaN}', "finite"),
        ('{"sequence": "\\udc00"}', "surrogate"),
        ('{"training_data_path": "/tmp/\\ud800"}', "surrogate"),
    ],
)
def test_every_json_route_answers_400_naming_the_problem(
    fake_client: FlaskClient, url: str, raw: str, words: str
) -> None:
    response = fake_client.post(url, data=raw, content_type="application/json")
    assert response.status_code == 400, (url, response.data[:200])
    body = response.get_json()
    assert body["field"] == "body" and words in body["error"]


@pytest.mark.parametrize("url", JSON_ROUTES)
def test_a_json_body_over_the_server_limit_is_413_on_every_route(
    fake_client: FlaskClient, url: str
) -> None:
    # fake_config's max_body is 64 KiB; the imaging route allows large uploads, not large JSON.
    raw = json.dumps({"volume_path": "a" * (80 * 1024)})
    response = fake_client.post(url, data=raw, content_type="application/json")
    assert response.status_code == 413, url
    assert "error" in response.get_json()
