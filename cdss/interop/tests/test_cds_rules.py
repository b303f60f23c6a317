"""The indicator rules and what each kind's card says, on realistic stored results."""

from __future__ import annotations

import copy
import re
from typing import Any

import pytest

from cdss.interop.cds_hooks.cards import card_json, detail_markdown
from cdss.interop.cds_hooks.rules import (
    SUMMARY_MAX_CHARS,
    card_content,
    clip_summary,
    md,
)
from cdss.reports.tests.results import CT, PAAD, ROSMAP, sequence_batch


def _numbers(text: str) -> set[float]:
    return {float(n) for n in re.findall(r"\d+(?:\.\d+)?", text)}


def _with(result: dict[str, Any], **changes: Any) -> dict[str, Any]:
    out = copy.deepcopy(result)
    out.update(changes)
    return out


@pytest.mark.parametrize(
    ("kind", "result", "indicator"),
    [
        ("sequence_batch", sequence_batch(0.9731), "critical"),
        ("sequence_batch", sequence_batch(0.12, 0.77), "warning"),
        ("sequence_batch", sequence_batch(0.12, 0.3), "info"),
        ("omics_paad_survival", PAAD, "warning"),
        ("omics_paad_survival", _with(PAAD, risk_group="low"), "info"),
        ("omics_rosmap", ROSMAP, "warning"),
        ("omics_rosmap", _with(ROSMAP, predicted_class="NC"), "info"),
        ("ct", CT, "warning"),
        ("ct", _with(CT, liver={**CT["liver"], "lesion_count": 0}), "info"),
        (
            "ct",
            _with(
                CT,
                liver={**CT["liver"], "lesion_count": 0},
                adrenal=[{**CT["adrenal"][0], "label": "mass", "probability": 0.8}],
            ),
            "warning",
        ),
        ("ct", _with(CT, liver={"status": "not segmented", "reason": "no liver"}), "info"),
    ],
)
def test_indicator_rules(kind: str, result: dict[str, Any], indicator: str) -> None:
    assert card_content(kind=kind, result=result).indicator == indicator


def test_pathogen_threshold_is_inclusive() -> None:
    assert card_content(kind="sequence_batch", result=sequence_batch(0.9)).indicator == "critical"
    assert card_content(kind="sequence_batch", result=sequence_batch(0.89)).indicator == "warning"


def test_sequence_card() -> None:
    content = card_content(kind="sequence_batch", result=sequence_batch(0.9731, 0.12, 0.77))
    assert content.summary == "Pathogen predicted in 2 of 3 sequences"
    assert (content.model_name, content.model_version) == ("pathogen-seq", "2026.11.0")
    # The most probable pathogen first, then the other, then the non-pathogen.
    assert "s1: pathogen, probability 0.9731" in content.facts[0]
    assert "s3: pathogen, probability 0.77" in content.facts[1]
    assert "s2: not pathogen, probability 0.12" in content.facts[2]
    assert (
        "nearest reference P0DTC2 Spike glycoprotein (SARS-CoV-2), identity 0.9712"
        in (content.facts[0])
    )
    assert all(f.startswith("AI") for f in content.facts)


def test_sequence_card_with_failed_items_and_many_sequences() -> None:
    result = sequence_batch(*[0.1] * 7)
    result["results"].append({"ok": False, "index": 7, "error": "too short"})
    content = card_content(kind="sequence_batch", result=result)
    assert content.summary == "No pathogen predicted in 7 sequences"
    assert len(content.facts) == 5
    assert "2 more sequences on the result page." in content.notes
    assert "1 sequences could not be analysed." in content.notes


def test_paad_card() -> None:
    content = card_content(kind="omics_paad_survival", result=PAAD)
    assert content.summary == "Pancreatic cancer survival model: high-risk group"
    text = "\n".join(content.facts)
    assert "risk score 0.6421, percentile 0.81" in text
    assert "median survival of the group 412 days" in text
    assert "day 365: 0.52, day 730: 0.21, day 1095: 0.11" in text
    assert "driving feature cnv:KRAS" in text
    assert content.notes and "C-index 0.48" in content.notes[0]


def test_rosmap_card() -> None:
    content = card_content(kind="omics_rosmap", result=ROSMAP)
    assert content.summary == "Omics classifier: Alzheimer's disease (AD) class predicted"
    text = "\n".join(content.facts)
    assert "predicted class **AD**, probability 0.8234" in text
    assert "AD 0.8234, NC 0.1766" in text
    assert "confidence normal" in text


def test_ct_card() -> None:
    content = card_content(kind="ct", result=CT)
    assert content.summary == "CT: 2 liver lesion candidates"
    text = "\n".join(content.facts)
    assert "AI (liver-unet 1.0): liver volume 1532.4 mL, mean 58.2 HU" in text
    assert "2 liver lesion candidates, total 12.3 mL" in text
    assert "adrenal\\_gland\\_left: normal, probability 0.12 (threshold 0.5)" in text
    # Body composition is measured by HU rules, and says so.
    assert "Rules (hu\\_rules): at L3 visceral fat 96.1 cm², subcutaneous fat 182.4 cm²" in text


@pytest.mark.parametrize(
    ("kind", "result"),
    [
        ("sequence_batch", sequence_batch(0.9731, 0.12, 0.77)),
        ("omics_paad_survival", PAAD),
        ("omics_rosmap", ROSMAP),
        ("ct", CT),
    ],
)
def test_every_number_in_the_detail_comes_from_the_result_or_the_rule(
    kind: str, result: dict[str, Any]
) -> None:
    content = card_content(kind=kind, result=result)
    detail = detail_markdown(content=content, analysis_id=42, completed_at="2026-11-27 10:00 UTC")
    # Besides the result's own: the analysis id and date given here, the rule's threshold (0.9),
    # and counts of what the result lists ("2 liver lesion candidates" is stored as a count too).
    counts = {float(len(v)) for v in result.values() if isinstance(v, list)}
    allowed = _numbers(repr(result)) | {42, 2026, 11, 27, 10, 0, 0.9} | counts
    assert _numbers(detail) <= allowed, _numbers(detail) - allowed
    assert "Not a medical device" in detail
    assert f"{content.model_name} {content.model_version}" in detail
    assert "set by a CDSS rule (not by AI)" in detail


def test_unreadable_result_gives_a_plain_info_card() -> None:
    content = card_content(
        kind="ct", result={"ok": True, "model_name": "cdss-ct"}, model_fallback=("x", "9")
    )
    assert content.indicator == "info"
    assert content.summary == "CT analysis: result available in CDSS"
    assert content.facts == []
    assert (content.model_name, content.model_version) == ("cdss-ct", "9")


def test_summary_is_under_140_characters_whatever_the_result() -> None:
    long_group = "very-" * 60 + "high"
    content = card_content(kind="omics_paad_survival", result=_with(PAAD, risk_group=long_group))
    assert len(content.summary) < 140
    assert content.summary.endswith("…")
    assert len(clip_summary("x" * 500)) == SUMMARY_MAX_CHARS < 140
    assert clip_summary("short") == "short"


def test_markdown_in_a_result_is_escaped() -> None:
    assert md("[click](javascript:x) <b>*") == "\\[click\\](javascript:x) \\<b\\>\\*"
    assert md("two\nlines") == "two lines"


def test_card_json_shape() -> None:
    content = card_content(kind="omics_paad_survival", result=PAAD)
    card = card_json(
        card_uuid="u",
        content=content,
        kind="omics_paad_survival",
        analysis_id=7,
        completed_at="2026-11-27 10:00 UTC",
        base_url="https://cdss.example.org",
        with_detail=False,
    )
    assert card == {
        "uuid": "u",
        "summary": "Pancreatic cancer survival model: high-risk group",
        "indicator": "warning",
        "source": {
            "label": "CDSS tcga-paad-cox 2026.11.0 (not a medical device)",
            "url": "https://cdss.example.org/api/v1/models/tcga-paad-cox/2026.11.0/card/",
            "topic": {
                "system": "urn:cdss:analysis-kind",
                "code": "omics_paad_survival",
                "display": "Pancreatic cancer survival model",
            },
        },
        "links": [
            {
                "label": "Open the result in CDSS",
                "url": "https://cdss.example.org/analyses/7",
                "type": "absolute",
            }
        ],
    }
