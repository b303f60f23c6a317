from __future__ import annotations

from typing import Any

from rest_framework import serializers

from cdss.common.serializers import IdField, StrictInputSerializer
from cdss.sequences.models import InferenceLog

SEQ_TYPES = ("protein", "dna", "rna", "auto")


class PredictOptionsSerializer(StrictInputSerializer):
    """The fields a predict call and a batch analysis share."""

    doctor_name = serializers.CharField(max_length=100, required=False, allow_blank=True)
    patient_name = serializers.CharField(max_length=100, required=False, allow_blank=True)
    seq_type = serializers.ChoiceField(choices=SEQ_TYPES, required=False)
    task3_threshold = serializers.FloatField(
        required=False, allow_null=True, min_value=0.0, max_value=1.0
    )
    organism_hint = serializers.CharField(
        required=False, allow_null=True, allow_blank=True, max_length=200
    )
    top_k = serializers.IntegerField(required=False, min_value=1, max_value=50)


class PredictInputSerializer(PredictOptionsSerializer):
    """Structure only; sequence content is judged by the inference server, item by item."""

    patient_id = IdField(required=False, allow_null=True)
    sequence = serializers.CharField(required=False, max_length=40_000, trim_whitespace=False)
    frame = serializers.IntegerField(required=False, allow_null=True, min_value=0, max_value=5)
    items = serializers.ListField(child=serializers.JSONField(), required=False, min_length=1)
    fasta = serializers.CharField(required=False, trim_whitespace=False)
    file = serializers.FileField(required=False)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        given = [k for k in ("sequence", "items", "fasta", "file") if k in attrs]
        if len(given) != 1:
            raise serializers.ValidationError(
                {"sequence": ["Give exactly one of sequence, items, fasta or file."]}
            )
        if "items" in attrs and ("sequence" in attrs or "frame" in attrs):
            raise serializers.ValidationError({"frame": ["frame belongs inside each item."]})
        return attrs


class RetrainInputSerializer(StrictInputSerializer):
    training_data_path = serializers.CharField(max_length=1024)
    epochs = serializers.IntegerField(min_value=1, max_value=1000, required=False)
    batch_size = serializers.IntegerField(min_value=1, max_value=4096, required=False)

    def validate_training_data_path(self, value: str) -> str:
        if not value.startswith("/") or ".." in value.split("/"):
            raise serializers.ValidationError("Must be an absolute path without '..'.")
        return value


class InferenceLogOutputSerializer(serializers.ModelSerializer[InferenceLog]):
    class Meta:
        model = InferenceLog
        fields = [
            "id",
            "doctor_name",
            "patient_name",
            "input_data",
            "output_data",
            "created_at",
            "patient_id",
            "kind",
            "item_count",
            "model_name",
            "model_version",
            "latency_ms",
            "outcome",
            "http_status",
        ]
