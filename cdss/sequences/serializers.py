from __future__ import annotations

from typing import Any

from rest_framework import serializers

from cdss.common.serializers import MAX_DB_INT, IdField, StrictInputSerializer
from cdss.ml.client import get_client
from cdss.sequences.models import InferenceLog

SEQ_TYPES = ("protein", "dna", "rna", "auto")


class SequenceLimitsMixin:
    """Checks fields against the limits the sequence engine publishes in model-info.

    ``server_limits`` maps a field to the name of its limit there: an integer field must not
    exceed it, a text field must not be longer. When the server cannot be asked, the fields pass
    here and the server's own check answers instead; Django keeps no copy of these numbers.
    """

    server_limits: dict[str, str] = {}

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        attrs = super().validate(attrs)  # type: ignore[misc]
        limits = get_client().engine_limits("sequence") if self.server_limits else None
        errors: dict[str, list[str]] = {}
        for field, name in self.server_limits.items():
            value, limit = attrs.get(field), (limits or {}).get(name)
            if value is None or not isinstance(limit, int | float):
                continue
            size = len(value) if isinstance(value, str) else value
            if size > limit:
                unit = " characters" if isinstance(value, str) else ""
                errors[field] = [f"At most {limit:g}{unit} (the model server's limit)."]
        if errors:
            raise serializers.ValidationError(errors)
        return attrs


class PredictOptionsSerializer(SequenceLimitsMixin, StrictInputSerializer):
    """The fields a predict call and a batch analysis share."""

    server_limits = {"top_k": "max_top_k", "organism_hint": "max_organism_hint_length"}

    doctor_name = serializers.CharField(max_length=100, required=False, allow_blank=True)
    patient_name = serializers.CharField(max_length=100, required=False, allow_blank=True)
    seq_type = serializers.ChoiceField(choices=SEQ_TYPES, required=False)
    task3_threshold = serializers.FloatField(
        required=False, allow_null=True, min_value=0.0, max_value=1.0
    )
    organism_hint = serializers.CharField(required=False, allow_null=True, allow_blank=True)
    top_k = serializers.IntegerField(required=False, min_value=1, max_value=MAX_DB_INT)


class PredictInputSerializer(PredictOptionsSerializer):
    """Structure only; sequence content is judged by the inference server, item by item."""

    patient_id = IdField(required=False, allow_null=True)
    # Its length is judged by the server (residues, after whitespace and header are stripped).
    sequence = serializers.CharField(required=False, trim_whitespace=False)
    frame = serializers.IntegerField(required=False, allow_null=True, min_value=0, max_value=5)
    items = serializers.ListField(child=serializers.JSONField(), required=False, min_length=1)
    fasta = serializers.CharField(required=False, trim_whitespace=False)
    file = serializers.FileField(required=False)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        attrs = super().validate(attrs)
        given = [k for k in ("sequence", "items", "fasta", "file") if k in attrs]
        if len(given) != 1:
            raise serializers.ValidationError(
                {"sequence": ["Give exactly one of sequence, items, fasta or file."]}
            )
        if "items" in attrs and ("sequence" in attrs or "frame" in attrs):
            raise serializers.ValidationError({"frame": ["frame belongs inside each item."]})
        return attrs


class RetrainInputSerializer(SequenceLimitsMixin, StrictInputSerializer):
    server_limits = {"epochs": "max_retrain_epochs", "batch_size": "max_retrain_batch_size"}

    training_data_path = serializers.CharField(max_length=1024)
    epochs = serializers.IntegerField(min_value=1, max_value=MAX_DB_INT, required=False)
    batch_size = serializers.IntegerField(min_value=1, max_value=MAX_DB_INT, required=False)

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
