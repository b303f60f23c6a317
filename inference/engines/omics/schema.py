"""The JSON Schema of a successful ``POST /api/v1/omics/predict`` answer (one sample, a JSON
batch or a CSV table), published in model-info as the omics engine's ``result_schema``."""

from __future__ import annotations

from typing import Any

from inference.engines.base import JSON_SCHEMA_DIALECT, closed_object

_STRING = {"type": "string"}
_NUMBER = {"type": "number"}
_COUNT = {"type": "integer", "minimum": 0}
_PROBABILITY = {"type": "number", "minimum": 0, "maximum": 1}
_STRINGS = {"type": "array", "items": _STRING}
_COUNTS_BY_LAYER = {"type": "object", "additionalProperties": _COUNT}


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/$defs/{name}"}


# Fields every result carries, whichever model answered it.
_COMMON: dict[str, Any] = {
    "top_features": {"type": "array", "items": _ref("feature")},
    "layers_used": _STRINGS,
    "missing_layers": _STRINGS,
    "imputed_features": _COUNTS_BY_LAYER,
    "unknown_features": _COUNTS_BY_LAYER,
    "confidence": {"enum": ["normal", "low"]},
    "confidence_reasons": _STRINGS,
    "model_name": _STRING,
    "model_version": {"type": ["string", "null"]},
    "disclaimer": _STRING,
}
_ROSMAP: dict[str, Any] = {
    "model": {"const": "rosmap"},
    "label": _STRING,
    "probabilities": {"type": "object", "additionalProperties": _PROBABILITY},
    "logit": _NUMBER,
    **_COMMON,
}
_PAAD: dict[str, Any] = {
    "model": {"const": "tcga_paad"},
    "risk_score": _NUMBER,
    "risk_percentile": _PROBABILITY,
    "risk_group": {"enum": ["high", "low"]},
    # Kaplan-Meier steps of the risk group's training patients: [day, survival probability].
    "group_survival_curve": {
        "type": "array",
        "items": {
            "type": "array",
            "prefixItems": [_NUMBER, _PROBABILITY],
            "minItems": 2,
            "maxItems": 2,
        },
    },
    # The same curve with its pointwise 95% band (Greenwood, log-log) and the number at risk:
    # [day, survival, lower, upper, at risk]. Null for an artifact trained before bands existed.
    "group_survival_band": {
        "type": ["array", "null"],
        "items": {
            "type": "array",
            "prefixItems": [_NUMBER, _PROBABILITY, _PROBABILITY, _PROBABILITY, _NUMBER],
            "minItems": 5,
            "maxItems": 5,
        },
    },
    # The table under the plot: [day, patients still followed].
    "group_at_risk": {
        "type": ["array", "null"],
        "items": {
            "type": "array",
            "prefixItems": [_NUMBER, _NUMBER],
            "minItems": 2,
            "maxItems": 2,
        },
    },
    "group_median_survival_days": {"type": ["number", "null"]},
    "group_size": closed_object({"patients": _COUNT, "deaths": _COUNT}),
    # Survival probability at each horizon, keyed by the horizon in days ("365", "730").
    "predicted_survival": {"type": "object", "additionalProperties": _PROBABILITY},
    **_COMMON,
}
# A batch item sits at ``index`` of the request; a table row's ``id`` comes with it.
_PLACE: dict[str, Any] = {"index": _COUNT}
_ROW_ID = {"id": _STRING}

RESULT_SCHEMA: dict[str, Any] = {
    "$schema": JSON_SCHEMA_DIALECT,
    "title": "omics: a successful POST /api/v1/omics/predict answer",
    "description": (
        "One sample ({model, sample}) is answered with 'rosmap' or 'tcga_paad'; a batch "
        "({model, samples} or a CSV file) with 'batch', where each sample is a result or an "
        "error of its own."
    ),
    "oneOf": [_ref("rosmap"), _ref("tcga_paad"), _ref("batch")],
    "$defs": {
        "feature": closed_object(
            {
                "layer": _STRING,
                "feature": _STRING,
                "value": _NUMBER,
                "contribution": _NUMBER,
                "towards": _STRING,
            }
        ),
        "rosmap": closed_object({"ok": {"const": True}, **_ROSMAP}),
        "tcga_paad": closed_object({"ok": {"const": True}, **_PAAD}),
        "item_rosmap": closed_object({"ok": {"const": True}, **_PLACE, **_ROSMAP}, _ROW_ID),
        "item_tcga_paad": closed_object({"ok": {"const": True}, **_PLACE, **_PAAD}, _ROW_ID),
        "item_error": closed_object(
            {"ok": {"const": False}, **_PLACE, "error": _STRING}, {"field": _STRING, **_ROW_ID}
        ),
        "batch": closed_object(
            {
                "ok": {"const": True},
                "model": {"enum": ["rosmap", "tcga_paad"]},
                "count": _COUNT,
                "failed": _COUNT,
                "results": {
                    "type": "array",
                    "items": {
                        "oneOf": [
                            _ref("item_rosmap"),
                            _ref("item_tcga_paad"),
                            _ref("item_error"),
                        ]
                    },
                },
                "model_name": _STRING,
                "model_version": {"type": ["string", "null"]},
                "disclaimer": _STRING,
            }
        ),
    },
}
