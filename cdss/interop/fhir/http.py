"""FHIR's HTTP conventions on top of DRF: ``application/fhir+json`` out, ``_format`` and Accept
negotiated, every error an ``OperationOutcome``, and the REST API's JWT authentication.

``FhirApi`` is the base of every FHIR view. Its exception handler first runs the project's
(``cdss.common.exceptions.api_exception_handler``: the same statuses, and a refused permission
recorded in the audit trail), then restates the error as an OperationOutcome; an unexpected
exception becomes a 500 OperationOutcome naming the request id, never a stack trace.
"""

from __future__ import annotations

import logging
from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import exceptions
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from cdss.common.exceptions import api_exception_handler
from cdss.common.request_context import get_request_context

logger = logging.getLogger(__name__)

FHIR_JSON = "application/fhir+json"
# What a client may ask for and get JSON: FHIR's own type, plain JSON, R3's old name, anything.
_ACCEPTED_TYPES = {FHIR_JSON, "application/json", "application/json+fhir", "*/*", "application/*"}
_ACCEPTED_FORMATS = {"json", "application/json", FHIR_JSON, "application/json+fhir"}

# OperationOutcome issue type (http://hl7.org/fhir/issue-type) per HTTP status.
_ISSUE_CODES = {
    400: "invalid",
    401: "login",
    403: "forbidden",
    404: "not-found",
    405: "not-supported",
    406: "not-supported",
    413: "too-costly",
    415: "not-supported",
    429: "throttled",
}


class FhirJsonRenderer(JSONRenderer):
    media_type = FHIR_JSON
    format = "json"
    charset = "utf-8"


class FhirNegotiation(BaseContentNegotiation):
    """JSON only: ``_format`` (FHIR's override) or Accept must allow it, else 406."""

    def select_parser(self, request: Request, parsers: Any) -> Any:
        return parsers[0] if parsers else None

    def select_renderer(
        self, request: Request, renderers: Any, format_suffix: str | None = None
    ) -> tuple[BaseRenderer, str]:
        renderer = FhirJsonRenderer()
        requested = request.query_params.get("_format")
        if requested is not None:
            if requested.strip().lower() not in _ACCEPTED_FORMATS:
                raise exceptions.NotAcceptable(
                    f"_format {requested[:40]!r} is not supported: this server speaks JSON "
                    f"({FHIR_JSON})."
                )
            return renderer, FHIR_JSON
        accept = request.headers.get("Accept", "").strip()
        if accept:
            types = {part.split(";")[0].strip().lower() for part in accept.split(",")}
            if not types & _ACCEPTED_TYPES:
                raise exceptions.NotAcceptable(
                    f"Accept {accept[:80]!r} is not supported: this server speaks JSON "
                    f"({FHIR_JSON})."
                )
        return renderer, FHIR_JSON


def operation_outcome(status_code: int, message: str) -> dict[str, Any]:
    code = _ISSUE_CODES.get(status_code, "exception" if status_code >= 500 else "processing")
    return {
        "resourceType": "OperationOutcome",
        "issue": [
            {
                "severity": "fatal" if status_code >= 500 else "error",
                "code": code,
                "diagnostics": message,
            }
        ],
    }


def fhir_exception_handler(exc: Exception, context: dict[str, Any]) -> Response:
    response = api_exception_handler(exc, context)
    if response is None:
        request_id = get_request_context().request_id
        logger.exception("FHIR request %s failed", request_id)
        return Response(
            operation_outcome(500, f"Internal server error (request id {request_id})."),
            status=500,
        )
    data = response.data if isinstance(response.data, dict) else {}
    message = str(data.get("error") or "Error.")
    if response.status_code >= 500 and data.get("request_id"):
        message = f"{message} (request id {data['request_id']})"
    response.data = operation_outcome(response.status_code, message)
    return response


@extend_schema(exclude=True)
class FhirApi(APIView):
    """Base of the FHIR views. Left out of the REST API's OpenAPI schema: a FHIR server is
    described by its CapabilityStatement (``/fhir/r4/metadata``), and its resources by the FHIR
    specification, not by the REST API's schema or its generated web client."""

    renderer_classes = [FhirJsonRenderer]
    content_negotiation_class = FhirNegotiation

    def get_exception_handler(self) -> Any:
        return fhir_exception_handler
