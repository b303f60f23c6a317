"""Checks a generated interpretation against the facts of its result, before anything is stored.

A text passes only if (1) it is a plain answer of sensible length in the asked language;
(2) every number in it is one of the result's numbers, as written or rounded, or as a percent of
a fraction (0.823 -> "82%", "82.3 %"); (3) each label the result states is named and is neither
negated nor swapped for its opposite ("benign" for "malignant", "non-pathogenic" for
"pathogenic", "NC" for "AD", "low risk" for "high risk"); a clinical label the result never
states (malignant, benign, cancer...) is an invented one; (4) the disclaimer is kept. The
problems are returned as short English reasons, stored with the interpretation when it falls
back to the template.
"""

from __future__ import annotations

import math
import re

from cdss.reports.facts import DISCLAIMER_CORE, Facts

MIN_CHARS = 40
MAX_CHARS = 2000
# A number as written: 0.82, 1,234.5, 82 %, 82퍼센트, -0.31.
_NUMBER = re.compile(
    r"(?<![\w.])(?P<sign>[-\u2212])?(?P<digits>\d{1,3}(?:,\d{3})+|\d+)(?P<decimals>\.\d+)?"
    r"(?P<percent>\s*(?:%|퍼센트|percent\b))?"
)
# Labels a result may state; one named in a text whose result never says it is invented.
_CLINICAL_LABELS = {
    "en": r"\bmalignan\w*|\bbenign\b|\bcancer\w*|\bcarcinoma\w*|\bmetasta\w*|\btumou?r\w*",
    "ko": r"악성|양성|전이|종양",
}
_HANGUL = re.compile(r"[\uac00-\ud7a3]")
_LATIN = re.compile(r"[A-Za-z]")


def _matches(written: float, decimals: int, percent: bool, allowed: tuple[float, ...]) -> bool:
    """Whether a written number (signed) is one of ``allowed`` rounded to the decimals written, or
    a fraction of one written as a percent ("82" or "82%" for 0.82)."""
    tolerance = 0.5 * 10**-decimals + 1e-9
    for value in allowed:
        forms = [value, value * 100] if abs(value) <= 1 else [value]
        for form in forms:
            if decimals == 0 and abs(form) < 10 and not percent:
                # Small whole numbers are exact: "1" must not pass for 0.82, nor "3" for 2.6.
                if math.isclose(form, written, abs_tol=1e-9):
                    return True
            elif abs(form - written) <= tolerance:
                return True
    return False


def _strip_known(text: str, facts: Facts) -> str:
    """The text without the model's name and version, whose digits are not the result's numbers."""
    for known in sorted({facts.model_name, facts.model_version} - {""}, key=len, reverse=True):
        text = text.replace(known, " ")
    return text


def check_numbers(text: str, facts: Facts) -> list[str]:
    problems = []
    for match in _NUMBER.finditer(_strip_known(text, facts)):
        digits = match["digits"].replace(",", "")
        decimals = len(match["decimals"]) - 1 if match["decimals"] else 0
        written = float(digits + (match["decimals"] or ""))
        if match["sign"]:
            written = -written
        if not _matches(written, decimals, bool(match["percent"]), facts.numbers):
            problems.append(f"number {match.group(0).strip()!r} is not in the result")
    return problems


def check_labels(text: str, facts: Facts, language: str) -> list[str]:
    problems = []
    body = _strip_known(text, facts)
    for label in facts.labels:
        if not re.search(label.stated[language], body, re.IGNORECASE):
            problems.append(f"the label {label.name!r} is not stated")
        found = re.search(label.forbidden[language], body, re.IGNORECASE)
        if found:
            problems.append(
                f"the label {label.name!r} is negated or swapped ({found.group(0).strip()!r})"
            )
    said = " ".join(facts.sentences["en"] + facts.sentences["ko"])
    for found in re.finditer(_CLINICAL_LABELS[language], body, re.IGNORECASE):
        if found.group(0).lower() not in said.lower():
            problems.append(f"the label {found.group(0)!r} is not in the result")
    return problems


def check_form(text: str, language: str) -> list[str]:
    stripped = text.strip()
    if len(stripped) < MIN_CHARS:
        return [f"the answer is too short ({len(stripped)} characters)"]
    if len(stripped) > MAX_CHARS:
        return [f"the answer is too long ({len(stripped)} characters)"]
    hangul, latin = len(_HANGUL.findall(stripped)), len(_LATIN.findall(stripped))
    if language == "ko" and hangul < max(10, latin // 2):
        return ["the answer is not in Korean"]
    if language == "en" and (latin < 20 or hangul > 0):
        return ["the answer is not in English"]
    return []


def check_disclaimer(text: str, language: str) -> list[str]:
    if DISCLAIMER_CORE[language] not in text.lower():
        return ["the disclaimer is missing"]
    return []


def guard_problems(text: str, facts: Facts, language: str) -> list[str]:
    """Every reason the text may not be stored as the interpretation; empty when it passes."""
    form = check_form(text, language)
    if form:
        return form
    return [
        *check_numbers(text, facts),
        *check_labels(text, facts, language),
        *check_disclaimer(text, language),
    ]
