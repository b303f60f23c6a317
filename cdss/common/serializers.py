"""Serializer base classes. Strict serializers reject fields they do not know: in an input, a typo
in a field name is a 400 that names it rather than a silently ignored value; in a declared shape
(an analysis kind's result), a field nobody documented is an error rather than a surprise."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

# The largest value of a 64-bit signed database integer: every id and count a client sends is
# bounded by it, so an out-of-range number is a 400 and never reaches the database.
MAX_DB_INT = 2**63 - 1


class IdField(serializers.IntegerField):
    """A database id sent by a client: 1 .. MAX_DB_INT."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", MAX_DB_INT)
        super().__init__(**kwargs)


# No docstrings on these bases: drf-spectacular would give every subclass's component their text.
class StrictSerializer(serializers.Serializer):  # type: ignore[type-arg]
    # Refuses unknown fields; the OpenAPI schema says so (additionalProperties: false).
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


class StrictInputSerializer(StrictSerializer):
    pass  # the base of every request body and query serializer
