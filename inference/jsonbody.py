"""The one parser of JSON request bodies: UTF-8, bounded nesting, finite numbers, valid Unicode.

``parse_json_body`` refuses, with an ``InvalidInput`` (400) on the field ``body`` that names the
problem:

- nesting deeper than ``MAX_DEPTH``, found by a linear scan of the brackets outside strings
  *before* the recursive decoder runs (so a body of many thousand ``[`` costs one pass, never a
  ``RecursionError``);
- ``NaN``, ``Infinity``, ``-Infinity`` and numbers that overflow a float (``1e999``, an integer of
  hundreds of digits): the models compute in floats, and such a value cannot be answered;
- strings (keys or values) holding a lone UTF-16 surrogate (``"\\udc00"``): they cannot be written
  as UTF-8 again, in a log line, a response or the database;
- bytes that are not UTF-8, text that is not JSON, and (with ``require_object``) anything but an
  object at the top level.

No Flask here; ``inference.api.request_json`` reads the request and calls this.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

import numpy as np

from inference.errors import InvalidInput

MAX_DEPTH = 64

# A string literal, from its opening quote to its closing quote or to the end of the text. It
# always matches where it starts and never backtracks (possessive repeats), so stripping every
# string is one linear pass even over an unterminated string full of escaped quotes. What is left
# holds the structural characters; the decoder afterwards refuses whatever is not valid JSON.
_STRING = re.compile(r'"(?:[^"\\]++|\\.?)*+(?:"|\Z)', re.DOTALL)
_BRACKETS = {ord("["): 1, ord("{"): 1, ord("]"): -1, ord("}"): -1}
_NOT_BRACKETS = bytes(c for c in range(256) if c not in _BRACKETS)
_DELTA = np.zeros(256, dtype=np.int8)
for _char, _step in _BRACKETS.items():
    _DELTA[_char] = _step
_CHUNK = 1 << 20
# A surrogate can only come from a \uD800-\uDFFF escape (the text itself is valid UTF-8), so the
# decoded value is searched only when the text holds such an escape.
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")
_SURROGATE = re.compile("[\ud800-\udfff]")
# Longer integers overflow a float anyway; this also keeps int() far from its digit limit.
_MAX_INT_DIGITS = 400
# A number with fewer than 200 digits in a row and an exponent of at most two digits is below
# 1e299: finite. Bodies without a longer run or a longer exponent (nearly all) are decoded by the
# C scanner alone; the others go through the per-number checks. The test is linear: a substring
# and a short regex searched in a copy of the body with every digit made a 9.
_DIGITS_TO_NINE = bytes.maketrans(b"012345678", b"999999999")
_LONG_DIGIT_RUN = b"9" * 200
_LONG_EXPONENT = re.compile(rb"[eE]\+?999")


class _NonFinite(ValueError):
    """Raised from inside the decoder's hooks; turned into the 400 by ``parse_json_body``."""


def _refuse(message: str) -> InvalidInput:
    return InvalidInput(f"body: {message}", field="body")


def nesting_depth_exceeds(text: str, limit: int) -> bool:
    """True when brackets outside string literals nest deeper than ``limit`` (one linear pass)."""
    if text.count("[") + text.count("{") <= limit:
        return False  # too few brackets to nest that deep: the usual body, at C speed
    structural = _STRING.sub("", text).encode("ascii", "ignore")
    data = np.frombuffer(structural.translate(None, _NOT_BRACKETS), dtype=np.uint8)
    depth = 0
    for start in range(0, data.size, _CHUNK):
        steps = _DELTA[data[start : start + _CHUNK]].astype(np.int32)
        running = np.cumsum(steps) + depth
        if running.size and int(running.max()) > limit:
            return True
        depth = int(running[-1]) if running.size else depth
    return False


def _constant(name: str) -> float:
    raise _NonFinite(f"holds {name}; JSON numbers must be finite")


def _float(token: str) -> float:
    value = float(token)
    if not math.isfinite(value):
        raise _NonFinite(f"number {token[:40]!r} is out of range (not a finite float)")
    return value


def _int(token: str) -> int:
    value = int(token) if len(token) <= _MAX_INT_DIGITS else None
    try:
        if value is None:
            raise OverflowError
        float(value)
    except OverflowError:
        raise _NonFinite(
            f"integer of {len(token)} digits is out of range (not a finite float)"
        ) from None
    return value


def _may_overflow(data: bytes) -> bool:
    nines = data.translate(_DIGITS_TO_NINE)
    return _LONG_DIGIT_RUN in nines or _LONG_EXPONENT.search(nines) is not None


def _check_strings(value: Any) -> None:
    """Refuse a lone surrogate anywhere in the decoded value (depth is already bounded)."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if _SURROGATE.search(item):
                raise _refuse(
                    "a string holds a lone UTF-16 surrogate (such as \\udc00); "
                    "strings must be valid Unicode"
                )
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)


def parse_json_body(data: bytes, *, max_depth: int = MAX_DEPTH, require_object: bool = True) -> Any:
    """The decoded body, or ``InvalidInput`` naming what is wrong with it."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise _refuse("is not UTF-8 text; send JSON encoded as UTF-8") from None
    if not text.strip():
        raise _refuse("is empty; send a JSON object")
    if nesting_depth_exceeds(text, max_depth):
        raise _refuse(f"JSON nesting is deeper than {max_depth} levels")
    try:
        if _may_overflow(data):
            value = json.loads(text, parse_constant=_constant, parse_float=_float, parse_int=_int)
        else:
            value = json.loads(text, parse_constant=_constant)
    except _NonFinite as exc:
        raise _refuse(str(exc)) from None
    except RecursionError:  # cannot happen below MAX_DEPTH; kept so it can never be a 500
        raise _refuse(f"JSON nesting is deeper than {max_depth} levels") from None
    except ValueError as exc:
        raise _refuse(f"is not valid JSON ({_short(exc)})") from None
    if _SURROGATE_ESCAPE.search(text):
        _check_strings(value)
    if require_object and not isinstance(value, dict):
        raise _refuse(f"must be a JSON object, got a JSON {_json_type(value)}")
    return value


def _short(exc: ValueError) -> str:
    return str(exc)[:200]


def _json_type(value: Any) -> str:
    if isinstance(value, list):
        return "array"
    if isinstance(value, str):
        return "string"
    if isinstance(value, bool):
        return "boolean"
    if value is None:
        return "null"
    return "number"
