"""The one JSON body parser of the API: bounded nesting, finite numbers, valid Unicode.

Python's ``json`` accepts ``NaN``, ``Infinity`` and numbers that overflow to infinity (``1e999``),
lone UTF-16 surrogates (``"\\udc00"``, which no database column or UTF-8 encoder accepts), and
nesting deep enough to exhaust the interpreter's stack. Each is refused here, once, with a 400 that
names the problem, before any view, serializer or log writer sees the value.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

from django.conf import settings
from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser

# Deeper than any request this API defines; far below the interpreter's recursion limit.
MAX_JSON_DEPTH = 32
_SURROGATE = re.compile("[\ud800-\udfff]")


class JsonInputError(ValueError):
    """A body that is JSON by syntax but not a value this API accepts."""


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise JsonInputError(f"number {text[:40]} is out of range")
    return value


def _no_constant(name: str) -> float:
    raise JsonInputError(f"{name} is not a JSON number")


def _check_tree(value: Any, max_depth: int) -> None:
    """Walks the decoded value without recursion: depth and string contents."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, str):
            if _SURROGATE.search(node):
                raise JsonInputError("a string holds a lone UTF-16 surrogate (invalid Unicode)")
            continue
        if not isinstance(node, dict | list):
            continue
        if depth > max_depth:
            raise JsonInputError(f"nested deeper than {max_depth} levels")
        children = node.items() if isinstance(node, dict) else ((None, item) for item in node)
        for key, item in children:
            if key is not None:
                stack.append((key, depth))
            stack.append((item, depth + 1))


def json_loads_strict(text: str | bytes, *, max_depth: int = MAX_JSON_DEPTH) -> Any:
    """``json.loads`` that raises JsonInputError (a ValueError) for what this API refuses."""
    try:
        value = json.loads(text, parse_float=_finite_float, parse_constant=_no_constant)
    except RecursionError as exc:
        raise JsonInputError(f"nested deeper than {max_depth} levels") from exc
    _check_tree(value, max_depth)
    return value


class StrictJSONParser(JSONParser):
    """DRF's JSON parser on top of json_loads_strict."""

    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> Any:
        parser_context = parser_context or {}
        encoding = parser_context.get("encoding", settings.DEFAULT_CHARSET)
        try:
            return json_loads_strict(stream.read().decode(encoding))
        except UnicodeDecodeError as exc:
            raise ParseError(f"JSON parse error - body is not {encoding} text") from exc
        except JsonInputError as exc:
            raise ParseError(f"JSON parse error - {exc}") from exc
        except ValueError as exc:
            raise ParseError(f"JSON parse error - {exc}") from exc
