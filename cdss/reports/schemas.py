"""Inputs and results of the interpretation and report kinds, and the interpretation as the API
shows it: validation and OpenAPI in one place."""

from __future__ import annotations

from rest_framework import serializers

from cdss.common.serializers import IdField, StrictInputSerializer, StrictSerializer
from cdss.reports.models import GeneratedBy, GuardOutcome, Interpretation, Language


class ChainedInputSerializer(StrictInputSerializer):
    analysis = IdField(help_text="A COMPLETED analysis of yours (and of the same patient)")
    language = serializers.ChoiceField(choices=Language.choices)


class InterpretationResultSerializer(StrictSerializer):
    ok = serializers.BooleanField()
    interpretation = serializers.IntegerField(help_text="the stored interpretation's id")
    analysis = serializers.IntegerField(help_text="the analysis interpreted")
    language = serializers.ChoiceField(choices=Language.choices)
    text = serializers.CharField()
    # "label" shadows Field.label for the type checker only; it is the name the API shows.
    label = serializers.CharField(  # type: ignore[assignment]
        help_text='"AI-generated" or "Generated from the result by rules"'
    )
    generated_by = serializers.ChoiceField(choices=GeneratedBy.choices)
    provider = serializers.CharField()
    model_name = serializers.CharField()
    model_version = serializers.CharField(help_text="the prompt and template version")
    guard_outcome = serializers.ChoiceField(choices=GuardOutcome.choices)
    guard_notes = serializers.ListField(child=serializers.CharField())


class ReportResultSerializer(StrictSerializer):
    ok = serializers.BooleanField()
    analysis = serializers.IntegerField(help_text="the analysis reported")
    language = serializers.ChoiceField(choices=Language.choices)
    artifact = serializers.CharField(help_text="report-ko.pdf or report-en.pdf")
    pages = serializers.IntegerField()
    size = serializers.IntegerField()
    sha256 = serializers.CharField(help_text="the PDF's SHA-256")
    interpretation = serializers.IntegerField(
        allow_null=True, help_text="the interpretation printed; null: the template's text"
    )
    model_name = serializers.CharField()
    model_version = serializers.CharField()


class InterpretationSerializer(serializers.ModelSerializer):  # type: ignore[type-arg]
    label = serializers.CharField(read_only=True)  # type: ignore[assignment]
    job = serializers.IntegerField(source="job_id", read_only=True)
    analysis = serializers.IntegerField(source="analysis_id", read_only=True)

    class Meta:
        model = Interpretation
        fields = [
            "id",
            "analysis",
            "job",
            "language",
            "text",
            "label",
            "generated_by",
            "provider",
            "model",
            "prompt_version",
            "guard_outcome",
            "guard_notes",
            "attempts",
            "created_at",
        ]
        read_only_fields = fields


class LanguageQuerySerializer(StrictInputSerializer):
    lang = serializers.ChoiceField(
        choices=Language.choices,
        required=False,
        help_text="ko or en; absent: the first of Accept-Language that is one of them",
    )
