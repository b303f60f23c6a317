"""/api/v1/patients/{id}/files/ (upload, list), /api/v1/files/{id}/ (one file) and its content.

Views parse input, call one selector or service, and serialize. The patient route goes through
``cdss.patients.access`` before the body is parsed, so an upload for a patient outside the care
team is refused before a byte of it is staged; the file routes go through ``cdss.files.access``.
Either way another clinician's file and a missing one are the same 404, and each access is
audited once.
"""

from __future__ import annotations

from urllib.parse import quote

from django.conf import settings
from django.http import FileResponse, HttpResponse, HttpResponseBase
from django.utils.http import content_disposition_header
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
)
from rest_framework import status
from rest_framework.parsers import MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response

from cdss.accounts.models import User
from cdss.audit.services import access_events_record_page
from cdss.common.negotiation import FileWithJsonErrorsNegotiation
from cdss.common.openapi import errors, page_parameters, paginated
from cdss.common.pagination import StandardPagination
from cdss.files import services
from cdss.files.access import patient_file_for_request
from cdss.files.models import PatientFile
from cdss.files.selectors import patient_file_list_for_user
from cdss.files.serializers import (
    PatientFileFilterSerializer,
    PatientFileOutputSerializer,
    PatientFileUploadSerializer,
)
from cdss.files.storage import StagingUploadHandler
from cdss.files.validation import CONTENT_TYPES
from cdss.patients.access import patient_for_request
from cdss.patients.apis import PatientScopedApi

TAGS = ["files"]


class PatientFileListCreateApi(PatientScopedApi):
    parser_classes = [MultiPartParser]

    @extend_schema(
        operation_id="patients_files_list",
        description="The patient's files, newest first.",
        parameters=[PatientFileFilterSerializer, *page_parameters(StandardPagination)],
        responses={
            200: paginated(PatientFileOutputSerializer, StandardPagination),
            **errors(404, _404="No such patient (or not yours), or a page past the last one."),
        },
        tags=TAGS,
    )
    def get(self, request: Request, patient_id: int) -> Response:
        user: User = request.user  # type: ignore[assignment]
        patient = patient_for_request(
            user=user, patient_id=patient_id, action="patient_file.list", audit_success=False
        )
        filters = PatientFileFilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        files = patient_file_list_for_user(
            user=user, patient_id=patient.pk, role=filters.validated_data.get("role")
        )
        paginator = StandardPagination()
        page = paginator.paginate_queryset(files, request, view=self)
        assert page is not None
        # One event per file shown; an empty page still records that this patient's list was read.
        access_events_record_page(
            user=user,
            action="patient_file.list",
            object_type="patient_file",
            shown=[(f.patient_id, str(f.pk)) for f in page] or [(patient.pk, "")],
        )
        return paginator.get_paginated_response(PatientFileOutputSerializer(page, many=True).data)

    @extend_schema(
        operation_id="patients_files_create",
        description=(
            "Uploads a file for the patient (multipart/form-data: `file` and `role`). It is "
            "checked before it is stored: the format is sniffed from the content and must suit "
            "the role; sizes, decoded sizes, voxels and zip members are capped; a truncated or "
            "malformed file is a 400 that names the problem, and nothing of it is kept. The "
            "same content is stored once, whatever the number of uploads."
        ),
        request={"multipart/form-data": PatientFileUploadSerializer},
        examples=[
            OpenApiExample(
                "A Markdown note",
                value={"role": "document", "file": "# Discharge summary\n\nStable.\n"},
                request_only=True,
                media_type="multipart/form-data",
            )
        ],
        responses={201: PatientFileOutputSerializer},
        tags=TAGS,
    )
    def post(self, request: Request, patient_id: int) -> Response:
        user: User = request.user  # type: ignore[assignment]
        patient = patient_for_request(
            user=user, patient_id=patient_id, action="patient_file.create", audit_success=False
        )
        # Set before the body is parsed: file parts stream to the staging folder, hashed.
        handler = StagingUploadHandler(request._request)
        request._request.upload_handlers = [handler]
        try:
            data = PatientFileUploadSerializer(data=request.data)
            data.is_valid(raise_exception=True)
            patient_file = services.patient_file_upload(
                user=user,
                patient=patient,
                role=data.validated_data["role"],
                upload=data.validated_data["file"],
            )
        finally:
            handler.discard()
        return Response(
            PatientFileOutputSerializer(patient_file).data, status=status.HTTP_201_CREATED
        )


class PatientFileDetailApi(PatientScopedApi):
    @extend_schema(
        operation_id="files_retrieve",
        description="One patient file: what it is and what its checks found.",
        responses=PatientFileOutputSerializer,
        tags=TAGS,
    )
    def get(self, request: Request, file_id: int) -> Response:
        patient_file = patient_file_for_request(
            user=request.user,  # type: ignore[arg-type]
            file_id=file_id,
            action="patient_file.read",
        )
        return Response(PatientFileOutputSerializer(patient_file).data)


def _served_type(patient_file: PatientFile) -> str:
    if patient_file.content_type.startswith("text/"):
        return f"{patient_file.content_type}; charset=utf-8"
    return patient_file.content_type


def _content_response(patient_file: PatientFile) -> HttpResponseBase:
    """The stored bytes as a download: streamed by Django, or handed to nginx (X-Accel-Redirect,
    CDSS_MEDIA_ACCEL_REDIRECT) now that access is checked. Never rendered by the browser."""
    accel = str(getattr(settings, "CDSS_MEDIA_ACCEL_REDIRECT", ""))
    response: HttpResponseBase
    if accel:
        response = HttpResponse(content_type=_served_type(patient_file))
        response["X-Accel-Redirect"] = accel.rstrip("/") + "/" + quote(patient_file.storage_path)
        response["Content-Disposition"] = (
            content_disposition_header(as_attachment=True, filename=patient_file.name)
            or "attachment"
        )
    else:
        response = FileResponse(
            patient_file.path.open("rb"),
            content_type=_served_type(patient_file),
            as_attachment=True,
            filename=patient_file.name,
        )
    response["ETag"] = f'"{patient_file.sha256}"'
    response["X-Content-Type-Options"] = "nosniff"
    # Uploaded HTML must never run as this site, even if opened directly.
    response["Content-Security-Policy"] = "sandbox; default-src 'none'"
    response["Cache-Control"] = "private, no-store"
    return response


class PatientFileContentApi(PatientScopedApi):
    content_negotiation_class = FileWithJsonErrorsNegotiation

    @extend_schema(
        operation_id="files_content_retrieve",
        description=(
            "The stored bytes, as an attachment, in the type sniffed at upload (text types in "
            "UTF-8). Its ETag is the file's SHA-256."
        ),
        parameters=[
            OpenApiParameter(
                "ETag",
                OpenApiTypes.STR,
                OpenApiParameter.HEADER,
                response=[200],
                description="The file's SHA-256, quoted.",
            ),
        ],
        responses={
            **{
                (200, media_type): OpenApiResponse(
                    OpenApiTypes.BINARY, description="The file, in its sniffed content type."
                )
                for media_type in sorted(set(CONTENT_TYPES.values()))
            },
            **errors(404),
        },
        tags=TAGS,
    )
    def get(self, request: Request, file_id: int) -> HttpResponseBase:
        patient_file = patient_file_for_request(
            user=request.user,  # type: ignore[arg-type]
            file_id=file_id,
            action="patient_file.export",
        )
        return _content_response(patient_file)
