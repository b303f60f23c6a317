"""The JSON Schemas of successful ``POST /api/v1/imaging/analyze`` and ``/api/v1/imaging/ct``
answers, published together in model-info as the imaging engine's ``result_schema``."""

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

ANALYZE_SCHEMA: dict[str, Any] = {
    "title": "a successful POST /api/v1/imaging/analyze answer",
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

_NULLABLE_NUMBER = {"type": ["number", "null"]}
_CT_VOLUME = closed_object(
    {
        **_VOLUME["properties"],
        "series_description": {"type": ["string", "null"]},
        "slices": {"type": "integer", "minimum": 1},
    }
)
_CT_LABEL = closed_object(
    {
        "id": {"type": "integer", "minimum": 1, "maximum": 255},
        "name": _STRING,
        "colour": {"type": "string", "pattern": "^#[0-9a-f]{6}$"},
        "source": {"enum": ["hu_rules", "liver_unet"]},
    }
)
_L3 = closed_object(
    {
        "slice": {"type": ["integer", "null"], "minimum": 0},
        "z_mm": _NULLABLE_NUMBER,
        "method": {"enum": ["segmentation", "hu_rules", "not found"]},
        "note": {"type": ["string", "null"]},
        "subcutaneous_fat_cm2": _NULLABLE_NUMBER,
        "visceral_fat_cm2": _NULLABLE_NUMBER,
    }
)
_BODY = closed_object(
    {
        "body_volume_ml": _NUMBER,
        "subcutaneous_fat_ml": _NUMBER,
        "visceral_fat_ml": _NUMBER,
        "l3": _L3,
        "muscle": _STRING,
    }
)
_LESION = closed_object(
    {
        "index": {"type": "integer", "minimum": 1},
        "volume_ml": _NUMBER,
        "largest_diameter_mm": _NUMBER,
        "hu_mean": _NUMBER,
        "centroid_mm": _triple(_NUMBER),
    }
)
_LIVER = {
    "anyOf": [
        closed_object({"status": {"const": "not segmented"}, "reason": _STRING}),
        closed_object(
            {
                "status": {"const": "segmented"},
                "model": _STRING,
                "version": _STRING,
                "volume_ml": _NUMBER,
                "hu_mean": _NUMBER,
                "lesion_count": _COUNT,
                "lesion_volume_ml": _NUMBER,
                "lesions": {"type": "array", "items": _LESION},
                "lesion_caution": _STRING,
            }
        ),
    ]
}
_CT_FINDING = closed_object(
    {
        "code": _STRING,
        "text": _STRING,
        "values": {"type": "object", "additionalProperties": _NUMBER},
        "source": _STRING,
    }
)
_MODEL = closed_object({"name": _STRING, "version": _STRING, "role": _STRING})
_ARTIFACT = closed_object(
    {
        "name": {"enum": ["slices.png", "segmentation.nii.gz", "mesh.json", "volume.nii.gz"]},
        "content_type": _STRING,
        "bytes": _COUNT,
    }
)
CT_SCHEMA: dict[str, Any] = {
    "title": "a successful POST /api/v1/imaging/ct answer",
    **closed_object(
        {
            "volume": _CT_VOLUME,
            "labels": {"type": "array", "items": _CT_LABEL},
            "structures": {"type": "array", "items": _STRUCTURE},
            "body_composition": _BODY,
            "liver": _LIVER,
            "adrenal": {"type": "array", "items": _ADRENAL_FINDING},
            "findings": {"type": "array", "items": _CT_FINDING},
            "models": {"type": "array", "items": _MODEL},
            "artifacts": {"type": "array", "items": _ARTIFACT},
            "notes": {"type": "array", "items": _STRING},
            "model_name": _STRING,
            "model_version": {"type": ["string", "null"]},
            "disclaimer": _STRING,
            "timings_s": {"type": "object", "additionalProperties": _NUMBER},
        },
        {"bundle": closed_object({"name": _STRING, "version": _STRING})},
    ),
}

# The engine has two routes; an answer of either matches exactly one of these.
RESULT_SCHEMA: dict[str, Any] = {
    "$schema": JSON_SCHEMA_DIALECT,
    "title": "imaging: a successful POST /api/v1/imaging/analyze or /api/v1/imaging/ct answer",
    "oneOf": [ANALYZE_SCHEMA, CT_SCHEMA],
}
