"""/api/v1/analyses/{id}/interpretation/ and /report/: the latest interpretation or PDF (GET) and
a new one (POST, queued as an analysis of kind interpretation or report). A GET of an
interpretation that is still on its way answers 202 with its job, not 404, so a client polls
without a stream of errors.

The analysis is reached through ``cdss.jobs.access`` (the one access rule): another clinician's
analysis and a missing one are the same 404, and each request is audited.
"""

from __future__ import annotations

from collections.abc import Callable

from django.http import Http404, HttpResponseBase
from django.urls import reverse
from django.utils.translation.trans_real import parse_accept_lang_header
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response

from cdss.accounts.models import User
from cdss.common.negotiation import FileWithJsonErrorsNegotiation
from cdss.common.openapi import errors, location_header
from cdss.jobs.access import analysis_for_request
from cdss.jobs.apis import artifact_response
from cdss.jobs.models import Analysis
from cdss.jobs.serializers import AnalysisDetailSerializer
from cdss.patients.apis import PatientScopedApi
from cdss.reports import services
from cdss.reports.schemas import InterpretationSerializer, LanguageQuerySerializer
from cdss.reports.selectors import (
    interpretation_job_active,
    interpretation_latest,
    report_latest,
)

TAGS = ["analyses"]


def request_language(request: Request) -> str | None:
    """``?lang=``, else the first of Accept-Language that is ko or en, else None."""
    query = LanguageQuerySerializer(data=request.query_params)
    query.is_valid(raise_exception=True)
    if query.validated_data.get("lang"):
        return str(query.validated_data["lang"])
    for code, _ in parse_accept_lang_header(request.headers.get("Accept-Language", "")):
        primary = code.split("-")[0].lower()
        if primary in ("ko", "en"):
            return primary
    return None


def _accepted(job: Analysis) -> Response:
    response = Response(AnalysisDetailSerializer(job).data, status=status.HTTP_202_ACCEPTED)
    response["Location"] = reverse("analysis-detail", kwargs={"analysis_id": job.pk})
    return response


def _post_language(request: Request) -> str:
    return request_language(request) or (services.chained_languages() or ["en"])[0]


def _queue(
    request: Request,
    analysis_id: int,
    action: str,
    submit: Callable[..., Analysis],
) -> Response:
    """POST of either route: the analysis through the one access rule (audited as ``action``
    by the job it queues), then ``submit`` in the asked language; 202 with the job."""
    user: User = request.user  # type: ignore[assignment]
    language = _post_language(request)
    analysis = analysis_for_request(
        user=user, analysis_id=analysis_id, action=action, audit_success=False
    )
    return _accepted(submit(user=user, analysis=analysis, language=language))


class AnalysisInterpretationApi(PatientScopedApi):
    @extend_schema(
        operation_id="analyses_interpretation_retrieve",
        parameters=[LanguageQuerySerializer, location_header(202)],
        responses={
            200: InterpretationSerializer,
            202: OpenApiResponse(
                AnalysisDetailSerializer,
                description=(
                    "None finished yet, but one is queued or running: that job (kind "
                    "interpretation), with its Location. Ask again later."
                ),
            ),
            **errors(
                404,
                _404=(
                    "No such analysis (or not yours), or no interpretation: none finished and "
                    "none queued or running."
                ),
            ),
        },
        description=(
            "The latest interpretation of the analysis in the language asked for (?lang=, else "
            "Accept-Language; neither: the latest in any language), with its provenance and its "
            "label (AI-generated, or generated from the result by rules). While none has "
            "finished but one is on its way (the ones chained to a completed analysis, or one "
            "asked for), 202 with that job instead: a client polls on 202 and stops on 404."
        ),
        tags=TAGS,
    )
    def get(self, request: Request, analysis_id: int) -> Response:
        user: User = request.user  # type: ignore[assignment]
        language = request_language(request)
        analysis = analysis_for_request(
            user=user, analysis_id=analysis_id, action="analysis_interpretation.read"
        )
        interpretation = interpretation_latest(analysis=analysis, language=language)
        if interpretation is None:
            job = interpretation_job_active(analysis=analysis, language=language)
            if job is not None:
                return _accepted(job)
            raise Http404("No interpretation of this analysis in this language yet.")
        return Response(InterpretationSerializer(interpretation).data)

    @extend_schema(
        operation_id="analyses_interpretation_create",
        request=None,
        parameters=[LanguageQuerySerializer, location_header(202)],
        responses={202: AnalysisDetailSerializer, **errors(400)},
        description=(
            "Queues a new interpretation (an analysis of kind interpretation) of a COMPLETED "
            "analysis, in ?lang= (else Accept-Language, else the first of "
            "CDSS_INTERPRETATION_LANGUAGES); 202 with it and its Location."
        ),
        tags=TAGS,
    )
    def post(self, request: Request, analysis_id: int) -> Response:
        return _queue(
            request, analysis_id, "analysis_interpretation.create", services.interpretation_request
        )


class AnalysisReportApi(PatientScopedApi):
    content_negotiation_class = FileWithJsonErrorsNegotiation

    @extend_schema(
        operation_id="analyses_report_retrieve",
        parameters=[LanguageQuerySerializer],
        responses={
            (200, "application/pdf"): OpenApiResponse(
                OpenApiTypes.BINARY, description="The PDF (report-ko.pdf or report-en.pdf)."
            ),
            **errors(404, _404="No such analysis (or not yours), or no report yet."),
        },
        description=(
            "The latest PDF report of the analysis in the language asked for (?lang=, else "
            "Accept-Language; neither: the latest in any language), as a download. Its ETag is "
            "its SHA-256."
        ),
        tags=TAGS,
    )
    def get(self, request: Request, analysis_id: int) -> HttpResponseBase:
        user: User = request.user  # type: ignore[assignment]
        language = request_language(request)
        analysis = analysis_for_request(
            user=user, analysis_id=analysis_id, action="analysis_report.download"
        )
        artifact = report_latest(analysis=analysis, language=language)
        if artifact is None:
            raise Http404("No report of this analysis in this language yet.")
        return artifact_response(artifact)

    @extend_schema(
        operation_id="analyses_report_create",
        request=None,
        parameters=[LanguageQuerySerializer, location_header(202)],
        responses={202: AnalysisDetailSerializer, **errors(400)},
        description=(
            "Queues a new PDF report (an analysis of kind report) of a COMPLETED analysis, in "
            "?lang= (else Accept-Language, else the first of CDSS_INTERPRETATION_LANGUAGES); 202 "
            "with it and its Location. The PDF is its artifact report-<lang>.pdf."
        ),
        tags=TAGS,
    )
    def post(self, request: Request, analysis_id: int) -> Response:
        return _queue(request, analysis_id, "analysis_report.create", services.report_request)
