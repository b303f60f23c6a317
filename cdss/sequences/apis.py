"""The seed-compatible ML API under /ml/v1/ (authentication added; shapes kept)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db.models import QuerySet
from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.exceptions import APIException
from rest_framework.parsers import MultiPartParser
from rest_framework.permissions import BasePermission
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from cdss.accounts.models import User
from cdss.audit.services import access_events_record_page
from cdss.common.exceptions import ApplicationError
from cdss.common.openapi import INFERENCE_ERRORS, errors, location_header, paginated
from cdss.common.pagination import BoundedLimitOffsetPagination
from cdss.common.parsers import StrictJSONParser
from cdss.common.serializers import MAX_DB_INT
from cdss.jobs.models import Analysis
from cdss.ml.client import get_client
from cdss.sequences.fasta import MAX_FASTA_RECORDS, fasta_to_items
from cdss.sequences.parsers import FastaParser
from cdss.sequences.schemas import (
    ML_PREDICT_RESPONSE,
    PREDICT_EXAMPLES,
    RETRAIN_EXAMPLES,
    MlModelInfoSerializer,
    MlPredictQueuedSerializer,
    MlRetrainQueuedSerializer,
    MlStatusSerializer,
    PredictQuerySerializer,
    PredictUploadSerializer,
)
from cdss.sequences.selectors import inference_log_list_for_user
from cdss.sequences.serializers import (
    InferenceLogOutputSerializer,
    PredictInputSerializer,
    RetrainInputSerializer,
)
from cdss.sequences.services import (
    PredictRequest,
    inference_log_record_refused,
    sequence_batch_submit,
    sequence_predict,
    sequence_retrain_submit,
)


class IsModelManager(BasePermission):
    message = "Only ML engineers and administrators can retrain models."

    def has_permission(self, request: Request, view: Any) -> bool:
        user = request.user
        return bool(user and user.is_authenticated and (user.is_ml_engineer or user.is_admin_role))


class MlStatusApi(APIView):
    @extend_schema(
        description="The inference server's liveness and the sequence model's version.",
        responses={200: MlStatusSerializer, **errors(*INFERENCE_ERRORS)},
        tags=["ml"],
    )
    def get(self, request: Request) -> Response:
        return Response(get_client().health())


class MlModelInfoApi(APIView):
    @extend_schema(
        description="Every model: names, versions, tasks, labels, metrics, limits.",
        responses={200: MlModelInfoSerializer, **errors(*INFERENCE_ERRORS)},
        tags=["ml"],
    )
    def get(self, request: Request) -> Response:
        return Response(get_client().model_info())


def _payload_from(data: dict[str, Any]) -> dict[str, Any]:
    options = {
        k: data[k] for k in ("task3_threshold", "organism_hint", "top_k") if data.get(k) is not None
    }
    if "sequence" in data:
        single = {"sequence": data["sequence"], "seq_type": data.get("seq_type", "protein")}
        if data.get("frame") is not None:
            single["frame"] = data["frame"]
        return {**single, **options}
    if "items" in data:
        return {"items": data["items"], **options}
    if "file" in data:
        # Its size is capped, before it is read, by the body limit of this route
        # (CDSS_UPLOAD_LIMITS, enforced by RequestBodyLimitMiddleware).
        try:
            text = data["file"].read().decode("utf-8")
        except UnicodeDecodeError as exc:
            raise ApplicationError("file: not UTF-8 text", detail={"file": "encoding"}) from exc
    else:
        text = data["fasta"]
    return {"items": fasta_to_items(text, seq_type=data.get("seq_type", "auto")), **options}


class MlPredictApi(APIView):
    """One sequence, a batch of items, a multi-FASTA body or a FASTA file upload."""

    parser_classes = [StrictJSONParser, MultiPartParser, FastaParser]

    @extend_schema(
        description=(
            "One sequence, a batch of items (over CDSS_SYNC_BATCH_MAX: 202, queued as an "
            "analysis), a multi-FASTA body or a FASTA file upload. The query parameters apply "
            "to a text/x-fasta or text/plain body only."
        ),
        request={
            "application/json": PredictInputSerializer,
            "multipart/form-data": PredictUploadSerializer,
            "text/x-fasta": OpenApiTypes.STR,
            "text/plain": OpenApiTypes.STR,
        },
        parameters=[PredictQuerySerializer, location_header(202)],
        examples=PREDICT_EXAMPLES,
        responses={
            200: ML_PREDICT_RESPONSE,
            202: MlPredictQueuedSerializer,
            **errors(404, *INFERENCE_ERRORS, _404="patient_id: no such patient of yours."),
        },
        tags=["ml"],
    )
    def post(self, request: Request) -> Response:
        user: User = request.user  # type: ignore[assignment]
        try:
            values, payload = self._parse(request)
        except (APIException, ApplicationError) as exc:
            # A refused call is a call too: it gets its one log row.
            is_api = isinstance(exc, APIException)
            inference_log_record_refused(
                user=user,
                input_data=_loggable(request),
                code="invalid_input",
                status=exc.status_code,
                message=str(exc.detail if is_api else exc.message),  # type: ignore[union-attr]
            )
            raise
        if "items" in payload and len(payload["items"]) > settings.CDSS_SYNC_BATCH_MAX:
            analysis = sequence_batch_submit(
                user=user,
                payload=payload,
                patient_id=values.get("patient_id"),
                doctor_name=values.get("doctor_name") or user.get_username(),
                patient_name=values.get("patient_name", ""),
            )
            return _accepted(analysis)
        body, _log = sequence_predict(
            user=user,
            request=PredictRequest(
                payload=payload,
                doctor_name=values.get("doctor_name") or user.get_username(),
                patient_name=values.get("patient_name", ""),
                patient_id=values.get("patient_id"),
            ),
        )
        return Response(body)

    def _parse(self, request: Request) -> tuple[dict[str, Any], dict[str, Any]]:
        raw = request.data
        if not isinstance(raw, dict):
            raw = raw.dict() if hasattr(raw, "dict") else raw
        if isinstance(raw, dict) and "fasta" in raw and request.content_type.startswith("text/"):
            raw = {**request.query_params.dict(), **raw}
        data = PredictInputSerializer(data=raw)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        payload = _payload_from(values)
        if "items" in payload and len(payload["items"]) > MAX_FASTA_RECORDS:
            raise ApplicationError(
                f"items: {len(payload['items'])} items is over the limit of {MAX_FASTA_RECORDS}",
                detail={"items": "too many"},
            )
        return values, payload


def _accepted(analysis: Analysis) -> Response:
    location = reverse("analysis-detail", kwargs={"analysis_id": analysis.pk})
    body = {
        "ok": True,
        "batch": True,
        "analysis_id": analysis.pk,
        "status": analysis.status,
        "location": location,
        "result_json": reverse("analysis-result", kwargs={"analysis_id": analysis.pk}),
        "result_tsv": reverse("analysis-result", kwargs={"analysis_id": analysis.pk})
        + "?format=tsv",
    }
    return Response(body, status=status.HTTP_202_ACCEPTED, headers={"Location": location})


def _loggable(request: Request) -> dict[str, Any]:
    """What a refused call sent, in a form a JSON column can hold."""
    try:
        raw = request.data
    except APIException:
        return {"unparsed_body": True, "content_type": request.content_type[:100]}
    if isinstance(raw, dict) and not hasattr(raw, "getlist"):
        return dict(raw)
    if hasattr(raw, "dict"):
        fields = {k: v for k, v in raw.dict().items() if isinstance(v, str)}
        files = {k: getattr(v, "name", "") for k, v in request.FILES.items()}
        return {**fields, **({"files": files} if files else {})}
    return {"body": str(raw)[:1000]}


class HistoryPagination(BoundedLimitOffsetPagination):
    """Limit/offset paging whose ``count`` stops ``COUNT_MARGIN`` rows past the page.

    Counting every row a clinician may see in a million-row log took 0.5-0.9 s on PostgreSQL (the
    access filter keeps that COUNT(*) off the indexes, bench/inference_log.py); counting at most
    the page and the margin after it walks the newest-first index and stops. The next and
    previous links stay exact; a ``count`` equal to offset + limit + margin means "at least".
    """

    default_limit = 100
    max_limit = 1000
    COUNT_MARGIN = 1000

    def get_count(self, queryset: QuerySet[Any]) -> int:  # type: ignore[override]
        assert self.request is not None  # paginate_queryset sets it before it counts
        bound = self.get_offset(self.request) + (self.limit or 0) + self.COUNT_MARGIN
        # The offset may be near the database's largest integer (its own bound): so is LIMIT.
        return queryset.values("pk")[: min(bound, MAX_DB_INT)].count()


class MlHistoryApi(APIView):
    @extend_schema(
        operation_id="history_list",
        description=(
            "The predict calls you may see: those linked to your patients and your own "
            "(administrators: all), newest first. ``count`` is exact up to 1,000 rows past the "
            "page; a larger history reports offset + limit + 1,000 (more may follow: see next)."
        ),
        parameters=[
            OpenApiParameter("doctor", str, description="doctor_name, exact"),
            OpenApiParameter("patient", str, description="patient_name, exact"),
            OpenApiParameter("limit", int, description="page size (default 100, max 1000)"),
            OpenApiParameter("offset", int),
        ],
        responses=paginated(InferenceLogOutputSerializer, HistoryPagination),
        tags=["ml"],
    )
    def get(self, request: Request) -> Response:
        user: User = request.user  # type: ignore[assignment]
        logs = inference_log_list_for_user(
            user=user,
            doctor=request.query_params.get("doctor") or None,
            patient=request.query_params.get("patient") or None,
        )
        paginator = HistoryPagination()
        page = paginator.paginate_queryset(logs, request, view=self) or []
        access_events_record_page(
            user=user,
            action="inference_log.list",
            object_type="inference_log",
            shown=[(log.patient_id, str(log.pk)) for log in page],
        )
        return paginator.get_paginated_response(InferenceLogOutputSerializer(page, many=True).data)


class MlRetrainApi(APIView):
    permission_classes = [IsModelManager]

    @extend_schema(
        description="Queues a retraining analysis (ML engineers and administrators).",
        request=RetrainInputSerializer,
        parameters=[location_header(200)],
        examples=RETRAIN_EXAMPLES,
        responses={200: MlRetrainQueuedSerializer, **errors(403)},
        tags=["ml"],
    )
    def post(self, request: Request) -> Response:
        data = RetrainInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        analysis = sequence_retrain_submit(
            user=request.user,  # type: ignore[arg-type]
            payload=dict(data.validated_data),
        )
        location = reverse("analysis-detail", kwargs={"analysis_id": analysis.pk})
        # 200, as the seed's clients expect; the run itself is an analysis to follow.
        return Response(
            {
                "ok": True,
                "status": analysis.status,
                "analysis_id": analysis.pk,
                "location": location,
                "message": "Retraining queued; follow the analysis or GET /ml/v1/model-info/.",
            },
            headers={"Location": location},
        )
