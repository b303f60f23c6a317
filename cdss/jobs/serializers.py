"""Input and output shapes of /api/v1/analyses/.

``AnalysisInputSerializer`` parses the envelope (kind, patient, inputs); the kind's own ``input``
serializer validates ``inputs`` in the service. The schema-only serializers at the end document
what the kinds declare, built from the registry when the schema is built: the create body as a
union keyed by ``kind``, and the JSON result as one of the kinds' result shapes.
"""

from __future__ import annotations

from typing import Any

from django.urls import reverse
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from cdss.common.openapi import LivePolymorphicProxySerializer
from cdss.common.serializers import IdField, StrictInputSerializer
from cdss.jobs.kinds import AnalysisKind, SerializerClass, kind_names, registered_kinds
from cdss.jobs.models import Analysis, AnalysisArtifact, Status


class AnalysisInputSerializer(StrictInputSerializer):
    kind = serializers.CharField(max_length=64)
    patient = IdField(required=False, allow_null=True)
    inputs = serializers.DictField(required=False, default=dict)


class AnalysisFilterSerializer(serializers.Serializer):  # type: ignore[type-arg]
    """Query parameters of the list; page and page_size belong to the paginator."""

    patient = IdField(required=False)
    kind = serializers.CharField(required=False, max_length=64)
    status = serializers.ChoiceField(required=False, choices=Status.choices)
    exclude_kind = serializers.CharField(
        required=False,
        max_length=512,
        help_text=(
            "Comma-separated kinds to leave out, e.g. interpretation,report (the analyses "
            "chained to another one, which its own page shows)."
        ),
    )

    def validate_exclude_kind(self, value: str) -> list[str]:
        names = [name.strip() for name in value.split(",")]
        known = set(kind_names())
        unknown = sorted({name for name in names if name not in known})
        if unknown:
            raise serializers.ValidationError(
                f"Unknown kind(s) {', '.join(repr(n) for n in unknown)}; expected "
                f"comma-separated names from: {', '.join(sorted(known))}."
            )
        return sorted(set(names))


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


class AnalysisArtifactSerializer(serializers.ModelSerializer):  # type: ignore[type-arg]
    url = serializers.SerializerMethodField()

    class Meta:
        model = AnalysisArtifact
        fields = ["name", "content_type", "size", "sha256", "url"]

    def get_url(self, obj: AnalysisArtifact) -> str:
        return reverse(
            "analysis-artifact", kwargs={"analysis_id": obj.analysis_id, "name": obj.name}
        )


class AnalysisDetailSerializer(AnalysisOutputSerializer):
    artifacts = AnalysisArtifactSerializer(many=True, read_only=True)

    class Meta(AnalysisOutputSerializer.Meta):
        fields = [*AnalysisOutputSerializer.Meta.fields, "inputs", "artifacts"]


# --- schema only: what the registered kinds declare ---------------------------------------------


def _camel(name: str) -> str:
    return "".join(part.capitalize() for part in name.split("_"))


def _requires_some_field(serializer: SerializerClass) -> bool:
    return any(f.required for f in serializer().fields.values())


_bodies: dict[str, tuple[AnalysisKind, SerializerClass]] = {}


def _create_body(kind: AnalysisKind) -> SerializerClass:
    """The create body of one kind: its name, its patient (required when the kind needs one),
    and its ``input`` serializer as ``inputs`` (required when that has a required field). Built
    once per registered kind, so that each names one component."""
    cached = _bodies.get(kind.name)
    if cached is not None and cached[0] is kind:
        return cached[1]
    body: SerializerClass = type(
        f"AnalysisCreate{_camel(kind.name)}",
        (StrictInputSerializer,),
        {
            "__module__": __name__,
            "__doc__": f"Submits a {kind.name} analysis.",
            "kind": serializers.ChoiceField(choices=[kind.name]),
            "patient": IdField(
                required=kind.patient_required, allow_null=not kind.patient_required
            ),
            "inputs": kind.input(required=_requires_some_field(kind.input)),
        },
    )
    _bodies[kind.name] = (kind, body)
    return body


def _create_bodies() -> dict[str, serializers.Serializer | SerializerClass]:  # type: ignore[type-arg]
    return {kind.name: _create_body(kind) for kind in registered_kinds()}


def _result_shapes() -> list[serializers.Serializer | SerializerClass]:  # type: ignore[type-arg]
    shapes: list[serializers.Serializer | SerializerClass] = []  # type: ignore[type-arg]
    for kind in registered_kinds():
        if kind.result not in shapes:
            shapes.append(kind.result)
    return shapes


ANALYSIS_CREATE_BODY = LivePolymorphicProxySerializer(
    component_name="AnalysisCreate",
    serializers=_create_bodies,
    resource_type_field_name="kind",
)

ANALYSIS_RESULT_JSON = LivePolymorphicProxySerializer(
    component_name="AnalysisResultData",
    serializers=_result_shapes,
    resource_type_field_name=None,
)
