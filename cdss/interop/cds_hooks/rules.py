"""What a card says about one stored result: the indicator rules, the summary and the facts.

The indicator is a display priority for the EHR, set here by explicit rules on the stored result,
never by a model and never a diagnosis:

============================  ==============================================  =========
kind                          rule                                            indicator
============================  ==============================================  =========
sequence_batch                a sequence predicted pathogen, p >= 0.9         critical
sequence_batch                a sequence predicted pathogen (p < 0.9)         warning
omics_paad_survival           risk_group == "high"                            warning
omics_rosmap                  predicted_class == "AD"                         warning
ct                            liver lesion_count > 0 or an adrenal "mass"     warning
any                           none of the above, or a result not readable     info
============================  ==============================================  =========

Every number in the facts is read from the stored result and printed as stored (``:g``); the
summary carries labels and counts only. A result whose shape this module cannot read gives an
info card that only points to the result page (no numbers), never an error.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from cdss.interop.models import Indicator

PATHOGEN_CRITICAL_PROBABILITY = 0.9
SUMMARY_MAX_CHARS = 139  # the spec: "<140 characters"
_MAX_SEQUENCE_LINES = 5
_MAX_FEATURES = 3
# Emphasis, code, links, raw HTML and tables: what a string from a result must not turn into.
_MD_SPECIAL = set("\\`*_[]<>|")

KIND_LABELS = {
    "sequence_batch": "Pathogen sequence screen",
    "omics_rosmap": "Alzheimer's omics classifier",
    "omics_paad_survival": "Pancreatic cancer survival model",
    "ct": "CT analysis",
}
CARD_KINDS = tuple(KIND_LABELS)


@dataclass(frozen=True)
class CardContent:
    indicator: str
    summary: str
    # The rule that set the indicator, in words (printed as the rules' part of the detail).
    rule: str
    model_name: str
    model_version: str
    # Markdown list items; each names whether an AI model or a rule produced it.
    facts: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def md(value: Any) -> str:
    """A value from a result as Markdown text: special characters escaped, one line."""
    text = " ".join(str(value).split())
    return "".join("\\" + ch if ch in _MD_SPECIAL else ch for ch in text)


def num(value: Any) -> str:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"not a number: {value!r}")
    return f"{value:g}"


def clip_summary(text: str) -> str:
    text = " ".join(text.split())
    if len(text) <= SUMMARY_MAX_CHARS:
        return text
    return text[: SUMMARY_MAX_CHARS - 1].rstrip() + "…"


def _model(result: dict[str, Any], fallback: tuple[str, str]) -> tuple[str, str]:
    name = str(result.get("model_name") or fallback[0] or "unknown model")
    version = str(result.get("model_version") or fallback[1] or "unknown version")
    return name, version


def _sequences(result: dict[str, Any], model: tuple[str, str]) -> CardContent:
    items = [i for i in result["results"] if i.get("ok")]
    failed = len(result["results"]) - len(items)
    calls = []
    for item in items:
        task1 = item["prediction"]["task1"]
        calls.append((item, bool(task1["is_pathogen"]), float(task1["probability"])))
    pathogens = [c for c in calls if c[1]]
    top = max((p for _, _, p in pathogens), default=None)
    if top is not None and top >= PATHOGEN_CRITICAL_PROBABILITY:
        indicator = Indicator.CRITICAL
        rule = (
            f"a sequence is predicted pathogen with probability ≥ {PATHOGEN_CRITICAL_PROBABILITY}"
        )
    elif pathogens:
        indicator = Indicator.WARNING
        rule = "a sequence is predicted pathogen"
    else:
        indicator = Indicator.INFO
        rule = "no sequence is predicted pathogen"
    summary = (
        f"Pathogen predicted in {len(pathogens)} of {len(items)} sequences"
        if pathogens
        else f"No pathogen predicted in {len(items)} sequences"
    )
    facts = []
    # Pathogen calls first, most probable first: what the clinician must see is never cut off.
    for item, is_pathogen, probability in sorted(calls, key=lambda c: (not c[1], -c[2]))[
        :_MAX_SEQUENCE_LINES
    ]:
        line = (
            f"AI: sequence {md(item.get('id', item.get('index')))}: "
            f"{'pathogen' if is_pathogen else 'not pathogen'}, probability {num(probability)}"
        )
        task2 = item["prediction"].get("task2") or {}
        if task2.get("protein_type"):
            line += f"; protein type {md(task2['protein_type'])} ({num(task2['probability'])})"
        refs = item.get("nearest_references") or []
        if refs:
            ref = refs[0]
            line += (
                f"; nearest reference {md(ref['id'])} {md(ref['name'])} "
                f"({md(ref.get('organism', ''))}), identity {num(ref['identity'])}"
            )
        facts.append(line)
    notes = []
    if len(calls) > _MAX_SEQUENCE_LINES:
        notes.append(f"{len(calls) - _MAX_SEQUENCE_LINES} more sequences on the result page.")
    if failed:
        notes.append(f"{failed} sequences could not be analysed.")
    return CardContent(indicator, summary, rule, *model, facts=facts, notes=notes)


def _omics_common(result: dict[str, Any]) -> list[str]:
    facts = [f"AI: confidence {md(result['confidence'])}"]
    if result.get("confidence_reasons"):
        facts[0] += " (" + "; ".join(md(r) for r in result["confidence_reasons"]) + ")"
    if result.get("missing_layers"):
        facts.append("Missing layers: " + ", ".join(md(x) for x in result["missing_layers"]))
    for feature in result.get("top_features", [])[:_MAX_FEATURES]:
        facts.append(
            f"AI: driving feature {md(feature['layer'])}:{md(feature['feature'])} "
            f"(value {num(feature['value'])}, contribution {num(feature['contribution'])}, "
            f"towards {md(feature['direction'])})"
        )
    return facts


def _rosmap(result: dict[str, Any], model: tuple[str, str]) -> CardContent:
    predicted = str(result["predicted_class"])
    names = {"AD": "Alzheimer's disease (AD)", "NC": "normal control (NC)"}
    if predicted == "AD":
        indicator, rule = Indicator.WARNING, 'the predicted class is "AD"'
    else:
        indicator, rule = Indicator.INFO, f'the predicted class is "{md(predicted)}", not "AD"'
    facts = [
        f"AI: predicted class **{md(predicted)}**, probability {num(result['probability'])}",
        "AI: class probabilities "
        + ", ".join(f"{md(k)} {num(v)}" for k, v in result["probabilities"].items()),
        *_omics_common(result),
    ]
    summary = f"Omics classifier: {names.get(predicted, predicted)} class predicted"
    return CardContent(indicator, summary, rule, *model, facts=facts)


def _paad(result: dict[str, Any], model: tuple[str, str]) -> CardContent:
    group = str(result["risk_group"])
    if group == "high":
        indicator, rule = Indicator.WARNING, 'the risk group is "high"'
    else:
        indicator, rule = Indicator.INFO, f'the risk group is "{md(group)}", not "high"'
    facts = [
        f"AI: risk group **{md(group)}**, risk score {num(result['risk_score'])}, "
        f"percentile {num(result['risk_percentile'])} among the training patients",
    ]
    if result.get("group_median_survival_days") is not None:
        facts.append(
            f"AI: median survival of the group {num(result['group_median_survival_days'])} days"
        )
    survival = result.get("predicted_survival") or {}
    if survival:
        facts.append(
            "AI: predicted survival "
            + ", ".join(f"day {md(day)}: {num(p)}" for day, p in survival.items())
        )
    facts.extend(_omics_common(result))
    notes = [md(result["evidence"])] if result.get("evidence") else []
    summary = f"Pancreatic cancer survival model: {group}-risk group"
    return CardContent(indicator, summary, rule, *model, facts=facts, notes=notes)


def _ct(result: dict[str, Any], model: tuple[str, str]) -> CardContent:
    liver = result["liver"]
    adrenal = result.get("adrenal") or []
    facts: list[str] = []
    lesions = 0
    if liver.get("status") == "segmented":
        source = f"{md(liver.get('model', 'liver model'))} {md(liver.get('version', ''))}".strip()
        lesions = int(liver.get("lesion_count") or 0)
        facts.append(
            f"AI ({source}): liver volume {num(liver['volume_ml'])} mL, "
            f"mean {num(liver['hu_mean'])} HU"
        )
        if "lesion_count" in liver:
            line = f"AI ({source}): {lesions} liver lesion candidates"
            if lesions and "lesion_volume_ml" in liver:
                line += f", total {num(liver['lesion_volume_ml'])} mL"
            diameters = [x["largest_diameter_mm"] for x in liver.get("lesions") or []]
            if diameters:
                line += f", largest diameter {num(max(diameters))} mm"
            facts.append(line)
    else:
        facts.append(f"Liver not segmented ({md(liver.get('reason', 'no reason given'))})")
    masses = [a for a in adrenal if a.get("label") == "mass"]
    for gland in adrenal:
        probability = gland.get("probability")
        facts.append(
            f"AI ({md(gland['model'])}): {md(gland['structure'])}: {md(gland['label'])}"
            + (
                f", probability {num(probability)} (threshold {num(gland['threshold'])})"
                if probability is not None
                else ""
            )
        )
    body = result.get("body_composition") or {}
    l3 = body.get("l3") or {}
    if l3.get("visceral_fat_cm2") is not None:
        facts.append(
            f"Rules ({md(l3.get('method', 'hu_rules'))}): at L3 visceral fat "
            f"{num(l3['visceral_fat_cm2'])} cm², subcutaneous fat "
            f"{num(l3['subcutaneous_fat_cm2'])} cm²"
        )
    if lesions or masses:
        indicator = Indicator.WARNING
        rule = "the liver has lesion candidates or an adrenal gland is labelled mass"
    else:
        indicator = Indicator.INFO
        rule = "no liver lesion candidate and no adrenal mass"
    parts = []
    if liver.get("status") != "segmented":
        parts.append("liver not segmented")
    elif lesions:
        parts.append(f"{lesions} liver lesion candidates")
    if masses:
        parts.append("adrenal mass flagged")
    summary = "CT: " + ("; ".join(parts) if parts else "no liver lesion or adrenal mass flagged")
    notes = [md(n) for n in result.get("notes") or []]
    if liver.get("lesion_caution"):
        notes.append(md(liver["lesion_caution"]))
    return CardContent(indicator, summary, rule, *model, facts=facts, notes=notes)


_BUILDERS: dict[str, Callable[[dict[str, Any], tuple[str, str]], CardContent]] = {
    "sequence_batch": _sequences,
    "omics_rosmap": _rosmap,
    "omics_paad_survival": _paad,
    "ct": _ct,
}


def card_content(
    *, kind: str, result: dict[str, Any], model_fallback: tuple[str, str] = ("", "")
) -> CardContent:
    """The card of one stored result; the fallback names the analysis's model when the result
    does not."""
    model = _model(result, model_fallback) if isinstance(result, dict) else model_fallback
    builder = _BUILDERS.get(kind)
    try:
        if builder is None or not isinstance(result, dict):
            raise KeyError(kind)
        content = builder(result, model)
    except (KeyError, TypeError, ValueError, AttributeError, IndexError):
        content = CardContent(
            Indicator.INFO,
            f"{KIND_LABELS.get(kind, kind)}: result available in CDSS",
            "the result could not be read for a card",
            *model,
        )
    return CardContent(
        content.indicator,
        clip_summary(content.summary),
        content.rule,
        content.model_name,
        content.model_version,
        content.facts,
        content.notes,
    )
