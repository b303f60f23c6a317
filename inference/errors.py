"""Error types shared by every engine and route of the inference server.

An engine raises ``InvalidInput`` for anything the caller can fix; the app factory turns it into
a 400 with the body ``{"error": message, "field": field}``. Anything else is a 500, whose body
``{"error", "request_id"}`` names the request id (the ``X-Request-ID`` of every response) and no
internal detail.
"""

from __future__ import annotations

import re

# An absolute POSIX path: a slash not inside a word or a path, then what a path name holds.
_ABSOLUTE_PATH = re.compile(r"(?<![\w/.~-])/[^\s'\"`,;()<>\[\]{}]+")


def redact_paths(text: str) -> str:
    """``text`` with every absolute filesystem path replaced by ``<path>`` (for public messages:
    model-info is shown to clinicians, and the server's folders are none of their business)."""
    return _ABSOLUTE_PATH.sub("<path>", text)


class InferenceError(Exception):
    """Base class of errors the server reports to its caller."""

    status_code = 500

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field

    def to_dict(self) -> dict[str, str]:
        body = {"error": self.message}
        if self.field:
            body["field"] = self.field
        return body


class InvalidInput(InferenceError):
    """The request is malformed or the data in it cannot be analysed (HTTP 400)."""

    status_code = 400


class PayloadTooLarge(InferenceError):
    """The request body or an uploaded file is over its configured limit (HTTP 413)."""

    status_code = 413


class NotReady(InferenceError):
    """The engine needed for this request has no loaded model (HTTP 503)."""

    status_code = 503


class NonFiniteResult(InferenceError):
    """A result held NaN or an infinity, which JSON cannot carry; it is withheld (HTTP 500)."""

    status_code = 500

    def __init__(self) -> None:
        super().__init__(
            "internal error: the result held a non-finite number (NaN or infinity) and was "
            "withheld; please report this request id"
        )
