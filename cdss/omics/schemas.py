"""Inputs and results of the omics analysis kinds: validation and OpenAPI in one place."""

from __future__ import annotations

from rest_framework import serializers

from cdss.common.serializers import IdField, StrictInputSerializer, StrictSerializer


class OmicsInputSerializer(StrictInputSerializer):
    table_file = IdField(
        help_text=(
            "A patient file of role omics_table with one sample row, columns <layer>:<feature> "
            "(GET /api/v1/omics/templates/{model}.csv)"
        )
    )


class DrivingFeatureSerializer(StrictSerializer):
    layer = serializers.CharField()
    feature = serializers.CharField()
    value = serializers.FloatField()
    contribution = serializers.FloatField(help_text="its share of the model's score")
    direction = serializers.CharField(help_text="the outcome it pushes towards")


class _OmicsResultSerializer(StrictSerializer):
    ok = serializers.BooleanField()
    model = serializers.CharField()
    model_name = serializers.CharField()
    model_version = serializers.CharField()
    sample_id = serializers.CharField(allow_null=True)
    top_features = DrivingFeatureSerializer(many=True)
    layers_used = serializers.ListField(child=serializers.CharField())
    missing_layers = serializers.ListField(child=serializers.CharField())
    missing_layer = serializers.BooleanField(help_text="a layer of the model was absent")
    confidence = serializers.CharField()
    confidence_reasons = serializers.ListField(child=serializers.CharField())
    disclaimer = serializers.CharField()


class RosmapResultSerializer(_OmicsResultSerializer):
    predicted_class = serializers.CharField(help_text="AD or NC (normal control)")
    probability = serializers.FloatField(help_text="of the predicted class")
    probabilities = serializers.DictField(child=serializers.FloatField())


class SurvivalPointSerializer(StrictSerializer):
    day = serializers.FloatField()
    survival = serializers.FloatField()
    lower = serializers.FloatField(required=False)
    upper = serializers.FloatField(required=False)
    at_risk = serializers.FloatField(required=False)


class PaadResultSerializer(_OmicsResultSerializer):
    risk_score = serializers.FloatField(help_text="log relative hazard vs the average patient")
    risk_group = serializers.CharField(help_text="high or low (split at the training median)")
    risk_percentile = serializers.FloatField(help_text="among the training patients, 0-1")
    group_median_survival_days = serializers.FloatField(allow_null=True)
    group_size = serializers.DictField(child=serializers.IntegerField())
    predicted_survival = serializers.DictField(child=serializers.FloatField())
    survival_curve = SurvivalPointSerializer(many=True)
    at_risk = serializers.ListField(child=serializers.ListField(child=serializers.FloatField()))
    evidence = serializers.CharField(help_text="how strong the model's evidence is (C-index)")
