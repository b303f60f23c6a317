"""The JSON Schema of a successful ``POST /api/v1/imaging/analyze`` answer, published in model-info
as the imaging engine's ``result_schema``."""

from __future__ import annotations

from typing import Any

from inference.engines.base import JSON_SCHEMA_DIALECT, closed_object

_STRING = {"type": "string"}
_NUMBER = {"type": "number"}
_COUNT = {"type": "integer", "minimum": 0}
_PROBABILITY = {"type": "number", "minimum": 0, "maximum": 1}


def _triple(items: dict[str, Any]) -> dict[str, Any]:
    return {"type": "array", "items": items, "minItems": 3, "maxItems": 3}


_VOLUME = closed_object(
    {
        "shape": _triple({"type": "integer", "minimum": 1}),
        "spacing_mm": _triple(_NUMBER),
        "orientation": _STRING,
        "hu_range": {"type": "array", "items": _NUMBER, "minItems": 2, "maxItems": 2},
        "source_format": _STRING,
    }
)
# One measured structure; ``label`` is the label id in a multi-label map, null for a mask file.
_STRUCTURE = closed_object(
    {
        "name": _STRING,
        "label": {"type": ["integer", "null"]},
        "voxels": _COUNT,
        "volume_ml": _NUMBER,
        "hu_mean": _NUMBER,
        "hu_std": _NUMBER,
        "source": _STRING,
    }
)
# The adrenal classifier's finding on one gland; ``probability`` is null when the gland mask is too
# small to judge (``label`` "not assessed", with a ``note``).
_ADRENAL_FINDING = closed_object(
    {
        "structure": _STRING,
        "finding": {"const": "adrenal mass"},
        "model": {"const": "adrenal-shape-cnn"},
        "input_size": {"type": "integer", "minimum": 1},
        "threshold": _PROBABILITY,
        "gland_volume_ml": _NUMBER,
        "probability": {"anyOf": [_PROBABILITY, {"type": "null"}]},
        "label": {"enum": ["mass", "normal", "not assessed"]},
    },
    {"note": _STRING},
)
# A class probability of a MONAI classification bundle (whole volume, no structure).
_BUNDLE_FINDING = closed_object(
    {
        "structure": {"type": "null"},
        "finding": _STRING,
        "probability": _PROBABILITY,
        "model": _STRING,
    }
)

RESULT_SCHEMA: dict[str, Any] = {
    "$schema": JSON_SCHEMA_DIALECT,
    "title": "imaging: a successful POST /api/v1/imaging/analyze answer",
    **closed_object(
        {
            "volume": _VOLUME,
            "structures": {"type": "array", "items": _STRUCTURE},
            "findings": {"type": "array", "items": {"anyOf": [_ADRENAL_FINDING, _BUNDLE_FINDING]}},
            "notes": {"type": "array", "items": _STRING},
            "model_name": _STRING,
            "model_version": {"type": ["string", "null"]},
            "disclaimer": _STRING,
            # Seconds per stage (load, measure, bundle, classify, total).
            "timings_s": {"type": "object", "additionalProperties": _NUMBER},
        },
        {"bundle": closed_object({"name": _STRING, "version": _STRING})},
    ),
}
