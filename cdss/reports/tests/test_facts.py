"""The template interpretation of each kind, and the guards that check generated text."""

from __future__ import annotations

import re

import pytest

from cdss.reports.facts import DISCLAIMER, INTERPRETABLE_KINDS, NotInterpretable, facts_for
from cdss.reports.guards import guard_problems
from cdss.reports.tests.results import PAAD, RESULTS, ROSMAP, sequence_batch

CASES = [(name, lang) for name in RESULTS for lang in ("ko", "en")]


def _facts(name: str):
    return facts_for(name.split(":")[0], RESULTS[name])


@pytest.mark.parametrize(("name", "language"), CASES)
def test_each_template_states_the_result_and_passes_its_own_guards(name, language):
    facts = _facts(name)
    sentences = facts.sentences[language]
    assert 3 <= len(sentences) <= 7  # three to six sentences, and the disclaimer
    text = facts.text(language)
    assert RESULTS[name]["model_name"] in text and RESULTS[name]["model_version"] in text
    assert text.endswith(DISCLAIMER[language])
    assert guard_problems(text, facts, language) == []
    if language == "ko":
        assert re.search(r"[\uac00-\ud7a3]", text)


def test_every_interpretable_kind_has_a_template():
    assert {name.split(":")[0] for name in RESULTS} == INTERPRETABLE_KINDS


def test_the_numbers_come_from_the_result():
    facts = facts_for("omics_rosmap", ROSMAP)
    assert "0.82 (82%)" in facts.text("en") and "0.82(82%)" in facts.text("ko")
    assert "412 days" in facts_for("omics_paad_survival", PAAD).text("en")


def test_a_kind_without_a_template_is_not_interpretable():
    with pytest.raises(NotInterpretable):
        facts_for("pipeline_check", {"ok": True})
    with pytest.raises(NotInterpretable):
        facts_for("omics_rosmap", {"model_name": "x"})


_ROSMAP_GOOD = (
    "The rosmap-omics 2026.11.0 model classified the sample as Alzheimer's disease (AD) with a "
    "probability of 82.3%. Not a medical device; for decision support only."
)


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        (_ROSMAP_GOOD.replace("82.3%", "91%"), "number '91%'"),
        (_ROSMAP_GOOD.replace("82.3%", "0.93"), "number '0.93'"),
        (_ROSMAP_GOOD.replace("Alzheimer's disease (AD)", "normal control (NC)"), "swapped"),
        (_ROSMAP_GOOD.replace("as Alzheimer's", "as not Alzheimer's"), "negated"),
        (_ROSMAP_GOOD.replace("Not a medical device; ", ""), "disclaimer"),
        (_ROSMAP_GOOD + " The tumour is malignant.", "not in the result"),
        ("ok", "too short"),
        (
            "알츠하이머병으로 분류되었습니다. 확률은 82%입니다. 의료기기가 아니며 보조용입니다.",
            "English",
        ),
    ],
)
def test_the_guards_catch_a_bad_answer(text, reason):
    facts = facts_for("omics_rosmap", ROSMAP)
    problems = guard_problems(text, facts, "en")
    assert any(reason in problem for problem in problems), problems


def test_the_guards_allow_rounding_and_the_percent_form():
    facts = facts_for("omics_rosmap", ROSMAP)
    for form in ("0.82", "0.8234", "82%", "82.3 %", "0.8"):
        assert guard_problems(_ROSMAP_GOOD.replace("82.3%", form), facts, "en") == [], form
    for wrong in ("7", "83%", "0.9"):
        assert guard_problems(_ROSMAP_GOOD.replace("82.3%", wrong), facts, "en"), wrong


def test_the_guards_read_korean_negation_and_swaps():
    facts = facts_for("omics_paad_survival", PAAD)
    good = (
        "TCGA-PAAD 모델(tcga-paad-cox 2026.11.0)은 이 환자를 고위험군으로 분류했습니다(위험 점수 "
        "0.64). 의료기기가 아니며, 의사결정 보조용으로만 사용합니다."
    )
    assert guard_problems(good, facts, "ko") == []
    swapped = guard_problems(good.replace("고위험군", "저위험군"), facts, "ko")
    assert any("swapped" in p for p in swapped), swapped
    negated = guard_problems(
        good.replace("고위험군으로 분류했습니다", "고위험군이 아닙니다"), facts, "ko"
    )
    assert any("negated" in p for p in negated), negated


def test_the_guards_catch_a_pathogen_label_turned_around():
    facts = facts_for("sequence_batch", sequence_batch(0.9731))
    good = (
        "The pathogen-seq 2026.11.0 model predicted the sequence to be pathogenic (probability "
        "0.97). Not a medical device; for decision support only."
    )
    assert guard_problems(good, facts, "en") == []
    turned = good.replace("to be pathogenic", "to be non-pathogenic")
    assert any("negated or swapped" in p for p in guard_problems(turned, facts, "en"))
    benign = facts_for("sequence_batch", sequence_batch(0.12))
    claimed = good.replace("0.97", "0.12")
    assert any("swapped" in p for p in guard_problems(claimed, benign, "en"))


def test_the_guards_catch_an_adrenal_mass_the_ct_did_not_find():
    from cdss.reports.tests.results import CT

    facts = facts_for("ct", CT)
    good = (
        "The cdss-ct 2026.11.0 analysis measured the liver at 1532 mL and found the left adrenal "
        "gland normal (probability 0.12). Not a medical device; for decision support only."
    )
    assert guard_problems(good, facts, "en") == []
    invented = good.replace("found the left adrenal gland normal", "found a left adrenal mass")
    assert any("adrenal normal" in p for p in guard_problems(invented, facts, "en"))
    assert any("1533.5" in p for p in guard_problems(good.replace("1532", "1533.5"), facts, "en"))
