"""Ridge-penalized Cox proportional hazards, written out in numpy (Breslow ties).

Small and exact enough for n ~ 100: the penalized negative log partial likelihood is minimized
with L-BFGS. Also here: the univariate score statistic used for feature screening, the Breslow
baseline survival, and Kaplan-Meier curves. Harrell's C-index comes from lifelines.
"""

from __future__ import annotations

import math

import numpy as np
from lifelines.utils import concordance_index  # type: ignore[import-untyped]
from scipy.optimize import minimize


def _order(time: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Sort by decreasing time; for each sorted row, the last index of its tie group.

    With rows in decreasing time, the risk set of row i (all j with t_j >= t_i) is the prefix up to
    the last row that ties with i.
    """
    order = np.argsort(-time, kind="stable")
    sorted_time = time[order]
    last = np.searchsorted(-sorted_time, -sorted_time, side="right") - 1
    return order, last


def fit_ridge_cox(x: np.ndarray, time: np.ndarray, event: np.ndarray, penalty: float) -> np.ndarray:
    """Coefficients minimizing -loglik/n + penalty/2 * ||beta||^2 (no intercept in Cox)."""
    n, p = x.shape
    order, last = _order(time)
    xs, es = x[order], event[order].astype(float)

    def objective(beta: np.ndarray) -> tuple[float, np.ndarray]:
        eta = xs @ beta
        shift = eta.max()
        w = np.exp(eta - shift)
        cum_w = np.cumsum(w)[last]
        cum_wx = np.cumsum(w[:, None] * xs, axis=0)[last]
        loglik = np.sum(es * (eta - shift - np.log(cum_w)))
        grad = np.sum(es[:, None] * (xs - cum_wx / cum_w[:, None]), axis=0)
        return -loglik / n + 0.5 * penalty * beta @ beta, -grad / n + penalty * beta

    result = minimize(objective, np.zeros(p), jac=True, method="L-BFGS-B")
    return np.asarray(result.x)


def score_statistics(x: np.ndarray, time: np.ndarray, event: np.ndarray) -> np.ndarray:
    """Per column, the standardized univariate Cox score test statistic at beta = 0."""
    order, last = _order(time)
    xs, es = x[order], event[order].astype(float)
    at_risk = (np.arange(1, len(time) + 1)[last]).astype(float)[:, None]
    mean = np.cumsum(xs, axis=0)[last] / at_risk
    var = np.cumsum(xs**2, axis=0)[last] / at_risk - mean**2
    u = np.sum(es[:, None] * (xs - mean), axis=0)
    v = np.sum(es[:, None] * var, axis=0)
    return np.asarray(u / np.sqrt(v + 1e-12))


def harrell_c(risk: np.ndarray, time: np.ndarray, event: np.ndarray) -> float:
    """Harrell's C: the share of comparable pairs where the higher risk dies first."""
    return float(concordance_index(time, -risk, event))


def breslow_baseline(
    lp: np.ndarray, time: np.ndarray, event: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Event times and baseline survival S0(t) for linear predictor ``lp`` (S = S0 ** exp(lp))."""
    times = np.unique(time[event == 1])
    risk = np.exp(lp)
    hazard = np.array([event[time == t].sum() / risk[time >= t].sum() for t in times])
    return times, np.exp(-np.cumsum(hazard))


def kaplan_meier(time: np.ndarray, event: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Times (0 first) and the Kaplan-Meier survival just after each distinct event time."""
    times = np.unique(time[event == 1])
    surv, s = [1.0], 1.0
    for t in times:
        at_risk = np.sum(time >= t)
        s *= 1.0 - np.sum((time == t) & (event == 1)) / at_risk
        surv.append(s)
    return np.concatenate([[0.0], times]), np.asarray(surv)


def kaplan_meier_band(
    time: np.ndarray, event: np.ndarray, z: float = 1.959964
) -> list[list[float]]:
    """The Kaplan-Meier curve with its pointwise 95% band: ``[t, S, lower, upper, at_risk]`` at 0
    and after each distinct event time. Greenwood's variance, on the log(-log) scale so the band
    stays inside [0, 1]; ``at_risk`` is the number still followed just before ``t``."""
    out = [[0.0, 1.0, 1.0, 1.0, float(len(time))]]
    s, greenwood = 1.0, 0.0
    for t in np.unique(time[event == 1]):
        at_risk = float(np.sum(time >= t))
        deaths = float(np.sum((time == t) & (event == 1)))
        s *= 1.0 - deaths / at_risk
        if at_risk > deaths:
            greenwood += deaths / (at_risk * (at_risk - deaths))
        if 0.0 < s < 1.0 and greenwood > 0.0:
            spread = z * math.sqrt(greenwood) / abs(math.log(s))
            lower, upper = s ** math.exp(spread), s ** math.exp(-spread)
        else:
            lower = upper = s
        out.append([float(t), s, lower, upper, at_risk])
    return out


def at_risk_table(time: np.ndarray, horizons: tuple[float, ...]) -> list[list[float]]:
    """``[t, number still followed at t]`` for each horizon (the table under a survival plot)."""
    return [[float(h), float(np.sum(time >= h))] for h in horizons]


def survival_at(times: np.ndarray, surv: np.ndarray, t: float) -> float:
    """Step-function value of a survival curve at time ``t`` (curve starts at times[0])."""
    idx = int(np.searchsorted(times, t, side="right")) - 1
    return float(surv[idx]) if idx >= 0 else 1.0
