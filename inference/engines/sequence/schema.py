"""The JSON Schema of a successful ``POST /api/v1/predict`` answer (one sequence or a batch),
published in model-info as the sequence engine's ``result_schema``."""

from __future__ import annotations

from typing import Any

from inference.engines.base import JSON_SCHEMA_DIALECT, closed_object

_STRING = {"type": "string"}
_NULLABLE_STRING = {"type": ["string", "null"]}
_INTEGER = {"type": "integer"}
_COUNT = {"type": "integer", "minimum": 0}
_PROBABILITY = {"type": "number", "minimum": 0, "maximum": 1}


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/$defs/{name}"}


def _array(items: dict[str, Any]) -> dict[str, Any]:
    return {"type": "array", "items": items}


_STRUCTURE = closed_object(
    {
        "source": {"enum": ["pdb", "alphafold", None]},
        "id": _NULLABLE_STRING,
        "url": _NULLABLE_STRING,
        "local_file": _NULLABLE_STRING,
    }
)
_UNIPROT_HIT = closed_object(
    {
        "uniprot_id": _STRING,
        "protein_name": _STRING,
        "organism": _STRING,
        "preferred_3d": {"anyOf": [_ref("structure"), {"type": "null"}]},
    }
)
_REFERENCE = closed_object(
    {
        "id": _STRING,
        "name": _STRING,
        "organism": _STRING,
        "identity": _PROBABILITY,
        "coverage": _PROBABILITY,
        "score": _INTEGER,
        "label": _STRING,
        "structure": _ref("structure"),
    }
)
_TRANSLATION = closed_object(
    {
        "protein_sequence": _STRING,
        "info": closed_object(
            {"input_type": {"enum": ["protein", "dna", "rna"]}, "length": _COUNT},
            {
                "nucleotide_length": _COUNT,
                "frame": {"type": "integer", "minimum": 0, "maximum": 5},
                "frame_source": {"enum": ["given", "longest_orf"]},
                "orf_type": {"enum": ["atg", "stop_to_stop"]},
                "strand": {"enum": ["+", "-"]},
                "orf_start": _COUNT,
                "orf_end": _COUNT,
                "ends_with_stop_codon": {"type": "boolean"},
            },
        ),
    }
)
_PREDICTION = closed_object(
    {
        "task1": closed_object({"is_pathogen": {"type": "boolean"}, "probability": _PROBABILITY}),
        "task2": closed_object(
            {"protein_type": _STRING, "probability": _PROBABILITY}, {"best_guess": _STRING}
        ),
        "task3": closed_object(
            {
                # [label, probability] pairs, most probable first.
                "top_predictions": _array(
                    {
                        "type": "array",
                        "prefixItems": [_STRING, _PROBABILITY],
                        "minItems": 2,
                        "maxItems": 2,
                    }
                )
            }
        ),
    }
)
_TASK3_STRUCTURE = closed_object(
    {
        "protein_name": _STRING,
        "top1_probability": _PROBABILITY,
        "uniprot_hits": _array(_ref("uniprot_hit")),
    }
)
# What every prediction carries, alone or as a batch item.
_PREDICTION_FIELDS: dict[str, Any] = {
    "model_name": _NULLABLE_STRING,
    "model_version": _NULLABLE_STRING,
    "translation": _ref("translation"),
    "prediction": _ref("prediction"),
    "task3_structure": _ref("task3_structure"),
    "nearest_references": _array(_ref("reference")),
    "confidence": {"enum": ["high", "low", "unknown"]},
    "disclaimer": _STRING,
}
_ITEM_PLACE = {"index": _COUNT, "id": {"description": "the item's id as sent (any JSON value)"}}

RESULT_SCHEMA: dict[str, Any] = {
    "$schema": JSON_SCHEMA_DIALECT,
    "title": "sequence: a successful POST /api/v1/predict answer",
    "description": (
        "One sequence ({sequence, ...}) is answered with 'single'; a batch ({items: [...]}) with "
        "'batch', where each item is a prediction or an error of its own."
    ),
    "oneOf": [_ref("single"), _ref("batch")],
    "$defs": {
        "structure": _STRUCTURE,
        "uniprot_hit": _UNIPROT_HIT,
        "reference": _REFERENCE,
        "translation": _TRANSLATION,
        "prediction": _PREDICTION,
        "task3_structure": _TASK3_STRUCTURE,
        "single": closed_object({"ok": {"const": True}, **_PREDICTION_FIELDS}),
        "item_ok": closed_object({"ok": {"const": True}, **_ITEM_PLACE, **_PREDICTION_FIELDS}),
        "item_error": closed_object(
            {"ok": {"const": False}, **_ITEM_PLACE, "error": _STRING}, {"field": _STRING}
        ),
        "batch": closed_object(
            {
                "ok": {"const": True},
                "batch": {"const": True},
                "model_name": _NULLABLE_STRING,
                "model_version": _NULLABLE_STRING,
                "count": _COUNT,
                "succeeded": _COUNT,
                "failed": _COUNT,
                "disclaimer": _STRING,
                "results": _array(
                    {"oneOf": [_ref("item_ok"), _ref("item_error")]},
                ),
            }
        ),
    },
}
