"""/api/v1/models/: the catalog of shipped model versions and each one's model card (Markdown).

FHIR Device resources and CDS Hooks cards link to the card route. Both routes need a login, as
every route of the API does (cdss/common/tests/test_openapi.py holds them to it); neither touches
patient data, so neither is audited.
"""

from __future__ import annotations

from typing import Any

from django.http import Http404, HttpResponse
from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_serializer
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from cdss.common.negotiation import FileWithJsonErrorsNegotiation
from cdss.common.openapi import errors
from cdss.ml.catalog import CatalogEntry, model_card_get, model_catalog

TAGS = ["models"]


@extend_schema_serializer(component_name="CatalogModel")
class CatalogModelSerializer(serializers.Serializer):  # type: ignore[type-arg]
    name = serializers.CharField(help_text="The model name its results carry.")
    version = serializers.CharField()
    kind = serializers.ChoiceField(
        choices=["trained", "rules"], help_text="Trained weights, or fixed rules with a card only."
    )
    family = serializers.CharField(help_text="Its folder under models/ (or card under docs/).")
    also_known_as = serializers.ListField(
        child=serializers.CharField(),
        help_text="The names of the models inside this version that results carry instead.",
    )
    current = serializers.BooleanField(help_text="The version the inference server loads.")
    metrics = serializers.DictField(
        child=serializers.FloatField(), help_text="Headline metrics from its metrics.json."
    )
    card_url = serializers.CharField()


class ModelCatalogSerializer(serializers.Serializer):  # type: ignore[type-arg]
    results = CatalogModelSerializer(many=True)


def _row(entry: CatalogEntry) -> dict[str, Any]:
    return {
        "name": entry.name,
        "version": entry.version,
        "kind": entry.kind,
        "family": entry.family,
        "also_known_as": list(entry.also_known_as),
        "current": entry.current,
        "metrics": entry.metrics,
        "card_url": reverse("model-card", kwargs={"name": entry.name, "version": entry.version}),
    }


# Model cards are public documentation (data, terms, metrics, limits; no patient data): an EHR
# user follows a CDS Hooks card's or a FHIR Device's link to them without a CDSS token.
class ModelCatalogApi(APIView):
    authentication_classes: list[type] = []
    permission_classes = [AllowAny]

    @extend_schema(
        operation_id="models_list",
        description=(
            "Every shipped model version (trained ones from models/, rule-based ones from their "
            "cards in docs/models/), with its headline metrics and the URL of its card."
        ),
        responses={200: ModelCatalogSerializer},
        tags=TAGS,
    )
    def get(self, request: Request) -> Response:
        return Response({"results": [_row(entry) for entry in model_catalog()]})


class ModelCardApi(APIView):
    authentication_classes: list[type] = []
    permission_classes = [AllowAny]
    content_negotiation_class = FileWithJsonErrorsNegotiation

    @extend_schema(
        operation_id="models_card_retrieve",
        description=(
            "The model card of one catalog entry, as Markdown. ``name`` is the model's name (or "
            "its short name, such as ``sequence``); only names and versions in the catalog answer."
        ),
        responses={
            (200, "text/markdown"): OpenApiResponse(OpenApiTypes.STR, description="The card."),
            **errors(404, _404="No such model version in the catalog."),
        },
        tags=TAGS,
    )
    def get(self, request: Request, name: str, version: str) -> HttpResponse:
        found = model_card_get(name=name, version=version)
        if found is None:
            raise Http404("No such model version in the catalog.")
        response = HttpResponse(found[1], content_type="text/markdown; charset=utf-8")
        response["X-Content-Type-Options"] = "nosniff"
        return response
