"""POST /api/v1/diagnosis/requests/ (multipart, 202) and GET /api/v1/diagnosis/requests/{id}/."""

from __future__ import annotations

from typing import Any

from django.urls import reverse
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.parsers import MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from cdss.accounts.models import User
from cdss.common.openapi import errors, location_header
from cdss.common.serializers import IdField, StrictInputSerializer, StrictSerializer
from cdss.diagnosis.services import FILE_ROLES, diagnosis_request_submit
from cdss.files.storage import StagingUploadHandler
from cdss.jobs.access import analysis_for_request
from cdss.jobs.models import AnalysisResult
from cdss.jobs.serializers import AnalysisArtifactSerializer, AnalysisOutputSerializer
from cdss.jobs.services import analysis_patient_for_request
from cdss.patients.apis import PatientScopedApi

TAGS = ["diagnosis"]


class DiagnosisRequestInputSerializer(StrictInputSerializer):
    patient = IdField()
    kind = serializers.CharField(max_length=64, help_text="an analysis kind, e.g. omics_rosmap")
    volume_file = serializers.FileField(required=False, help_text="CT: NIfTI or zipped DICOM")
    segmentation_file = serializers.FileField(required=False, help_text="CT segmentation")
    table_file = serializers.FileField(required=False, help_text="omics table, one sample row")


class DiagnosisRequestAcceptedSerializer(StrictSerializer):
    id = serializers.IntegerField(read_only=True)
    status = serializers.CharField()
    location = serializers.CharField(help_text="GET it for status, result and artifacts")


class DiagnosisRequestSerializer(AnalysisOutputSerializer):
    result = serializers.SerializerMethodField()
    artifacts = AnalysisArtifactSerializer(many=True, read_only=True)

    class Meta(AnalysisOutputSerializer.Meta):
        fields = [*AnalysisOutputSerializer.Meta.fields, "result", "artifacts"]

    def get_result(self, obj: Any) -> dict[str, Any] | None:
        stored = AnalysisResult.objects.filter(analysis=obj).first()
        return stored.data if stored is not None else None


def _location(analysis_id: int) -> str:
    return reverse("diagnosis-request-detail", kwargs={"request_id": analysis_id})


class DiagnosisRequestCreateApi(APIView):
    parser_classes = [MultiPartParser]

    @extend_schema(
        operation_id="diagnosis_requests_create",
        description=(
            "Seed 001's request: the files (under the kind's input names) are stored as the "
            "patient's files, checked like any upload, and the analysis is queued. 202 with "
            "where to follow it."
        ),
        request={"multipart/form-data": DiagnosisRequestInputSerializer},
        responses={
            202: DiagnosisRequestAcceptedSerializer,
            **errors(403),
        },
        parameters=[location_header(202)],
        tags=TAGS,
    )
    def post(self, request: Request) -> Response:
        user: User = request.user  # type: ignore[assignment]
        handler = StagingUploadHandler(request._request)
        request._request.upload_handlers = [handler]
        try:
            data = DiagnosisRequestInputSerializer(data=request.data)
            data.is_valid(raise_exception=True)
            values = data.validated_data
            patient = analysis_patient_for_request(user=user, patient_id=values["patient"])
            analysis = diagnosis_request_submit(
                user=user,
                patient=patient,
                kind=values["kind"],
                files={name: values[name] for name in FILE_ROLES if name in values},
            )
        finally:
            handler.discard()
        location = _location(analysis.pk)
        return Response(
            {"id": analysis.pk, "status": analysis.status, "location": location},
            status=status.HTTP_202_ACCEPTED,
            headers={"Location": location},
        )


class DiagnosisRequestDetailApi(PatientScopedApi):
    @extend_schema(
        operation_id="diagnosis_requests_retrieve",
        description="The request's status, its result once COMPLETED, and its artifacts' URLs.",
        responses=DiagnosisRequestSerializer,
        tags=TAGS,
    )
    def get(self, request: Request, request_id: int) -> Response:
        analysis = analysis_for_request(
            user=request.user,  # type: ignore[arg-type]
            analysis_id=request_id,
            action="analysis.read",
        )
        return Response(DiagnosisRequestSerializer(analysis).data)
