"""Turning one request sample (``{layer: {feature: value}}``) into model-ordered vectors.

Shared by both omics models. Validation errors are ``InvalidInput`` naming the offending field
(``sample.<layer>.<feature>``); a bad *value* is an ``InvalidValue`` that also carries the layer
and the name the caller used, so a table upload can name its row and column. A value must be a
finite number within the feature's input bounds (learnt from the training data, stored in the
artifact): the models are linear, and one absurd value would move the answer arbitrarily far.
Features the model uses but the sample lacks are imputed with the training mean and counted; names
the model does not know are counted and otherwise ignored.
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


class InvalidValue(InvalidInput):
    """A value a model cannot take, with its place: ``layer`` and the feature ``name`` as sent.

    ``index`` is set by a batch that fails as a whole (a table upload) to the sample's position.
    """

    def __init__(self, layer: str, name: str, reason: str) -> None:
        where = f"sample.{layer}.{name}"
        super().__init__(f"{where}: {reason}", field=where)
        self.layer = layer
        self.name = name
        self.reason = reason
        self.index: int | None = None


@dataclass(frozen=True)
class InputBounds:
    """Per-feature ``[low, high]`` on the model's input scale, aligned with ``LayerSpec.features``.

    ``rule`` says how they were learnt; ``log1p`` names features whose model input is
    ``log1p(value)`` (their bounds are shown to the caller on the value's own scale).
    """

    low: np.ndarray
    high: np.ndarray
    rule: str
    log1p: frozenset[str] = frozenset()

    @classmethod
    def from_artifact(
        cls, raw: Any, n_features: int, rule: str, where: str, log1p: frozenset[str] = frozenset()
    ) -> InputBounds:
        """Read ``{"low": [...], "high": [...]}``; a missing or malformed entry is a ValueError."""
        if not isinstance(raw, Mapping) or "low" not in raw or "high" not in raw:
            raise ValueError(f"{where}: no input_bounds")
        low, high = np.asarray(raw["low"], float), np.asarray(raw["high"], float)
        if low.shape != (n_features,) or high.shape != (n_features,):
            raise ValueError(f"{where}: input_bounds do not match the {n_features} features")
        if not (np.all(np.isfinite(low)) and np.all(np.isfinite(high)) and np.all(low <= high)):
            raise ValueError(f"{where}: input_bounds must be finite with low <= high")
        return cls(low, high, rule, log1p)

    def check(self, values: np.ndarray, spec: LayerSpec, raw: Mapping[str, Any]) -> None:
        """Refuse the first value (in feature order) outside its bounds; NaN (imputed) passes.

        ``raw`` is the layer as sent, to name the feature as the caller spelled it.
        """
        outside = (values < self.low) | (values > self.high)
        if not outside.any():
            return
        i = int(np.flatnonzero(outside)[0])
        feature, number = spec.features[i], float(values[i])
        sent_as = next((name for name in raw if spec.canonical(name) == feature), feature)
        low, high = float(self.low[i]), float(self.high[i])
        if feature in self.log1p:  # shown on the scale the caller sent (a count)
            low, high, number = max(math.expm1(low), 0.0), math.expm1(high), math.expm1(number)
        raise InvalidValue(
            spec.name,
            sent_as,
            f"{number:.6g} is outside the accepted range [{low:.6g}, {high:.6g}] for this "
            f"feature ({self.rule}); check the units and scaling",
        )


@dataclass
class LayerSpec:
    """One layer of a model: the features it uses (in order), the names it accepts, and the
    bounds of its values."""

    name: str
    features: list[str]
    known: list[str] = field(default_factory=list)  # accepted names; defaults to ``features``
    bounds: InputBounds | None = None
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
    try:
        number = float(value)
    except OverflowError:  # an int beyond the float range
        number = math.inf
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
        field_name = f"{where}.{name}"
        try:
            number = converter(canonical, value, field_name)
        except InvalidValue:
            raise
        except InvalidInput as exc:
            reason = exc.message.removeprefix(f"{field_name}: ")
            raise InvalidValue(spec.name, name, reason) from None
        if canonical in index:
            values[index[canonical]] = number
    if spec.bounds is not None:
        spec.bounds.check(values, spec, raw)
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
