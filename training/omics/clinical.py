"""The clinical covariates of the PAAD risk model and how raw TCGA values become numbers.

The spec is written into the model artifact, and the inference engine applies it from there: a
value is either a number on the encoded scale (or, for ``log1p`` features, the raw count) or one of
the listed strings (lower-cased, a leading "stage " removed). Unknown strings are missing values
(imputed with the training mean), as are the TCGA "not assessable" codes (``mx``, ``nx``, ``rx``).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

CLINICAL_SPEC: list[dict[str, Any]] = [
    {"name": "age_years", "column": "years_to_birth", "transform": "none"},
    {
        "name": "pathologic_stage",
        "column": "pathologic_stage",
        "map": {"ia": 1.0, "ib": 1.5, "iia": 2.0, "iib": 2.5, "iii": 3.0, "iv": 4.0},
    },
    {
        "name": "t_stage",
        "column": "pathology_T_stage",
        "map": {"t1": 1.0, "t2": 2.0, "t3": 3.0, "t4": 4.0},
    },
    {"name": "n_stage", "column": "pathology_N_stage", "map": {"n0": 0.0, "n1": 1.0, "n1b": 1.0}},
    {"name": "m_stage", "column": "pathology_M_stage", "map": {"m0": 0.0, "m1": 1.0}},
    {"name": "sex_male", "column": "gender", "map": {"female": 0.0, "male": 1.0}},
    {"name": "radiation_therapy", "column": "radiation_therapy", "map": {"no": 0.0, "yes": 1.0}},
    {
        "name": "residual_tumor",
        "column": "residual_tumor",
        "map": {"r0": 0.0, "r1": 1.0, "r2": 2.0},
    },
    {"name": "lymph_nodes_positive", "column": "number_of_lymph_nodes", "transform": "log1p"},
]
NOT_ASSESSABLE = {"mx", "nx", "rx", ""}


def normalize_token(value: str) -> str:
    token = value.strip().lower()
    return token.removeprefix("stage ").strip()


def encode_value(spec: dict[str, Any], value: Any) -> float:
    """One raw value -> its encoded number; NaN when missing or not assessable."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return math.nan
    if isinstance(value, str):
        token = normalize_token(value)
        try:
            value = float(token)
        except ValueError:
            return float(spec.get("map", {}).get(token, math.nan))
    number = float(value)
    if spec.get("transform") == "log1p":
        return math.log1p(number) if number >= 0 else math.nan
    return number


def encode_clinical(table: pd.DataFrame) -> np.ndarray:
    """Encode the TCGA clinical table (one row per patient) into ``len(CLINICAL_SPEC)`` columns."""
    columns = [
        [encode_value(spec, raw) for raw in table[spec["column"]].tolist()]
        for spec in CLINICAL_SPEC
    ]
    return np.asarray(columns, dtype=float).T


def clinical_feature_names() -> list[str]:
    return [spec["name"] for spec in CLINICAL_SPEC]
