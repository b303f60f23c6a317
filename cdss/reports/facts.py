"""What a completed analysis's result states, as facts and as plain sentences in Korean and English.

``facts_for(kind, result)`` is the one reading of a result for people: the template
interpretation is its sentences (three to six, every number taken from the result, the model
with its version, what the result does not mean, the disclaimer), the prompt of a generative
provider carries the same sentences, and the guards check a generated text against its numbers
and labels. A kind without a builder here has no interpretation (``INTERPRETABLE_KINDS``).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

# Bumped whenever a sentence or the prompt changes: stored with every interpretation.
TEMPLATE_VERSION = "2026.11.1"
LANGUAGES = ("ko", "en")
DISCLAIMER = {
    "en": "Not a medical device; for decision support only.",
    "ko": "의료기기가 아니며, 의사결정 보조용으로만 사용합니다.",
}
# The part of the disclaimer a generated text must keep, word for word (case aside).
DISCLAIMER_CORE = {"en": "not a medical device", "ko": "의료기기가 아니"}
# A number written inside a string of the result ("C-index 0.48", a protein named "S2").
_NUMBER_IN_TEXT = re.compile(r"\d+(?:\.\d+)?")


@dataclass(frozen=True)
class LabelFact:
    """A label the result states. ``stated``: a pattern per language that names it as stated;
    ``forbidden``: one that names its opposite, or negates it. Both are case-insensitive."""

    name: str
    stated: dict[str, str]
    forbidden: dict[str, str]


@dataclass(frozen=True)
class Facts:
    kind: str
    model_name: str
    model_version: str
    sentences: dict[str, list[str]]
    labels: tuple[LabelFact, ...] = ()
    numbers: tuple[float, ...] = field(default=())

    def text(self, language: str) -> str:
        return " ".join(self.sentences[language])


class NotInterpretable(Exception):
    """The kind has no interpretation, or its result lacks what the sentences need."""


def _numbers_in(value: Any, *, limit: int = 20_000) -> Iterator[float]:
    """Every number a result holds: numeric leaves, dict keys and numbers written in strings."""
    stack = [value]
    seen = 0
    while stack and seen < limit:
        item = stack.pop()
        seen += 1
        if isinstance(item, bool) or item is None:
            continue
        if isinstance(item, (int, float)):
            yield float(item)
        elif isinstance(item, str):
            for match in _NUMBER_IN_TEXT.findall(item):
                yield float(match)
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, (list, tuple)):
            stack.extend(item)


def _model(result: dict[str, Any]) -> tuple[str, str]:
    return str(result.get("model_name") or ""), str(result.get("model_version") or "")


def _pct(p: float) -> str:
    return f"{p * 100:.0f}%"


# --- omics ROSMAP ---------------------------------------------------------------------------------

_ROSMAP_NAMES = {
    "AD": {"en": "Alzheimer's disease (AD)", "ko": "알츠하이머병(AD)"},
    "NC": {"en": "normal control (NC)", "ko": "정상 대조군(NC)"},
}
_ROSMAP_PATTERNS = {
    "AD": {"en": r"\bAD\b|alzheimer", "ko": r"\bAD\b|알츠하이머"},
    "NC": {"en": r"\bNC\b|normal control|cognitively normal", "ko": r"\bNC\b|정상"},
}
_EN_NEGATION = r"\b(?:not|no|non|never|unlikely|isn't|without)\b[\s-]+(?:\w+[\s-]+){0,2}?"
_KO_NEGATION_AFTER = r"[^.。]{0,8}?(?:아니|아닌|아님|아닙|않|없)"


def _negated(pattern: dict[str, str]) -> dict[str, str]:
    """Patterns of the label negated: "not AD", "non-pathogenic"; "AD가 아닌"."""
    return {
        "en": f"{_EN_NEGATION}(?:{pattern['en']})",
        "ko": f"(?:{pattern['ko']}){_KO_NEGATION_AFTER}",
    }


def _either(*patterns: dict[str, str]) -> dict[str, str]:
    return {lang: "|".join(f"(?:{p[lang]})" for p in patterns) for lang in LANGUAGES}


def _rosmap(result: dict[str, Any]) -> Facts:
    name, version = _model(result)
    label = str(result["predicted_class"])
    if label not in _ROSMAP_NAMES:
        raise NotInterpretable(f"ROSMAP class {label!r}")
    other = "NC" if label == "AD" else "AD"
    p = float(result["probability"])
    top = (result.get("top_features") or [None])[0]
    en = [
        f"The ROSMAP multi-omics model ({name} {version}) classified this sample as "
        f"{_ROSMAP_NAMES[label]['en']} with a probability of {p:.2f} ({_pct(p)}).",
    ]
    ko = [
        f"ROSMAP 다중오믹스 모델({name} {version})은 이 검체를 확률 {p:.2f}({_pct(p)})로 "
        f"{_ROSMAP_NAMES[label]['ko']}으로 분류했습니다.",
    ]
    if top is not None:
        en.append(
            f"The feature that weighed most was {top['layer']} {top['feature']} "
            f"(value {top['value']:.3g}, contribution {top['contribution']:.3g})."
        )
        ko.append(
            f"가장 크게 기여한 특성은 {top['layer']} {top['feature']}"
            f"(값 {top['value']:.3g}, 기여도 {top['contribution']:.3g})입니다."
        )
    en.append(_omics_confidence_en(result))
    ko.append(_omics_confidence_ko(result))
    en.append(
        "This is a research model's estimate from molecular data, not a diagnosis: it does "
        "not replace clinical, cognitive and imaging assessment."
    )
    ko.append(
        "이 결과는 분자 자료에 대한 연구용 모델의 추정이며 진단이 아니고, 임상·인지·영상 평가를 "
        "대신하지 않습니다."
    )
    return Facts(
        kind="omics_rosmap",
        model_name=name,
        model_version=version,
        sentences={"en": [*en, DISCLAIMER["en"]], "ko": [*ko, DISCLAIMER["ko"]]},
        labels=(
            LabelFact(
                name=f"class {label}",
                stated=_ROSMAP_PATTERNS[label],
                forbidden=_either(_ROSMAP_PATTERNS[other], _negated(_ROSMAP_PATTERNS[label])),
            ),
        ),
    )


def _omics_confidence_en(result: dict[str, Any]) -> str:
    missing = list(result.get("missing_layers") or [])
    if missing:
        return (
            f"Confidence is {result['confidence']}: the {', '.join(missing)} layer was missing "
            "and the model worked without it."
        )
    return f"All layers the model reads were present; confidence is {result['confidence']}."


def _omics_confidence_ko(result: dict[str, Any]) -> str:
    confidence = {"low": "낮음", "normal": "보통"}.get(str(result["confidence"]), "")
    missing = list(result.get("missing_layers") or [])
    if missing:
        return f"{', '.join(missing)} 층이 없어 그것 없이 계산했으며, 신뢰도는 {confidence}입니다."
    return f"모델이 읽는 모든 층이 있었고, 신뢰도는 {confidence}입니다."


# --- omics TCGA-PAAD ------------------------------------------------------------------------------

_RISK_PATTERNS = {
    "high": {
        "en": r"\bhigh[\s-]+risk\b|\brisk(?: group)?(?: is|:)?\s+(?:very\s+)?high\b",
        "ko": r"고위험|위험(?:군|도)?[이가은는]?\s*높",
    },
    "low": {
        "en": r"\blow[\s-]+risk\b|\brisk(?: group)?(?: is|:)?\s+(?:very\s+)?low\b",
        "ko": r"저위험|위험(?:군|도)?[이가은는]?\s*낮",
    },
}


def _paad(result: dict[str, Any]) -> Facts:
    name, version = _model(result)
    group = str(result["risk_group"])
    if group not in _RISK_PATTERNS:
        raise NotInterpretable(f"PAAD risk group {group!r}")
    other = "low" if group == "high" else "high"
    score = float(result["risk_score"])
    percentile = float(result["risk_percentile"])
    group_ko = "고위험" if group == "high" else "저위험"
    en = [
        f"The TCGA-PAAD survival model ({name} {version}) placed this patient in the "
        f"{group}-risk group (risk score {score:.2f}; percentile {percentile * 100:.0f} of the "
        "training patients).",
    ]
    ko = [
        f"TCGA-PAAD 생존 모델({name} {version})은 이 환자를 {group_ko}군으로 분류했습니다"
        f"(위험 점수 {score:.2f}, 학습 환자 중 {percentile * 100:.0f} 백분위).",
    ]
    median = result.get("group_median_survival_days")
    size = result.get("group_size") or {}
    if median is not None:
        en.append(
            f"In that group, {size.get('patients', 0)} training patients had a median overall "
            f"survival of {float(median):.0f} days."
        )
        ko.append(
            f"이 군의 학습 환자 {size.get('patients', 0)}명의 전체 생존기간 중앙값은 "
            f"{float(median):.0f}일이었습니다."
        )
    horizons = sorted(
        ((int(float(k)), float(v)) for k, v in (result.get("predicted_survival") or {}).items()),
    )[:3]
    if horizons:
        en.append(
            "Estimated survival probabilities: "
            + ", ".join(f"{v:.2f} at {d} days" for d, v in horizons)
            + "."
        )
        ko.append("추정 생존 확률: " + ", ".join(f"{d}일 {v:.2f}" for d, v in horizons) + ".")
    evidence = re.findall(r"\d\.\d+", str(result.get("evidence") or "").split("C-index", 1)[-1])
    if len(evidence) >= 2:
        en.append(
            f"The model's evidence is weak (C-index {evidence[0]} on its test split and "
            f"{evidence[1]} in repeated cross-validation; 0.5 is chance): this is a group-level "
            "curve, not a personal prognosis."
        )
        ko.append(
            f"모델의 근거는 약합니다(시험 분할 C-index {evidence[0]}, 반복 교차검증 {evidence[1]}, "
            "0.5는 우연 수준). 이는 집단 수준의 곡선이며 개인의 예후가 아닙니다."
        )
    else:
        en.append("The model's evidence is weak: this is a group-level curve, not a prognosis.")
        ko.append("모델의 근거는 약하며, 이는 집단 수준의 곡선이고 개인의 예후가 아닙니다.")
    en.append("It does not recommend or rule out any treatment.")
    ko.append("어떤 치료도 권고하거나 배제하지 않습니다.")
    return Facts(
        kind="omics_paad_survival",
        model_name=name,
        model_version=version,
        sentences={"en": [*en, DISCLAIMER["en"]], "ko": [*ko, DISCLAIMER["ko"]]},
        labels=(
            LabelFact(
                name=f"risk group {group}",
                stated=_RISK_PATTERNS[group],
                forbidden=_either(_RISK_PATTERNS[other], _negated(_RISK_PATTERNS[group])),
            ),
        ),
    )


# --- sequences ------------------------------------------------------------------------------------

_PATHOGEN = {"en": r"(?<![\w-])pathogen(?:ic)?\b", "ko": r"(?<!비)병원(?:체|성)"}
_NON_PATHOGEN = {
    "en": r"\bnon[\s-]?pathogen(?:ic)?\b|\bnot\s+(?:a\s+)?pathogen(?:ic)?\b",
    "ko": r"비병원|병원(?:체|성)[이가은는]?\s*아[니닙닌님]|병원성[이가은는]?\s*없",
}
_PATHOGEN_CLAIM = {
    "en": r"(?<![\w-])(?<!non )pathogenic\b",
    "ko": r"(?<!비)병원성(?:이 있|으로|을 가진)|(?<!비)병원체로",
}


def _sequence_batch(result: dict[str, Any]) -> Facts:
    name, version = _model(result)
    items = [r for r in result.get("results") or [] if r.get("ok")]
    count, ok_count = int(result["count"]), int(result["ok_count"])
    failed = int(result["failed_count"])
    labels: tuple[LabelFact, ...] = ()
    if count == 1 and len(items) == 1:
        item = items[0]
        task1 = item["prediction"]["task1"]
        p = float(task1["probability"])
        is_pathogen = bool(task1["is_pathogen"])
        top = item.get("task3_structure") or {}
        en = [
            f"The pathogen sequence model ({name} {version}) predicted this sequence to be "
            f"{'pathogenic' if is_pathogen else 'non-pathogenic'} "
            f"(pathogen probability {p:.2f}, {_pct(p)}).",
        ]
        ko = [
            f"병원체 서열 모델({name} {version})은 이 서열을 "
            f"{'병원성' if is_pathogen else '비병원성'}으로 예측했습니다"
            f"(병원체 확률 {p:.2f}, {_pct(p)}).",
        ]
        if top.get("protein_name") and top.get("top1_probability") is not None:
            q = float(top["top1_probability"])
            en.append(f"The most likely protein is {top['protein_name']} (probability {q:.2f}).")
            ko.append(f"가장 가능성이 높은 단백질은 {top['protein_name']}(확률 {q:.2f})입니다.")
        nearest = (item.get("nearest_references") or [None])[0]
        if nearest:
            en.append(
                f"The nearest reference is {nearest['name']} ({nearest['organism']}), with "
                f"{_pct(float(nearest['identity']))} identity over "
                f"{_pct(float(nearest['coverage']))} of the sequence."
            )
            ko.append(
                f"가장 가까운 참조 서열은 {nearest['name']}({nearest['organism']})이며, 서열의 "
                f"{_pct(float(nearest['coverage']))}에서 {_pct(float(nearest['identity']))} "
                "일치합니다."
            )
        en.append(f"The model rates its confidence as {item.get('confidence') or 'unknown'}.")
        ko.append(
            "모델이 평가한 신뢰도는 "
            f"{ {'high': '높음', 'low': '낮음'}.get(str(item.get('confidence')), '알 수 없음') }"
            "입니다."
        )
        labels = (
            LabelFact(
                name="pathogen" if is_pathogen else "non-pathogen",
                stated=_PATHOGEN if is_pathogen else _NON_PATHOGEN,
                forbidden=_NON_PATHOGEN if is_pathogen else _PATHOGEN_CLAIM,
            ),
        )
    else:
        flagged = sorted(
            (r for r in items if r["prediction"]["task1"]["is_pathogen"]),
            key=lambda r: -float(r["prediction"]["task1"]["probability"]),
        )
        en = [
            f"The pathogen sequence model ({name} {version}) analysed {ok_count} of {count} "
            f"sequences; {len(flagged)} were predicted pathogenic (pathogen probability 0.5 or "
            f"more) and {failed} could not be analysed.",
        ]
        ko = [
            f"병원체 서열 모델({name} {version})은 서열 {count}개 중 {ok_count}개를 분석했으며, "
            f"{len(flagged)}개가 병원성(병원체 확률 0.5 이상)으로 예측되었고 {failed}개는 분석하지 "
            "못했습니다.",
        ]
        if flagged:
            listed = ", ".join(
                f"{r.get('id')} {float(r['prediction']['task1']['probability']):.2f}"
                for r in flagged[:3]
            )
            en.append(f"The highest pathogen probabilities were: {listed}.")
            ko.append(f"병원체 확률이 가장 높은 서열: {listed}.")
    en.append(
        "A sequence prediction is not proof of infection or of a species: confirm it with "
        "laboratory tests."
    )
    ko.append("서열 예측은 감염이나 종의 증거가 아니므로 검사실 검사로 확인해야 합니다.")
    return Facts(
        kind="sequence_batch",
        model_name=name,
        model_version=version,
        sentences={"en": [*en, DISCLAIMER["en"]], "ko": [*ko, DISCLAIMER["ko"]]},
        labels=labels,
    )


# --- CT -------------------------------------------------------------------------------------------

_MASS = {"en": r"\bmass(?:es)?\b", "ko": r"종괴|결절"}
_NO_MASS = {
    "en": r"\bno\s+(?:\w+\s+){0,2}mass|\bwithout\s+(?:\w+\s+){0,2}mass|\bnormal\b",
    "ko": r"종괴[^.]{0,6}(?:없|아[니닙닌님])|정상",
}
_MASS_CLAIM = {
    "en": r"(?<!no )(?<!without )(?<!without a )(?<!no adrenal )\b(?:a |an )?(?:adrenal )?"
    r"mass(?:es)?\b(?!\s*(?:was|were)?\s*(?:not|absent))",
    "ko": r"종괴(?![^.]{0,6}(?:없|아[니닙닌님]))",
}


def _ct(result: dict[str, Any]) -> Facts:
    name, version = _model(result)
    volume = result["volume"]
    shape = " x ".join(str(int(n)) for n in volume["shape"])
    en = [f"The CT analysis ({name} {version}) processed a {shape} volume."]
    ko = [f"CT 분석({name} {version})은 {shape} 크기의 영상을 처리했습니다."]
    liver = result.get("liver") or {}
    if liver.get("status") == "segmented" and liver.get("volume_ml") is not None:
        count = int(liver.get("lesion_count") or 0)
        en.append(
            f"The liver measured {float(liver['volume_ml']):.0f} mL "
            f"(mean {float(liver.get('hu_mean') or 0):.0f} HU), with {count} candidate "
            f"lesion(s) totalling {float(liver.get('lesion_volume_ml') or 0):.1f} mL."
        )
        ko.append(
            f"간 부피는 {float(liver['volume_ml']):.0f} mL(평균 "
            f"{float(liver.get('hu_mean') or 0):.0f} HU)이며, 병변 후보 {count}개의 합계는 "
            f"{float(liver.get('lesion_volume_ml') or 0):.1f} mL입니다."
        )
    else:
        en.append("The liver was not segmented.")
        ko.append("간은 분할되지 않았습니다.")
    body = result.get("body_composition") or {}
    l3 = body.get("l3") or {}
    if l3.get("subcutaneous_fat_cm2") is not None and l3.get("visceral_fat_cm2") is not None:
        en.append(
            f"At the L3 level, subcutaneous fat was {float(l3['subcutaneous_fat_cm2']):.1f} cm² "
            f"and visceral fat {float(l3['visceral_fat_cm2']):.1f} cm²."
        )
        ko.append(
            f"L3 높이에서 피하지방은 {float(l3['subcutaneous_fat_cm2']):.1f} cm², 내장지방은 "
            f"{float(l3['visceral_fat_cm2']):.1f} cm²입니다."
        )
    elif body:
        en.append(
            f"In the scanned volume, subcutaneous fat was {float(body['subcutaneous_fat_ml']):.0f}"
            f" mL and visceral fat {float(body['visceral_fat_ml']):.0f} mL."
        )
        ko.append(
            f"촬영 범위에서 피하지방은 {float(body['subcutaneous_fat_ml']):.0f} mL, 내장지방은 "
            f"{float(body['visceral_fat_ml']):.0f} mL입니다."
        )
    assessed = [a for a in result.get("adrenal") or [] if a.get("label") in ("mass", "normal")]
    labels: tuple[LabelFact, ...] = ()
    if assessed:
        parts_en, parts_ko = [], []
        for gland in assessed:
            p = gland.get("probability")
            odds = f" (probability {float(p):.2f})" if p is not None else ""
            odds_ko = f"(확률 {float(p):.2f})" if p is not None else ""
            parts_en.append(f"{gland['structure']}: {gland['label']}{odds}")
            parts_ko.append(
                f"{gland['structure']}: {'종괴' if gland['label'] == 'mass' else '정상'}{odds_ko}"
            )
        en.append(f"The adrenal screen reads {'; '.join(parts_en)}.")
        ko.append(f"부신 선별 결과는 {'; '.join(parts_ko)}입니다.")
        any_mass = any(a["label"] == "mass" for a in assessed)
        labels = (
            LabelFact(
                name="adrenal mass" if any_mass else "adrenal normal",
                stated=_MASS if any_mass else _NO_MASS,
                forbidden=_negated(_MASS) if any_mass else _MASS_CLAIM,
            ),
        )
    en.append(
        "These are automated measurements for a radiologist to review, not a radiology report "
        "or a diagnosis."
    )
    ko.append("이 값들은 영상의학과 의사가 검토할 자동 측정값이며, 판독 보고서나 진단이 아닙니다.")
    return Facts(
        kind="ct",
        model_name=name,
        model_version=version,
        sentences={"en": [*en, DISCLAIMER["en"]], "ko": [*ko, DISCLAIMER["ko"]]},
        labels=labels,
    )


_BUILDERS: dict[str, Callable[[dict[str, Any]], Facts]] = {
    "sequence_batch": _sequence_batch,
    "omics_rosmap": _rosmap,
    "omics_paad_survival": _paad,
    "ct": _ct,
}
INTERPRETABLE_KINDS = frozenset(_BUILDERS)


def facts_for(kind: str, result: dict[str, Any]) -> Facts:
    """The facts of a completed analysis's result; ``NotInterpretable`` for a kind without
    sentences, or a result that lacks what they need."""
    builder = _BUILDERS.get(kind)
    if builder is None:
        raise NotInterpretable(f"no interpretation for {kind} analyses")
    try:
        facts = builder(result)
    except (KeyError, TypeError, ValueError, IndexError) as exc:
        raise NotInterpretable(f"{kind}: the result lacks {exc}") from exc
    spoken = [n for lang in LANGUAGES for n in _numbers_in(facts.text(lang))]
    numbers = tuple(sorted({*_numbers_in(result), *spoken}))
    return Facts(
        kind=facts.kind,
        model_name=facts.model_name,
        model_version=facts.model_version,
        sentences=facts.sentences,
        labels=facts.labels,
        numbers=numbers,
    )
