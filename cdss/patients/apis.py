"""/api/v1/patients/: list, create, retrieve, update, delete (administrators)."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from cdss.accounts.models import User
from cdss.audit.services import access_events_record_page
from cdss.common.openapi import errors, page_parameters, paginated
from cdss.common.pagination import StandardPagination
from cdss.patients import services
from cdss.patients.access import patient_for_request
from cdss.patients.selectors import patient_list_for_user
from cdss.patients.serializers import PatientInputSerializer, PatientOutputSerializer


class PatientScopedApi(APIView):
    """Base for every route whose URL names one patient (``patient_id``) or a child of one.

    The inherited cross-clinician tests (cdss/patients/tests/test_access.py) find every view that
    derives from this class and require a test case for it.
    """

    patient_scoped = True


class PatientListCreateApi(APIView):
    @extend_schema(
        operation_id="patients_list",
        description="The patients of your care team (administrators: all), newest first.",
        parameters=[
            OpenApiParameter("search", str, description="Part of a name or MRN"),
            *page_parameters(StandardPagination),
        ],
        responses={
            200: paginated(PatientOutputSerializer, StandardPagination),
            **errors(404, _404="No such page: past the last one."),
        },
        tags=["patients"],
    )
    def get(self, request: Request) -> Response:
        user: User = request.user  # type: ignore[assignment]
        search = request.query_params.get("search", "").strip()[:200] or None
        patients = patient_list_for_user(user=user, search=search)
        paginator = StandardPagination()
        page = paginator.paginate_queryset(patients, request, view=self)
        assert page is not None
        access_events_record_page(
            user=user,
            action="patient.list",
            object_type="patient",
            shown=[(p.pk, str(p.pk)) for p in page],
        )
        return paginator.get_paginated_response(PatientOutputSerializer(page, many=True).data)

    @extend_schema(
        description="Registers a patient; a clinician joins its care team.",
        request=PatientInputSerializer,
        responses={201: PatientOutputSerializer, **errors(403, 409)},
        tags=["patients"],
    )
    def post(self, request: Request) -> Response:
        data = PatientInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        patient = services.patient_create(
            user=request.user,  # type: ignore[arg-type]
            **data.validated_data,
        )
        return Response(PatientOutputSerializer(patient).data, status=status.HTTP_201_CREATED)


class PatientDetailApi(PatientScopedApi):
    @extend_schema(
        description="One patient of your care team.",
        responses=PatientOutputSerializer,
        tags=["patients"],
    )
    def get(self, request: Request, patient_id: int) -> Response:
        patient = patient_for_request(
            user=request.user,  # type: ignore[arg-type]
            patient_id=patient_id,
            action="patient.read",
        )
        return Response(PatientOutputSerializer(patient).data)

    def _update(self, request: Request, patient_id: int, *, partial: bool) -> Response:
        user: User = request.user  # type: ignore[assignment]
        patient = patient_for_request(
            user=user, patient_id=patient_id, action="patient.update", audit_success=False
        )
        data = PatientInputSerializer(data=request.data, partial=partial)
        data.is_valid(raise_exception=True)
        patient = services.patient_update(user=user, patient=patient, data=data.validated_data)
        return Response(PatientOutputSerializer(patient).data)

    @extend_schema(
        description="Replaces a patient's fields.",
        request=PatientInputSerializer,
        responses={200: PatientOutputSerializer, **errors(409)},
        tags=["patients"],
    )
    def put(self, request: Request, patient_id: int) -> Response:
        return self._update(request, patient_id, partial=False)

    @extend_schema(
        description="Changes the fields given.",
        request=PatientInputSerializer,
        responses={200: PatientOutputSerializer, **errors(409)},
        tags=["patients"],
    )
    def patch(self, request: Request, patient_id: int) -> Response:
        return self._update(request, patient_id, partial=True)

    @extend_schema(
        description="Administrators only: a soft delete (the record is kept).",
        responses={204: None, **errors(403)},
        tags=["patients"],
    )
    def delete(self, request: Request, patient_id: int, **kwargs: Any) -> Response:
        user: User = request.user  # type: ignore[assignment]
        patient = patient_for_request(
            user=user, patient_id=patient_id, action="patient.delete", audit_success=False
        )
        services.patient_delete(user=user, patient=patient)
        return Response(status=status.HTTP_204_NO_CONTENT)
