"""GET /api/v1/audit/events/: the audit trail for administrators, filtered and paginated."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema, extend_schema_serializer
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from cdss.audit.models import AccessEvent
from cdss.audit.selectors import access_event_list
from cdss.audit.services import access_event_list_read_record
from cdss.common.openapi import errors, paginated
from cdss.common.pagination import StandardPagination
from cdss.common.serializers import MAX_DB_INT, IdField, StrictInputSerializer


class AccessEventListApi(APIView):
    class FilterSerializer(StrictInputSerializer):
        user = IdField(required=False)
        patient = IdField(required=False)
        since = serializers.DateTimeField(required=False)
        until = serializers.DateTimeField(required=False)
        action = serializers.CharField(required=False, max_length=64)
        outcome = serializers.CharField(required=False, max_length=16)
        page = serializers.IntegerField(required=False, min_value=1, max_value=MAX_DB_INT)
        page_size = serializers.IntegerField(
            required=False, min_value=1, max_value=StandardPagination.max_page_size
        )

    @extend_schema_serializer(component_name="AccessEvent")
    class OutputSerializer(serializers.ModelSerializer[AccessEvent]):
        class Meta:
            model = AccessEvent
            fields = [
                "id",
                "occurred_at",
                "user_id",
                "action",
                "patient_id",
                "object_type",
                "object_id",
                "request_id",
                "ip",
                "user_agent",
                "outcome",
            ]

    @extend_schema(
        operation_id="audit_events_list",
        parameters=[FilterSerializer],
        responses={
            200: paginated(OutputSerializer),
            **errors(403, 404, _404="No such page: past the last one."),
        },
        tags=["audit"],
    )
    def get(self, request: Request) -> Response:
        filters = self.FilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        data = filters.validated_data
        events = access_event_list(
            user=request.user,  # type: ignore[arg-type]
            user_id=data.get("user"),
            patient_id=data.get("patient"),
            since=data.get("since"),
            until=data.get("until"),
            action=data.get("action"),
            outcome=data.get("outcome"),
        )
        paginator = StandardPagination()
        page = paginator.paginate_queryset(events, request, view=self) or []
        access_event_list_read_record(user=request.user, page=page)
        return paginator.get_paginated_response(self.OutputSerializer(page, many=True).data)
