"""Request body limits: one per route, the same whatever the body's encoding.

``CDSS_MAX_REQUEST_BODY`` is the default; routes that take uploads or batches are listed in
``CDSS_UPLOAD_LIMITS`` with a limit of their own (JSON, FASTA and multipart alike). A key is a
path prefix, or, when it starts with ``^``, a regular expression the whole path must match (for a
route inside a prefix that keeps the default, such as /api/v1/patients/<id>/files/). The first key
that matches, in order, decides.
"""

from __future__ import annotations

import functools
import re

from django.conf import settings


@functools.lru_cache(maxsize=64)
def _pattern(key: str) -> re.Pattern[str] | None:
    return re.compile(key) if key.startswith("^") else None


def _matches(key: str, path: str) -> bool:
    pattern = _pattern(key)
    if pattern is None:
        return path.startswith(key)
    return pattern.fullmatch(path) is not None


def body_limit_for(path: str) -> int:
    for key, limit in settings.CDSS_UPLOAD_LIMITS.items():
        if _matches(key, path):
            return int(limit)
    return int(settings.CDSS_MAX_REQUEST_BODY)


def too_large_message(limit: int, length: int | None = None) -> str:
    size = f"Request body of {length} bytes" if length is not None else "Request body"
    return f"{size} is over the limit of {limit} bytes for this route."
