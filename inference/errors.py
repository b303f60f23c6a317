"""Error types shared by every engine and route of the inference server.

An engine raises ``InvalidInput`` for anything the caller can fix; the app factory turns it into
a 400 with the body ``{"error": message, "field": field}``. Anything else is a 500.
"""

from __future__ import annotations


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
