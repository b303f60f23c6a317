"""Input and output shapes of /api/v1/analyses/."""

from __future__ import annotations

from typing import Any

from django.urls import reverse
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from cdss.common.serializers import IdField, StrictInputSerializer
from cdss.jobs.models import Analysis, Status


class AnalysisInputSerializer(StrictInputSerializer):
    kind = serializers.CharField(max_length=64)
    patient = IdField(required=False, allow_null=True)
    inputs = serializers.DictField(required=False, default=dict)


class AnalysisFilterSerializer(serializers.Serializer):  # type: ignore[type-arg]
    """Query parameters of the list; page and page_size belong to the paginator."""

    patient = IdField(required=False)
    kind = serializers.CharField(required=False, max_length=64)
    status = serializers.ChoiceField(required=False, choices=Status.choices)


class AnalysisErrorSerializer(serializers.Serializer):  # type: ignore[type-arg]
    code = serializers.CharField()
    message = serializers.CharField()


class AnalysisOutputSerializer(serializers.ModelSerializer):  # type: ignore[type-arg]
    patient = serializers.IntegerField(source="patient_id", allow_null=True, read_only=True)
    requested_by = serializers.IntegerField(
        source="requested_by_id", allow_null=True, read_only=True
    )
    error = serializers.SerializerMethodField()
    result_url = serializers.SerializerMethodField()

    class Meta:
        model = Analysis
        fields = [
            "id",
            "kind",
            "patient",
            "requested_by",
            "status",
            "error",
            "model_name",
            "model_version",
            "attempts",
            "max_attempts",
            "created_at",
            "enqueued_at",
            "next_attempt_at",
            "started_at",
            "completed_at",
            "failed_at",
            "cancelled_at",
            "updated_at",
            "result_url",
        ]

    @extend_schema_field(AnalysisErrorSerializer(allow_null=True))
    def get_error(self, obj: Analysis) -> dict[str, Any] | None:
        if not obj.error_code:
            return None
        return {"code": obj.error_code, "message": obj.error_message}

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_result_url(self, obj: Analysis) -> str | None:
        if obj.status != Status.COMPLETED:
            return None
        return reverse("analysis-result", kwargs={"analysis_id": obj.pk})


class AnalysisDetailSerializer(AnalysisOutputSerializer):
    class Meta(AnalysisOutputSerializer.Meta):
        fields = [*AnalysisOutputSerializer.Meta.fields, "inputs"]
