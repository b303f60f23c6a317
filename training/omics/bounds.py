"""Per-feature input bounds, learnt from the training data and saved in each model artifact.

The served models are linear: one absurd value (``1e308`` where the training data hold values
in [0, 1]) moves the answer arbitrarily far and can overflow it. The engine refuses any value
outside ``[low, high]``, where, per feature over the training rows: ``median -/+ SPREADS x s``
with ``s`` the larger of the robust SD (1.4826 x the median absolute deviation) and the SD (1 for
a constant feature), widened to the observed training range, so that no value a training patient
had is ever refused, and to the model's declared input scale when it has one (ROSMAP: [0, 1]).
Missing values (NaN) are ignored.

Why 20 and not 10 robust SDs: copy-number values are heavy-tailed. With 10 robust SDs, 74 of the
29,160 held-out TCGA-PAAD test values of the shipped model's features fell outside, and 16 of the
45 test patients would have been refused; with this rule none is (and no ROSMAP test sample),
while ``1e3``, ``1e308`` and raw values on another scale are still refused.
"""

from __future__ import annotations

import warnings

import numpy as np

SPREADS = 20.0
_MAD_TO_SD = 1.4826


def input_bounds(
    x: np.ndarray, declared: tuple[float, float] | None = None
) -> dict[str, list[float]]:
    """``{"low": [...], "high": [...]}``, one entry per column of ``x`` (rows = training samples).

    ``declared``: the model's documented input scale, always accepted.
    """
    x = np.asarray(x, dtype=float)
    if x.ndim != 2:
        raise ValueError(f"expected a 2-D matrix, got shape {x.shape}")
    observed = ~np.isnan(x)
    if not observed.any(axis=0).all():
        empty = np.flatnonzero(~observed.any(axis=0)).tolist()
        raise ValueError(f"columns {empty} have no observed training value: no bounds to learn")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # a column with one value has sd 0
        median = np.nanmedian(x, axis=0)
        mad = np.nanmedian(np.abs(x - median), axis=0) * _MAD_TO_SD
        sd = np.nanstd(x, axis=0)
    spread = np.maximum(mad, sd)
    scale = np.where(spread > 0, spread, 1.0)
    low = np.minimum(np.nanmin(x, axis=0), median - SPREADS * scale)
    high = np.maximum(np.nanmax(x, axis=0), median + SPREADS * scale)
    if declared is not None:
        low, high = np.minimum(low, declared[0]), np.maximum(high, declared[1])
    return {"low": low.tolist(), "high": high.tolist()}


def describe(declared: tuple[float, float] | None = None) -> str:
    """The rule, for the artifact (the engine quotes it in its error messages) and the card."""
    rule = f"median \u00b1 {SPREADS:g} SDs of the training data, widened to its range"
    if declared is not None:
        rule += f" and to the input scale [{declared[0]:g}, {declared[1]:g}]"
    return rule
