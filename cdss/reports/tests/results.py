"""Results of each interpretable kind, in their declared shapes, for the tests."""

from __future__ import annotations

from typing import Any

DISCLAIMER = "Not a medical device; for decision support only."

_FEATURES = [
    {
        "layer": "mrna",
        "feature": "APOE",
        "value": 2.31,
        "contribution": 0.412,
        "direction": "AD",
    },
    {
        "layer": "mirna",
        "feature": "hsa-miR-132",
        "value": -1.2,
        "contribution": -0.2,
        "direction": "NC",
    },
]

_OMICS_COMMON: dict[str, Any] = {
    "ok": True,
    "sample_id": "S1",
    "top_features": _FEATURES,
    "layers_used": ["mrna", "meth", "mirna"],
    "missing_layers": [],
    "missing_layer": False,
    "confidence": "normal",
    "confidence_reasons": [],
    "disclaimer": DISCLAIMER,
}

ROSMAP: dict[str, Any] = {
    **_OMICS_COMMON,
    "model": "rosmap",
    "model_name": "rosmap-omics",
    "model_version": "2026.11.0",
    "predicted_class": "AD",
    "probability": 0.8234,
    "probabilities": {"AD": 0.8234, "NC": 0.1766},
}

PAAD: dict[str, Any] = {
    **_OMICS_COMMON,
    "model": "tcga_paad",
    "model_name": "tcga-paad-cox",
    "model_version": "2026.11.0",
    "top_features": [
        {
            "layer": "cnv",
            "feature": "KRAS",
            "value": 1.0,
            "contribution": 0.31,
            "direction": "higher risk",
        }
    ],
    "risk_score": 0.6421,
    "risk_group": "high",
    "risk_percentile": 0.81,
    "group_median_survival_days": 412.0,
    "group_size": {"patients": 70, "deaths": 51},
    "predicted_survival": {"365": 0.52, "730": 0.21, "1095": 0.11},
    "survival_curve": [{"day": 0.0, "survival": 1.0}, {"day": 400.0, "survival": 0.5}],
    "at_risk": [[0.0, 70.0], [365.0, 30.0]],
    "evidence": (
        "Weak evidence: C-index 0.48 on the 45-patient test split and 0.56 in repeated "
        "cross-validation (0.5 is chance). Group-level curve, not a personal prognosis."
    ),
}


def _item(index: int, probability: float) -> dict[str, Any]:
    return {
        "ok": True,
        "index": index,
        "id": f"s{index + 1}",
        "model_name": "pathogen-seq",
        "model_version": "2026.11.0",
        "translation": {
            "protein_sequence": "MFVF",
            "info": {"input_type": "protein", "length": 50},
        },
        "prediction": {
            "task1": {"is_pathogen": probability >= 0.5, "probability": probability},
            "task2": {"protein_type": "spike", "probability": 0.91},
            "task3": {"top_predictions": [["Spike glycoprotein", 0.88]]},
        },
        "task3_structure": {
            "protein_name": "Spike glycoprotein",
            "top1_probability": 0.88,
            "uniprot_hits": [],
        },
        "nearest_references": [
            {
                "id": "P0DTC2",
                "name": "Spike glycoprotein",
                "organism": "SARS-CoV-2",
                "identity": 0.9712,
                "coverage": 0.8845,
                "score": 240,
                "label": "Spike glycoprotein",
                "structure": {},
            }
        ],
        "confidence": "high",
        "disclaimer": DISCLAIMER,
    }


def sequence_batch(*probabilities: float) -> dict[str, Any]:
    items = [_item(i, p) for i, p in enumerate(probabilities)]
    return {
        "ok": True,
        "batch": True,
        "model_name": "pathogen-seq",
        "model_version": "2026.11.0",
        "count": len(items),
        "ok_count": len(items),
        "failed_count": 0,
        "results": items,
    }


CT: dict[str, Any] = {
    "ok": True,
    "volume": {
        "shape": [512, 512, 120],
        "spacing_mm": [0.8, 0.8, 2.5],
        "orientation": "RAS",
        "hu_range": [-1024.0, 2048.0],
        "source_format": "nifti",
        "series_description": None,
        "slices": 120,
    },
    "labels": [{"id": 1, "name": "liver", "colour": "#aa5500", "source": "liver_unet"}],
    "structures": [
        {
            "name": "liver",
            "label": 1,
            "voxels": 1000,
            "volume_ml": 1532.4,
            "hu_mean": 58.2,
            "hu_std": 12.0,
            "source": "liver_unet",
        }
    ],
    "body_composition": {
        "body_volume_ml": 25000.0,
        "subcutaneous_fat_ml": 5400.0,
        "visceral_fat_ml": 2100.0,
        "l3": {
            "slice": 40,
            "z_mm": 100.0,
            "method": "hu_rules",
            "note": None,
            "subcutaneous_fat_cm2": 182.4,
            "visceral_fat_cm2": 96.1,
        },
        "muscle": "not measured",
    },
    "liver": {
        "status": "segmented",
        "model": "liver-unet",
        "version": "1.0",
        "volume_ml": 1532.4,
        "hu_mean": 58.2,
        "lesion_count": 2,
        "lesion_volume_ml": 12.3,
        "lesions": [],
    },
    "adrenal": [
        {
            "structure": "adrenal_gland_left",
            "finding": "adrenal screen",
            "model": "adrenal-cnn",
            "input_size": 64,
            "threshold": 0.5,
            "gland_volume_ml": 4.2,
            "probability": 0.12,
            "label": "normal",
        }
    ],
    "findings": [
        {
            "code": "liver_volume",
            "text": "Liver volume 1532.4 mL.",
            "values": {"volume_ml": 1532.4},
            "source": "liver-unet 1.0",
        }
    ],
    "models": [{"name": "liver-unet", "version": "1.0", "role": "liver"}],
    "notes": [],
    "model_name": "cdss-ct",
    "model_version": "2026.11.0",
    "disclaimer": DISCLAIMER,
    "timings_s": {"total": 12.5},
}

RESULTS: dict[str, dict[str, Any]] = {
    "omics_rosmap": ROSMAP,
    "omics_paad_survival": PAAD,
    "sequence_batch": sequence_batch(0.9731),
    "sequence_batch:many": sequence_batch(0.9731, 0.12, 0.77),
    "ct": CT,
}
