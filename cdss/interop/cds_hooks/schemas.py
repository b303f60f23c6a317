"""The request bodies of CDS Hooks 2.0 calls, validated: the ``patient-view`` hook request and
the feedback request. Unknown members are allowed (the spec lets clients add extensions), known
ones are checked, and a 400 names the member at fault (``context.patientId``)."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from cdss.interop.models import FeedbackOutcome

HOOK = "patient-view"
MAX_FEEDBACK_ENTRIES = 100
# FHIR ids and our MRNs are both at most 64 characters.
_ID_MAX = 64


class _Context(serializers.Serializer):  # type: ignore[type-arg]
    patientId = serializers.CharField(max_length=_ID_MAX)
    userId = serializers.RegexField(
        r"^(Practitioner|PractitionerRole|Patient|RelatedPerson)/[^/\s]{1,200}$",
        max_length=255,
        error_messages={"invalid": "Expected <ResourceType>/<id>, e.g. Practitioner/123."},
    )
    encounterId = serializers.CharField(max_length=_ID_MAX, required=False)


class PatientViewRequestSerializer(serializers.Serializer):  # type: ignore[type-arg]
    hook = serializers.CharField(max_length=64)
    hookInstance = serializers.UUIDField()
    fhirServer = serializers.URLField(required=False, max_length=2000)
    fhirAuthorization = serializers.DictField(required=False)
    # The spec's member shadows Serializer.context for the type checker only: the serializer
    # metaclass takes declared fields off the class.
    context = _Context()  # type: ignore[assignment]
    prefetch = serializers.DictField(required=False, allow_empty=True)

    def validate_hook(self, value: str) -> str:
        if value != HOOK:
            raise serializers.ValidationError(f'This service answers the "{HOOK}" hook.')
        return value

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if "fhirAuthorization" in attrs and "fhirServer" not in attrs:
            raise serializers.ValidationError(
                {"fhirServer": ["Required when fhirAuthorization is given."]}
            )
        return attrs


class _Coding(serializers.Serializer):  # type: ignore[type-arg]
    code = serializers.CharField(max_length=255)
    system = serializers.CharField(max_length=2000, required=False)
    display = serializers.CharField(max_length=1000, required=False)


class _OverrideReason(serializers.Serializer):  # type: ignore[type-arg]
    reason = _Coding(required=False)
    userComment = serializers.CharField(max_length=2000, required=False)


class _SuggestionRef(serializers.Serializer):  # type: ignore[type-arg]
    id = serializers.CharField(max_length=255)


class _FeedbackItem(serializers.Serializer):  # type: ignore[type-arg]
    card = serializers.UUIDField()
    outcome = serializers.ChoiceField(choices=FeedbackOutcome.choices)
    # ListSerializer's max_length, which the type stubs do not know.
    acceptedSuggestions = _SuggestionRef(many=True, required=False, max_length=100)  # type: ignore[call-arg]
    overrideReason = _OverrideReason(required=False)
    outcomeTimestamp = serializers.DateTimeField()

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if attrs.get("acceptedSuggestions") and attrs["outcome"] != FeedbackOutcome.ACCEPTED:
            raise serializers.ValidationError(
                {"acceptedSuggestions": ['Only with outcome "accepted".']}
            )
        if "overrideReason" in attrs and attrs["outcome"] != FeedbackOutcome.OVERRIDDEN:
            raise serializers.ValidationError(
                {"overrideReason": ['Only with outcome "overridden".']}
            )
        return attrs


class FeedbackRequestSerializer(serializers.Serializer):  # type: ignore[type-arg]
    feedback = _FeedbackItem(many=True, allow_empty=False, max_length=MAX_FEEDBACK_ENTRIES)  # type: ignore[call-arg]
