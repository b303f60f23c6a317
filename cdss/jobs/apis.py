"""/api/v1/analyses/: create (202), list, detail, cancel, retry, result download, artifacts.

Views parse input, call one selector or service, and serialize. Every route that names an
analysis reaches it through ``cdss.jobs.access`` (the one rule of who may see an analysis), so
another clinician's analysis and a missing one give the same 404, and each access is audited.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from django.conf import settings
from django.http import FileResponse, HttpResponse, HttpResponseBase
from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
)
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from cdss.accounts.models import User
from cdss.audit.services import access_events_record_page
from cdss.common.negotiation import FileWithJsonErrorsNegotiation
from cdss.common.openapi import errors, location_header, page_parameters, paginated
from cdss.common.pagination import StandardPagination
from cdss.jobs import services
from cdss.jobs.access import (
    analysis_artifact_for_request,
    analysis_artifacts_for_request,
    analysis_for_request,
    analysis_list_for_request,
)
from cdss.jobs.models import ARTIFACT_NAME_PATTERN, Analysis, AnalysisArtifact
from cdss.jobs.serializers import (
    ANALYSIS_CREATE_BODY,
    ANALYSIS_RESULT_JSON,
    AnalysisArtifactSerializer,
    AnalysisDetailSerializer,
    AnalysisFilterSerializer,
    AnalysisInputSerializer,
    AnalysisOutputSerializer,
)
from cdss.patients.apis import PatientScopedApi

TAGS = ["analyses"]
# Shown inline by a browser; anything else (SVG included: it can carry script) is a download.
_INLINE_TYPES = frozenset({"image/png", "image/jpeg", "image/gif", "image/webp"})


def _accepted(analysis: Any) -> Response:
    response = Response(AnalysisDetailSerializer(analysis).data, status=status.HTTP_202_ACCEPTED)
    response["Location"] = reverse("analysis-detail", kwargs={"analysis_id": analysis.pk})
    return response


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
        analyses = analysis_list_for_request(
            user=user,
            patient_id=filters.validated_data.get("patient"),
            kind=filters.validated_data.get("kind"),
            status=filters.validated_data.get("status"),
            exclude_kinds=filters.validated_data.get("exclude_kind"),
        )
        paginator = StandardPagination()
        page = paginator.paginate_queryset(
            analyses if analyses is not None else Analysis.objects.none(), request, view=self
        )
        assert page is not None
        if analyses is not None:  # else the refused patient filter was this read's one event
            # One audit event per analysis shown, as a patient list records each patient shown.
            access_events_record_page(
                user=user,
                action="analysis.list",
                object_type="analysis",
                shown=[(a.patient_id, str(a.pk)) for a in page],
            )
        return paginator.get_paginated_response(AnalysisOutputSerializer(page, many=True).data)

    @extend_schema(
        request=ANALYSIS_CREATE_BODY,
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
        description=(
            "Stores a PENDING analysis and queues it; 202 with its id and a Location. The body "
            "is one of the registered kinds' (keyed by ``kind``): each kind's ``inputs`` are "
            "validated by that kind (a 400 names ``inputs.<field>``), and a file or analysis "
            "they refer to must be yours and the patient's (otherwise the same 400 as a missing "
            "one)."
        ),
    )
    def post(self, request: Request) -> Response:
        data = AnalysisInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        analysis = services.analysis_create(
            user=request.user,  # type: ignore[arg-type]
            kind=data.validated_data["kind"],
            patient_id=data.validated_data.get("patient"),
            inputs=data.validated_data["inputs"],
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


class AnalysisResultApi(PatientScopedApi):
    content_negotiation_class = FileWithJsonErrorsNegotiation

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "format", str, description="json (default) or one the kind offers, such as tsv"
            )
        ],
        responses={
            (200, "application/json"): OpenApiResponse(
                ANALYSIS_RESULT_JSON, description="The result, in its kind's declared shape."
            ),
            (200, "text/tab-separated-values"): OpenApiResponse(OpenApiTypes.STR),
            **errors(409, _409="The analysis has no result yet: it is not COMPLETED."),
        },
        description="A COMPLETED analysis's result, as a download.",
        tags=TAGS,
    )
    def get(self, request: Request, analysis_id: int) -> HttpResponse:
        fmt = request.query_params.get("format", "json").strip().lower() or "json"
        export = services.analysis_result_export(
            user=request.user,  # type: ignore[arg-type]
            analysis_id=analysis_id,
            fmt=fmt,
        )
        response = HttpResponse(export.body, content_type=export.content_type)
        response["Content-Disposition"] = f'attachment; filename="{export.filename}"'
        return response


class AnalysisArtifactListApi(PatientScopedApi):
    @extend_schema(
        operation_id="analyses_artifacts_list",
        description="The files the analysis produced (plots, reports, masks, meshes).",
        parameters=page_parameters(StandardPagination),
        responses={
            200: paginated(AnalysisArtifactSerializer, StandardPagination),
            **errors(404, _404="No such analysis (or not yours), or a page past the last one."),
        },
        tags=TAGS,
    )
    def get(self, request: Request, analysis_id: int) -> Response:
        artifacts = analysis_artifacts_for_request(
            user=request.user,  # type: ignore[arg-type]
            analysis_id=analysis_id,
        )
        paginator = StandardPagination()
        page = paginator.paginate_queryset(artifacts, request, view=self)
        assert page is not None
        return paginator.get_paginated_response(AnalysisArtifactSerializer(page, many=True).data)


def artifact_response(artifact: AnalysisArtifact) -> HttpResponseBase:
    """The file, streamed by Django, or handed to nginx (X-Accel-Redirect) once access is
    checked. Never sniffed; shown inline only when it is a raster image."""
    inline = artifact.content_type in _INLINE_TYPES
    accel = str(settings.CDSS_MEDIA_ACCEL_REDIRECT)
    response: HttpResponseBase
    if accel:
        response = HttpResponse(content_type=artifact.content_type)
        response["X-Accel-Redirect"] = accel.rstrip("/") + "/" + quote(artifact.file.name)
        response["Content-Disposition"] = (
            f'{"inline" if inline else "attachment"}; filename="{artifact.name}"'
        )
    else:
        # Content-Length comes from the file itself.
        response = FileResponse(
            artifact.file.storage.open(artifact.file.name, "rb"),
            content_type=artifact.content_type,
            as_attachment=not inline,
            filename=artifact.name,
        )
    response["ETag"] = f'"{artifact.sha256}"'
    response["X-Content-Type-Options"] = "nosniff"
    return response


class AnalysisArtifactApi(PatientScopedApi):
    content_negotiation_class = FileWithJsonErrorsNegotiation

    @extend_schema(
        operation_id="analyses_artifacts_retrieve",
        description=(
            "One file the analysis produced, with its stored content type (a raster image is "
            "shown inline, anything else downloads). Its ETag is its SHA-256."
        ),
        parameters=[
            OpenApiParameter(
                "name",
                str,
                OpenApiParameter.PATH,
                pattern=ARTIFACT_NAME_PATTERN,
                description="The artifact's name, as the artifact list gives it.",
                examples=[OpenApiExample("A plot", value="plot.png")],
            ),
            OpenApiParameter(
                "ETag",
                OpenApiTypes.STR,
                OpenApiParameter.HEADER,
                response=[200],
                description="The file's SHA-256, quoted.",
            ),
        ],
        responses={
            (200, "*/*"): OpenApiResponse(
                OpenApiTypes.BINARY, description="The file, in its stored content type."
            ),
            **errors(404, _404="No such artifact or analysis, or one you may not see."),
        },
        tags=TAGS,
    )
    def get(self, request: Request, analysis_id: int, name: str) -> HttpResponseBase:
        artifact = analysis_artifact_for_request(
            user=request.user,  # type: ignore[arg-type]
            analysis_id=analysis_id,
            name=name,
        )
        return artifact_response(artifact)
