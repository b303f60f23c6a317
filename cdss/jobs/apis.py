"""/api/v1/analyses/: create (202), list, detail, cancel, retry, result download.

Views parse input, call one selector or service, and serialize. Every route that names an
analysis reaches it through ``cdss.jobs.access.analysis_for_request`` (the patient access path),
so another clinician's analysis and a missing one give the same 404, and each access is audited.
"""

from __future__ import annotations

from typing import Any

from django.http import Http404, HttpResponse
from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
)
from rest_framework import status
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from cdss.accounts.models import User
from cdss.audit.models import Outcome
from cdss.audit.services import access_event_record, access_events_record_page
from cdss.common.exceptions import ApplicationError, ConflictError
from cdss.common.openapi import errors, location_header, page_parameters, paginated
from cdss.common.pagination import StandardPagination
from cdss.jobs import services
from cdss.jobs.access import analysis_for_request
from cdss.jobs.kinds import get_kind
from cdss.jobs.models import Analysis, AnalysisResult, Status
from cdss.jobs.selectors import analysis_list_for_user
from cdss.jobs.serializers import (
    AnalysisDetailSerializer,
    AnalysisFilterSerializer,
    AnalysisInputSerializer,
    AnalysisOutputSerializer,
)
from cdss.patients.access import patient_for_request
from cdss.patients.apis import PatientScopedApi

TAGS = ["analyses"]


def _render_json(result: dict[str, Any]) -> tuple[str, bytes]:
    return "application/json", JSONRenderer().render(result)


def _accepted(analysis: Any) -> Response:
    response = Response(AnalysisDetailSerializer(analysis).data, status=status.HTTP_202_ACCEPTED)
    response["Location"] = reverse("analysis-detail", kwargs={"analysis_id": analysis.pk})
    return response


def _patient_filter_allowed(user: User, patient_id: int) -> bool:
    """Whether ``user`` may list this patient's analyses; a refusal is recorded with the patient."""
    try:
        patient_for_request(
            user=user,
            patient_id=patient_id,
            action="analysis.list",
            object_type="analysis",
            audit_success=False,
        )
    except Http404:
        return False
    return True


class AnalysisListCreateApi(APIView):
    @extend_schema(
        operation_id="analyses_list",
        description="The analyses you may see, newest first.",
        parameters=[AnalysisFilterSerializer, *page_parameters(StandardPagination)],
        responses={
            200: paginated(AnalysisOutputSerializer, StandardPagination),
            **errors(404, _404="No such page: past the last one."),
        },
        tags=TAGS,
    )
    def get(self, request: Request) -> Response:
        user: User = request.user  # type: ignore[assignment]
        filters = AnalysisFilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        patient_id = filters.validated_data.get("patient")
        paginator = StandardPagination()
        if patient_id is not None and not _patient_filter_allowed(user, patient_id):
            # Someone else's patient lists like a missing one: empty. The refusal, with its
            # patient, is the one audit event of this read.
            paginator.paginate_queryset(Analysis.objects.none(), request, view=self)
            return paginator.get_paginated_response([])
        analyses = analysis_list_for_user(
            user=user,
            patient_id=patient_id,
            kind=filters.validated_data.get("kind"),
            status=filters.validated_data.get("status"),
        )
        page = paginator.paginate_queryset(analyses, request, view=self)
        assert page is not None
        # One audit event per analysis shown, as a patient list records each patient shown.
        access_events_record_page(
            user=user,
            action="analysis.list",
            object_type="analysis",
            shown=[(a.patient_id, str(a.pk)) for a in page],
        )
        return paginator.get_paginated_response(AnalysisOutputSerializer(page, many=True).data)

    @extend_schema(
        request=AnalysisInputSerializer,
        parameters=[location_header(202)],
        responses={202: AnalysisDetailSerializer, **errors(403)},
        examples=[
            OpenApiExample(
                "A sequence batch",
                value={
                    "kind": "sequence_batch",
                    "inputs": {"fasta": ">s1\nMFVFLVLLPLVSSQCVNLTTRTQLPPAYTNSFTRGVYYPDKVFRSS\n"},
                },
                request_only=True,
            )
        ],
        tags=TAGS,
        description="Stores a PENDING analysis and queues it; 202 with its id and a Location.",
    )
    def post(self, request: Request) -> Response:
        user: User = request.user  # type: ignore[assignment]
        data = AnalysisInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        kind = get_kind(data.validated_data["kind"])
        patient = None
        patient_id = data.validated_data.get("patient")
        if patient_id is not None:
            try:
                patient = patient_for_request(
                    user=user,
                    patient_id=patient_id,
                    action="analysis.create",
                    object_type="analysis",
                    audit_success=False,
                )
            except Http404:
                raise ApplicationError(
                    "patient: not found", detail={"patient": ["Not found."]}
                ) from None
        analysis = services.analysis_submit(
            user=user, kind=kind.name, patient=patient, inputs=data.validated_data["inputs"]
        )
        return _accepted(analysis)


class AnalysisDetailApi(PatientScopedApi):
    @extend_schema(
        description="One analysis, with its inputs and the time of every transition.",
        responses=AnalysisDetailSerializer,
        tags=TAGS,
    )
    def get(self, request: Request, analysis_id: int) -> Response:
        analysis = analysis_for_request(
            user=request.user,  # type: ignore[arg-type]
            analysis_id=analysis_id,
            action="analysis.read",
        )
        return Response(AnalysisDetailSerializer(analysis).data)


class AnalysisCancelApi(PatientScopedApi):
    @extend_schema(
        description="PENDING or PROCESSING -> CANCELLED; 409 in any other status.",
        request=None,
        responses={200: AnalysisDetailSerializer, **errors(409)},
        tags=TAGS,
    )
    def post(self, request: Request, analysis_id: int) -> Response:
        user: User = request.user  # type: ignore[assignment]
        analysis = analysis_for_request(
            user=user, analysis_id=analysis_id, action="analysis.cancel", audit_success=False
        )
        analysis = services.analysis_cancel(user=user, analysis=analysis)
        return Response(AnalysisDetailSerializer(analysis).data)


class AnalysisRetryApi(PatientScopedApi):
    @extend_schema(
        description="FAILED -> PENDING with fresh attempts, queued again; 409 in any other status.",
        request=None,
        parameters=[location_header(202)],
        responses={202: AnalysisDetailSerializer, **errors(409)},
        tags=TAGS,
    )
    def post(self, request: Request, analysis_id: int) -> Response:
        user: User = request.user  # type: ignore[assignment]
        analysis = analysis_for_request(
            user=user, analysis_id=analysis_id, action="analysis.retry", audit_success=False
        )
        return _accepted(services.analysis_retry(user=user, analysis=analysis))


class _JsonErrorsNegotiation(BaseContentNegotiation):
    """The result route chooses its format itself (``?format=``); DRF's own negotiation, which
    also reads ``format``, would refuse formats it has no renderer for. Errors render as JSON."""

    def select_parser(self, request: Request, parsers: Any) -> Any:
        return parsers[0] if parsers else None

    def select_renderer(
        self, request: Request, renderers: Any, format_suffix: str | None = None
    ) -> tuple[BaseRenderer, str]:
        return JSONRenderer(), JSONRenderer.media_type


class AnalysisResultApi(PatientScopedApi):
    content_negotiation_class = _JsonErrorsNegotiation

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "format", str, description="json (default) or one the kind offers, such as tsv"
            )
        ],
        responses={
            (200, "application/json"): OpenApiResponse(OpenApiTypes.OBJECT),
            (200, "text/tab-separated-values"): OpenApiResponse(OpenApiTypes.STR),
            **errors(409, _409="The analysis has no result yet: it is not COMPLETED."),
        },
        description="A COMPLETED analysis's result, as a download.",
        tags=TAGS,
    )
    def get(self, request: Request, analysis_id: int) -> HttpResponse:
        user: User = request.user  # type: ignore[assignment]
        analysis = analysis_for_request(
            user=user, analysis_id=analysis_id, action="analysis.export", audit_success=False
        )
        if analysis.status != Status.COMPLETED:
            raise ConflictError(
                f"status: the analysis has no result yet (it is {analysis.status})",
                detail={"status": [analysis.status]},
            )
        fmt = request.query_params.get("format", "json").strip().lower() or "json"
        # The kind's renderers, with JSON always offered (a kind may render JSON its own way).
        renderers = {"json": _render_json, **get_kind(analysis.kind).renderers}
        if fmt not in renderers:
            offered = sorted(renderers)
            raise ApplicationError(
                f"format: must be one of {offered}", detail={"format": [f"One of {offered}."]}
            )
        content_type, body = renderers[fmt](AnalysisResult.objects.get(analysis=analysis).data)
        access_event_record(
            user=user,
            action="analysis.export",
            outcome=Outcome.OK,
            patient_id=analysis.patient_id,
            object_type="analysis",
            object_id=str(analysis.pk),
        )
        response = HttpResponse(body, content_type=content_type)
        response["Content-Disposition"] = f'attachment; filename="analysis-{analysis.pk}.{fmt}"'
        return response
