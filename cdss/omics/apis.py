"""GET /api/v1/omics/templates/{model}.csv: the input table of an omics model, to fill in."""

from __future__ import annotations

import csv
import io

from django.http import Http404, HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework.request import Request
from rest_framework.views import APIView

from cdss.common.negotiation import FileWithJsonErrorsNegotiation
from cdss.common.openapi import INFERENCE_ERRORS, errors
from cdss.ml.client import get_client

# The omics models, by their URL names, as documented in OpenAPI; the server's model-info decides
# which ones answer.
MODELS = ("rosmap", "tcga_paad")


class OmicsTemplateApi(APIView):
    content_negotiation_class = FileWithJsonErrorsNegotiation

    @extend_schema(
        operation_id="omics_template",
        description=(
            "The model's input columns (<layer>:<feature>) and one example row that the model "
            "accepts (training means; coded clinical values as words). Replace the example with "
            "the patient's values, upload it as an omics_table file, and submit the analysis. "
            "Empty cells are imputed, and the result says how many."
        ),
        responses={
            (200, "text/csv"): OpenApiResponse(OpenApiTypes.STR, description="A CSV table."),
            **errors(404, *INFERENCE_ERRORS, _404="No such omics model."),
        },
        parameters=[OpenApiParameter("model", str, OpenApiParameter.PATH, enum=list(MODELS))],
        tags=["omics"],
    )
    def get(self, request: Request, model: str) -> HttpResponse:
        client = get_client()
        # The models the server publishes; unreachable, the template call answers 503 itself.
        served = (client.engine_info("omics") or {}).get("models")
        if model not in (served if isinstance(served, dict) else MODELS):
            raise Http404("No such omics model.")
        template = client.omics_template(model)
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(["id", *template["columns"]])
        writer.writerow(["example", *template["example"]])
        response = HttpResponse(out.getvalue(), content_type="text/csv; charset=utf-8")
        version = template.get("model_version") or "unknown"
        response["Content-Disposition"] = f'attachment; filename="{model}-{version}-template.csv"'
        return response
