"""Request body limits: one per route, the same whatever the body's encoding.

``CDSS_MAX_REQUEST_BODY`` is the default; routes that take uploads or batches list their path
prefix in ``CDSS_UPLOAD_LIMITS`` with a limit of their own (JSON, FASTA and multipart alike).
"""

from __future__ import annotations

from django.conf import settings


def body_limit_for(path: str) -> int:
    for prefix, limit in settings.CDSS_UPLOAD_LIMITS.items():
        if path.startswith(prefix):
            return int(limit)
    return int(settings.CDSS_MAX_REQUEST_BODY)


def too_large_message(limit: int, length: int | None = None) -> str:
    size = f"Request body of {length} bytes" if length is not None else "Request body"
    return f"{size} is over the limit of {limit} bytes for this route."
