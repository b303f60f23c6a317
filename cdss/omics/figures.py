"""The figures of an omics analysis, drawn with Matplotlib from the structured result alone.

Each figure names its model and version and says "not a medical device". Figures are built on a
``matplotlib.figure.Figure`` (never pyplot's global state), so workers can draw in threads.
"""

from __future__ import annotations

import io
from typing import Any

from matplotlib.figure import Figure
from matplotlib.patches import Patch

DISCLAIMER = "Not a medical device; for decision support only."
_TOWARDS_COLOURS = {"up": "#c0392b", "down": "#2471a3"}


def _png(figure: Figure) -> bytes:
    out = io.BytesIO()
    figure.savefig(out, format="png", dpi=120, bbox_inches="tight")
    return out.getvalue()


def _footer(figure: Figure, result: dict[str, Any]) -> None:
    model = f"{result.get('model_name', '')} {result.get('model_version', '')}".strip()
    figure.text(0.01, 0.005, f"{model}  |  {DISCLAIMER}", fontsize=7, color="#555555")


def features_png(result: dict[str, Any], *, title: str) -> bytes:
    """Horizontal bars of the features that drove the result, largest contribution on top."""
    features = list(result.get("top_features") or [])
    figure = Figure(figsize=(8, max(2.5, 0.32 * len(features) + 1.2)))
    axes = figure.add_subplot()
    if not features:
        axes.text(0.5, 0.5, "No feature contributions", ha="center", va="center")
        axes.set_axis_off()
    else:
        names = [f"{f['layer']}: {f['feature']}" for f in reversed(features)]
        values = [float(f["contribution"]) for f in reversed(features)]
        colours = [_TOWARDS_COLOURS["up" if v > 0 else "down"] for v in values]
        axes.barh(names, values, color=colours)
        axes.axvline(0.0, color="#333333", linewidth=0.8)
        axes.set_xlabel("contribution to the model's score")
        towards = {f["towards"]: f["contribution"] > 0 for f in features}
        axes.legend(
            handles=[
                Patch(color=_TOWARDS_COLOURS["up" if up else "down"], label=f"towards {name}")
                for name, up in sorted(towards.items(), key=lambda item: not item[1])
            ],
            loc="lower right",
            fontsize=8,
        )
        axes.tick_params(axis="y", labelsize=8)
    axes.set_title(title, fontsize=11)
    _footer(figure, result)
    return _png(figure)


def survival_points(result: dict[str, Any]) -> list[dict[str, float]]:
    """The risk group's curve as points: day, survival, 95% band, number at risk."""
    band = result.get("group_survival_band")
    if band:
        return [
            {"day": t, "survival": s, "lower": lo, "upper": hi, "at_risk": n}
            for t, s, lo, hi, n in band
        ]
    return [{"day": t, "survival": s} for t, s in result.get("group_survival_curve") or []]


def survival_png(result: dict[str, Any], *, title: str) -> bytes:
    """The risk group's Kaplan-Meier curve (training patients) with its band and numbers at
    risk underneath; the group's median survival is marked."""
    points = survival_points(result)
    figure = Figure(figsize=(8, 5.2))
    axes = figure.add_axes((0.1, 0.3, 0.85, 0.6))
    days = [p["day"] for p in points]
    axes.step(days, [p["survival"] for p in points], where="post", color="#1a5276", linewidth=2)
    if points and "lower" in points[0]:
        axes.fill_between(
            days,
            [p["lower"] for p in points],
            [p["upper"] for p in points],
            step="post",
            color="#5dade2",
            alpha=0.3,
            label="95% confidence band",
        )
        axes.legend(loc="upper right", fontsize=8)
    median = result.get("group_median_survival_days")
    if median is not None:
        axes.axhline(0.5, color="#999999", linewidth=0.8, linestyle=":")
        axes.axvline(float(median), color="#999999", linewidth=0.8, linestyle=":")
    axes.set_ylim(0.0, 1.02)
    axes.set_xlim(left=0.0)
    axes.set_ylabel("survival probability")
    axes.set_xlabel("days")
    axes.set_title(title, fontsize=11)
    at_risk = result.get("group_at_risk") or []
    if at_risk:
        table = figure.add_axes((0.1, 0.08, 0.85, 0.1), sharex=axes)
        table.set_axis_off()
        table.text(-0.02, 0.5, "at risk", transform=table.transAxes, ha="right", fontsize=8)
        for day, count in at_risk:
            if day <= axes.get_xlim()[1]:
                table.text(day, 0.5, f"{int(count)}", ha="center", va="center", fontsize=8)
    _footer(figure, result)
    return _png(figure)
