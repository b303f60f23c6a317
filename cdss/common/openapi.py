"""What the OpenAPI schema says beyond what drf-spectacular sees in the views.

Every error response has one shape (``cdss.common.exceptions.error_body``), documented once here as
the ``Error`` component. ``error_responses_hook`` adds to each operation the error statuses that
follow from its shape alone (401 when it needs a token, 404 when its path names an object, 400
when it takes input, 413 and 415 when it takes a body); a view declares the ones only it knows
(403, 409, 429, 502-504, a page past the end) with ``errors(...)`` in its ``@extend_schema``.

The APIViews paginate by hand, so spectacular cannot see it: a list declares its envelope with
``paginated(OutputSerializer, PaginationClass)`` and, when its filter serializer does not name
them, the paginator's query parameters with ``page_parameters(PaginationClass)``. Both come from
the pagination class itself, so the schema and the response cannot drift apart.

Serializers that refuse unknown fields (``StrictSerializer``: every input, and the analysis kinds'
results) are documented with ``additionalProperties: false``; the project's JWT authentication (a
subclass of simplejwt's) is documented as the bearer scheme.

A body or result that is one of several shapes read from a registry (the analysis kinds) is a
``LivePolymorphicProxySerializer``: drf-spectacular's union, except that it asks the registry
again at every schema build instead of keeping its first answer.

Nothing here changes a request or a response; this module only describes them.
"""

from __future__ import annotations

import copy
from functools import cache
from typing import Any

from drf_spectacular.contrib.rest_framework_simplejwt import SimpleJWTScheme
from drf_spectacular.extensions import OpenApiSerializerExtension
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.plumbing import build_array_type
from drf_spectacular.serializers import PolymorphicProxySerializerExtension
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    Direction,
    OpenApiParameter,
    OpenApiResponse,
    PolymorphicProxySerializer,
)
from rest_framework import serializers
from rest_framework.pagination import BasePagination
from rest_framework.views import APIView

from cdss.common.pagination import StandardPagination
from cdss.common.serializers import StrictSerializer

ERROR_COMPONENT = "Error"
ERROR_REF = {"$ref": f"#/components/schemas/{ERROR_COMPONENT}"}

ERROR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": "The one shape of every error response.",
    "properties": {
        "error": {
            "type": "string",
            "description": "What went wrong; a 400 names the bad field(s).",
        },
        "detail": {
            "type": "object",
            "additionalProperties": {},
            "description": "Machine-readable detail, such as the messages of each bad field.",
        },
        "request_id": {
            "type": "string",
            "description": "5xx only: the id of the server's log lines about this request.",
        },
    },
    "required": ["error", "detail"],
    "additionalProperties": False,
}

ERROR_DESCRIPTIONS: dict[int, str] = {
    400: "Invalid input: the message names the bad field(s).",
    401: "No valid credentials: the access token is missing, invalid or expired.",
    403: "Authenticated, but the user's role may not do this.",
    404: "Not found: no such object, or one you may not see (the same answer).",
    409: "Conflict with the object's current state.",
    413: "The request body is over the configured limit.",
    415: "Unsupported Content-Type for the request body.",
    429: "Too many requests; try again after Retry-After seconds.",
    502: "The inference server gave an unusable answer.",
    503: "The inference server is unavailable.",
    504: "The inference server did not answer in time.",
}

INFERENCE_ERRORS = (502, 503, 504)

_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")


def errors(*codes: int, **descriptions: str) -> dict[int, OpenApiResponse]:
    """Error responses for ``@extend_schema(responses={...})``, in the one error shape.

    ``descriptions`` overrides the usual text of a status for this operation, keyed ``_404``.
    """
    return {
        code: OpenApiResponse(
            response=ERROR_REF,
            description=descriptions.get(f"_{code}", ERROR_DESCRIPTIONS[code]),
        )
        for code in codes
    }


def error_response(code: int) -> dict[str, Any]:
    """The response object of one error status, as it appears in the schema."""
    return {
        "content": {"application/json": {"schema": dict(ERROR_REF)}},
        "description": ERROR_DESCRIPTIONS[code],
    }


def implied_error_statuses(path: str, operation: dict[str, Any]) -> set[int]:
    """The error statuses an operation can answer because of its shape alone."""
    codes: set[int] = set()
    if any(requirement for requirement in operation.get("security", [])):
        codes.add(401)
    if "{" in path:
        codes.add(404)
    if operation.get("requestBody"):
        codes |= {400, 413, 415}
    if any(p.get("in") == "query" for p in operation.get("parameters", [])):
        codes.add(400)
    return codes


def error_responses_hook(
    result: dict[str, Any], generator: Any, request: Any, public: bool, **kwargs: Any
) -> dict[str, Any]:
    """drf-spectacular postprocessing hook: the Error component and each operation's implied
    error responses; a 429 also documents its Retry-After header."""
    schemas = result.setdefault("components", {}).setdefault("schemas", {})
    schemas[ERROR_COMPONENT] = copy.deepcopy(ERROR_SCHEMA)
    for path, item in result.get("paths", {}).items():
        for method, operation in item.items():
            if method not in _METHODS:
                continue
            responses = operation.setdefault("responses", {})
            for code in implied_error_statuses(path, operation):
                responses.setdefault(str(code), error_response(code))
            if "429" in responses:
                responses["429"].setdefault("headers", {})["Retry-After"] = {
                    "schema": {"type": "integer"},
                    "description": "Seconds to wait before trying again.",
                }
            operation["responses"] = dict(sorted(responses.items()))
    result["components"]["schemas"] = dict(sorted(schemas.items()))
    return result


def location_header(*codes: int) -> OpenApiParameter:
    """The ``Location`` header of queued work (202): where to follow the analysis."""
    return OpenApiParameter(
        "Location",
        OpenApiTypes.STR,
        OpenApiParameter.HEADER,
        response=list(codes),
        description="The analysis to follow: /api/v1/analyses/<id>/.",
    )


class _PaginatedEnvelope(serializers.Serializer):  # type: ignore[type-arg]
    """Schema-only: the envelope ``pagination`` wraps a page of ``item`` objects in."""

    item: type[serializers.BaseSerializer]  # type: ignore[type-arg]
    pagination: type[BasePagination]


@cache
def paginated(
    item: type[serializers.BaseSerializer],  # type: ignore[type-arg]
    pagination: type[BasePagination] = StandardPagination,
) -> type[_PaginatedEnvelope]:
    """The response of a list that ``pagination`` pages, for ``@extend_schema(responses=...)``.

    Cached, so every use for one item class names the same component (``Paginated<Item>List``).
    """
    return type(
        f"Paginated{item.__name__}",
        (_PaginatedEnvelope,),
        {"item": item, "pagination": pagination, "__module__": __name__},
    )


def page_parameters(
    pagination: type[BasePagination] = StandardPagination,
) -> list[OpenApiParameter]:
    """The query parameters of ``pagination`` (page and page_size, or limit and offset)."""
    return [
        OpenApiParameter(
            param["name"],
            OpenApiTypes.INT,
            OpenApiParameter.QUERY,
            required=param.get("required", False),
            description=param.get("description", ""),
        )
        for param in pagination().get_schema_operation_parameters(view=APIView())
    ]


class PaginatedEnvelopeExtension(OpenApiSerializerExtension):
    target_class = _PaginatedEnvelope
    match_subclasses = True

    def get_name(self, auto_schema: AutoSchema, direction: Direction) -> str | None:
        component = auto_schema.resolve_serializer(self.target.item, direction)
        return auto_schema.get_paginated_name(component.name)

    def map_serializer(self, auto_schema: AutoSchema, direction: Direction) -> dict[str, Any]:
        component = auto_schema.resolve_serializer(self.target.item, direction)
        page: dict[str, Any] = self.target.pagination().get_paginated_response_schema(
            build_array_type(component.ref)
        )
        return page


class DerivedJWTScheme(SimpleJWTScheme):
    """The project's authentication derives from simplejwt's JWTAuthentication (adding checks of
    its own); to a client it is the same bearer scheme."""

    target_class = "rest_framework_simplejwt.authentication.JWTAuthentication"
    match_subclasses = True


class StrictSerializerExtension(OpenApiSerializerExtension):
    """A strict serializer refuses fields it does not know (an input: 400): the schema says so."""

    target_class = StrictSerializer
    match_subclasses = True

    def map_serializer(self, auto_schema: AutoSchema, direction: Direction) -> dict[str, Any]:
        schema: dict[str, Any] = auto_schema._map_serializer(
            self.target, direction, bypass_extensions=True
        )
        schema["additionalProperties"] = False
        return schema


class LivePolymorphicProxySerializer(PolymorphicProxySerializer):
    """A union whose ``serializers`` callable is called at every schema build."""

    @property  # type: ignore[override]
    def serializers(self) -> Any:
        value = self._serializers
        return value() if callable(value) else value

    @serializers.setter
    def serializers(self, value: Any) -> None:
        self._serializers = value


class LivePolymorphicProxyExtension(PolymorphicProxySerializerExtension):  # type: ignore[misc]
    target_class = "cdss.common.openapi.LivePolymorphicProxySerializer"
