"""Turning one request sample (``{layer: {feature: value}}``) into model-ordered vectors.

Shared by both omics models. Validation errors are ``InvalidInput`` naming the offending field
(``sample.<layer>.<feature>``). Features the model uses but the sample lacks are imputed with the
training mean and counted; names the model does not know are counted and otherwise ignored.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from inference.errors import InvalidInput

_ENSEMBL_VERSION = re.compile(r"^(ENS[A-Z]*\d+)\.\d+$", re.IGNORECASE)


def _aliases(name: str) -> list[str]:
    """Lookup keys of a model feature name: itself lower-cased, and an Ensembl id sans version."""
    keys = [name.lower()]
    match = _ENSEMBL_VERSION.match(name)
    if match:
        keys.append(match.group(1).lower())
    return keys


@dataclass
class LayerSpec:
    """One layer of a model: the features it uses (in order) and the names it accepts."""

    name: str
    features: list[str]
    known: list[str] = field(default_factory=list)  # accepted names; defaults to ``features``
    _lookup: dict[str, str] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        counts: dict[str, int] = {}
        names = self.known or self.features
        for feature in names:
            for key in _aliases(feature):
                counts[key] = counts.get(key, 0) + 1
        # An alias shared by two features (two versions of one gene) is not accepted.
        self._lookup = {
            key: feature for feature in names for key in _aliases(feature) if counts[key] == 1
        }
        self._lookup.update({f.lower(): f for f in names})

    def canonical(self, name: str) -> str | None:
        return self._lookup.get(name.strip().lower())


@dataclass
class ParsedLayer:
    """Values in model order (NaN where imputed) plus what was missing or unknown."""

    values: np.ndarray
    imputed: int
    unknown: int


Converter = Callable[[str, Any, str], float]


def numeric_value(feature: str, value: Any, field_name: str) -> float:
    """A finite number; bools, strings and NaN/inf are refused with the field named."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidInput(
            f"{field_name}: must be a number, got {type(value).__name__}", field=field_name
        )
    number = float(value)
    if not math.isfinite(number):
        raise InvalidInput(f"{field_name}: must be a finite number", field=field_name)
    return number


def parse_layer(
    spec: LayerSpec,
    raw: Any,
    *,
    converter: Converter = numeric_value,
) -> ParsedLayer:
    """Validate ``raw`` (a mapping feature -> value) against ``spec``."""
    where = f"sample.{spec.name}"
    if not isinstance(raw, Mapping):
        raise InvalidInput(
            f"{where}: must be an object mapping feature names to values", field=where
        )
    if not raw:
        raise InvalidInput(
            f"{where}: is empty; leave the layer out if it was not measured", field=where
        )
    index = {name: i for i, name in enumerate(spec.features)}
    values = np.full(len(spec.features), np.nan)
    unknown = 0
    recognized = 0
    for name, value in raw.items():
        if not isinstance(name, str) or not name.strip():
            raise InvalidInput(f"{where}: feature names must be non-empty strings", field=where)
        canonical = spec.canonical(name)
        if canonical is None:
            unknown += 1
            continue
        recognized += 1
        number = converter(canonical, value, f"{where}.{name}")
        if canonical in index:
            values[index[canonical]] = number
    if recognized == 0:
        example = ", ".join(spec.features[:3])
        raise InvalidInput(
            f"{where}: none of its {len(raw)} feature names is known to this model "
            f"(expected names like {example})",
            field=where,
        )
    return ParsedLayer(values, int(np.isnan(values).sum()), unknown)


def check_sample(sample: Any, layers: Mapping[str, LayerSpec]) -> dict[str, Any]:
    """The sample as a mapping of known layer names; refuses unknown layers and empty samples."""
    if not isinstance(sample, Mapping):
        raise InvalidInput(
            "sample: must be an object mapping layer names to features", field="sample"
        )
    unknown = [name for name in sample if name not in layers]
    if unknown:
        raise InvalidInput(
            f"sample.{unknown[0]}: unknown layer; this model takes {sorted(layers)}",
            field=f"sample.{unknown[0]}",
        )
    present = {name: value for name, value in sample.items() if value is not None}
    if not present:
        raise InvalidInput(
            f"sample: no omics layer given; this model takes {sorted(layers)}", field="sample"
        )
    return present


# A layer with more than this share of its features imputed makes the answer low confidence.
IMPUTED_SHARE_LOW = 0.2


def coverage(
    layers: Mapping[str, LayerSpec], present: Mapping[str, Any], imputed: Mapping[str, int]
) -> tuple[list[str], list[str]]:
    """``(missing layers, low-confidence reasons)``: each missing layer, and each present layer
    with more than ``IMPUTED_SHARE_LOW`` of its features imputed."""
    missing = [name for name in layers if name not in present]
    reasons = [f"layer {name} missing" for name in missing]
    reasons += [
        f"{count} of {len(layers[name].features)} {name} features imputed"
        for name, count in imputed.items()
        if count > IMPUTED_SHARE_LOW * len(layers[name].features)
    ]
    return missing, reasons
