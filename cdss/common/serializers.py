"""Serializer base classes. Input serializers reject fields they do not know, so a typo in a
field name is a 400 that names it rather than a silently ignored value."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers


class StrictInputSerializer(serializers.Serializer):  # type: ignore[type-arg]
    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, dict):
            known = set(self.fields)
            unknown = sorted(str(k) for k in data if k not in known)
            if unknown:
                raise serializers.ValidationError({name: ["Unknown field."] for name in unknown})
        elif data is not None and not isinstance(data, dict):
            raise serializers.ValidationError(
                {"body": [f"Expected a JSON object, got {type(data).__name__}."]}
            )
        return super().to_internal_value(data)
