"""What a PDF report shows of a result, per kind, in Korean and English: the question asked, the
result as tables, the models with their one-line limits (from each model card), and a figure for
kinds whose analysis drew none (the sequence probabilities). Read from the structured result only.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import matplotlib
from matplotlib import font_manager
from matplotlib.figure import Figure

from cdss.reports.facts import DISCLAIMER


@dataclass(frozen=True)
class Table:
    title: str
    headers: list[str]
    rows: list[list[str]]


def _t(language: str, en: str, ko: str) -> str:
    return ko if language == "ko" else en


def _num(value: Any, digits: int = 2) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, (int, float)):
        return f"{value:.{digits}f}" if isinstance(value, float) else str(value)
    return str(value)


QUESTIONS = {
    "sequence_batch": (
        "Is each sequence from a pathogen, which protein is it, and what is its nearest reference?",
        "각 서열이 병원체 유래인지, 어떤 단백질인지, 가장 가까운 참조 서열은 무엇인지?",
    ),
    "omics_rosmap": (
        "Does this sample's multi-omics profile resemble Alzheimer's disease (AD) or normal "
        "control (NC)?",
        "이 검체의 다중오믹스 양상이 알츠하이머병(AD)과 정상 대조군(NC) 중 어디에 가까운지?",
    ),
    "omics_paad_survival": (
        "Which survival risk group of pancreatic adenocarcinoma does this patient resemble?",
        "이 환자는 췌장선암의 어느 생존 위험군과 비슷한지?",
    ),
    "ct": (
        "What do the automated CT measurements show (liver, body composition, adrenal screen)?",
        "자동 CT 측정값(간, 체성분, 부신 선별)은 무엇을 보여주는지?",
    ),
}

# One line per model, from its card's "Limits" (models/*/MODEL_CARD.md).
LIMITS = {
    "sequence_batch": (
        "Labels come from curated public sets: a pathogen call says the protein resembles "
        "proteins of that origin; viruses outside the covered lineages are reached only through "
        "distant homology.",
        "레이블은 공개 자료에서 왔으며, 병원체 판정은 그 기원의 단백질과 닮았다는 "
        "뜻입니다. 포함되지 않은 바이러스는 먼 상동성으로만 찾습니다.",
    ),
    "omics_rosmap": (
        "245 training samples of post-mortem brain tissue of elderly donors: not transferable to "
        "blood or to living patients.",
        "고령 기증자의 사후 뇌 조직 245건으로 학습: 혈액이나 생존 환자에게 적용할 수 없습니다.",
    ),
    "omics_paad_survival": (
        "100 training patients and a 45-patient test split: weak evidence, group-level only.",
        "학습 환자 100명, 시험 45명: 근거가 약하며 집단 수준의 추정일 뿐입니다.",
    ),
    "ct": (
        "Adrenal screen: shape only, one hospital's data, small test set; liver and body "
        "composition are automated measurements that need a radiologist's review.",
        "부신 선별은 형태만 보며 한 병원 자료와 작은 시험셋으로 평가되었습니다. 간과 체성분은 "
        "영상의학과 의사의 검토가 필요한 자동 측정값입니다.",
    ),
}


def _features(result: dict[str, Any], language: str, limit: int = 10) -> Table:
    return Table(
        _t(language, "Features that drove the result", "결과에 기여한 특성"),
        [
            _t(language, "layer", "층"),
            _t(language, "feature", "특성"),
            _t(language, "value", "값"),
            _t(language, "contribution", "기여도"),
            _t(language, "towards", "방향"),
        ],
        [
            [
                f["layer"],
                f["feature"],
                _num(f["value"], 3),
                _num(f["contribution"], 3),
                f["direction"],
            ]
            for f in (result.get("top_features") or [])[:limit]
        ],
    )


def _rosmap(result: dict[str, Any], language: str) -> list[Table]:
    summary = [
        [_t(language, "predicted class", "예측 분류"), str(result["predicted_class"])],
        [_t(language, "probability", "확률"), _num(result["probability"], 3)],
        *[
            [_t(language, f"probability of {k}", f"{k} 확률"), _num(v, 3)]
            for k, v in sorted(result["probabilities"].items())
        ],
        [_t(language, "confidence", "신뢰도"), str(result["confidence"])],
        [_t(language, "missing layers", "없는 층"), ", ".join(result["missing_layers"]) or "-"],
    ]
    return [
        Table(_t(language, "Result", "결과"), [_t(language, "item", "항목"), ""], summary),
        _features(result, language),
    ]


def _paad(result: dict[str, Any], language: str) -> list[Table]:
    size = result.get("group_size") or {}
    summary = [
        [_t(language, "risk group", "위험군"), str(result["risk_group"])],
        [_t(language, "risk score", "위험 점수"), _num(result["risk_score"], 3)],
        [
            _t(language, "percentile (training)", "백분위(학습 환자)"),
            _num(result["risk_percentile"] * 100, 0),
        ],
        [
            _t(language, "group median survival (days)", "군 생존기간 중앙값(일)"),
            _num(result.get("group_median_survival_days"), 0),
        ],
        [
            _t(language, "group patients / deaths", "군 환자 수 / 사망"),
            f"{size.get('patients', '-')} / {size.get('deaths', '-')}",
        ],
        [_t(language, "confidence", "신뢰도"), str(result["confidence"])],
    ]
    survival = Table(
        _t(language, "Estimated survival", "추정 생존 확률"),
        [_t(language, "days", "일"), _t(language, "probability", "확률")],
        [
            [k, _num(v, 3)]
            for k, v in sorted(result["predicted_survival"].items(), key=lambda kv: float(kv[0]))
        ],
    )
    return [
        Table(_t(language, "Result", "결과"), [_t(language, "item", "항목"), ""], summary),
        survival,
        _features(result, language),
    ]


def _sequence(result: dict[str, Any], language: str) -> list[Table]:
    rows = []
    for item in (result.get("results") or [])[:50]:
        if not item.get("ok"):
            rows.append([str(item.get("id")), "-", "-", "-", "-", str(item.get("error", ""))[:60]])
            continue
        task1 = item["prediction"]["task1"]
        top = item.get("task3_structure") or {}
        nearest = (item.get("nearest_references") or [{}])[0]
        rows.append(
            [
                str(item.get("id")),
                _t(language, "pathogen", "병원성")
                if task1["is_pathogen"]
                else _t(language, "non-pathogen", "비병원성"),
                _num(task1["probability"], 3),
                f"{top.get('protein_name', '-')} ({_num(top.get('top1_probability'), 2)})",
                f"{nearest.get('name', '-')}",
                f"{_num((nearest.get('identity') or 0) * 100, 1)}% / "
                f"{_num((nearest.get('coverage') or 0) * 100, 1)}%",
            ]
        )
    summary = [
        [_t(language, "sequences", "서열 수"), str(result["count"])],
        [_t(language, "analysed", "분석됨"), str(result["ok_count"])],
        [_t(language, "failed", "실패"), str(result["failed_count"])],
    ]
    return [
        Table(_t(language, "Result", "결과"), [_t(language, "item", "항목"), ""], summary),
        Table(
            _t(language, "Sequences (first 50)", "서열(처음 50개)"),
            [
                "id",
                _t(language, "call", "판정"),
                _t(language, "pathogen probability", "병원체 확률"),
                _t(language, "protein (probability)", "단백질(확률)"),
                _t(language, "nearest reference", "가장 가까운 참조"),
                _t(language, "identity / coverage", "일치 / 범위"),
            ],
            rows,
        ),
    ]


def _ct(result: dict[str, Any], language: str) -> list[Table]:
    liver = result.get("liver") or {}
    body = result.get("body_composition") or {}
    l3 = body.get("l3") or {}
    measures = [
        [
            _t(language, "volume (voxels)", "영상 크기(복셀)"),
            " x ".join(str(n) for n in result["volume"]["shape"]),
        ],
        [_t(language, "liver", "간"), str(liver.get("status", "-"))],
        [_t(language, "liver volume (mL)", "간 부피(mL)"), _num(liver.get("volume_ml"), 1)],
        [_t(language, "candidate liver lesions", "간 병변 후보"), _num(liver.get("lesion_count"))],
        [
            _t(language, "lesion volume (mL)", "병변 부피(mL)"),
            _num(liver.get("lesion_volume_ml"), 1),
        ],
        [
            _t(language, "subcutaneous fat (mL)", "피하지방(mL)"),
            _num(body.get("subcutaneous_fat_ml"), 0),
        ],
        [_t(language, "visceral fat (mL)", "내장지방(mL)"), _num(body.get("visceral_fat_ml"), 0)],
        [
            _t(language, "L3 subcutaneous / visceral fat (cm²)", "L3 피하 / 내장지방(cm²)"),
            f"{_num(l3.get('subcutaneous_fat_cm2'), 1)} / {_num(l3.get('visceral_fat_cm2'), 1)}",
        ],
    ]
    structures = Table(
        _t(language, "Structures", "구조물"),
        [
            _t(language, "structure", "구조물"),
            _t(language, "volume (mL)", "부피(mL)"),
            "HU",
            _t(language, "source", "출처"),
        ],
        [
            [
                s["name"],
                _num(s["volume_ml"], 1),
                f"{_num(s['hu_mean'], 0)} ± {_num(s['hu_std'], 0)}",
                s["source"],
            ]
            for s in (result.get("structures") or [])[:40]
        ],
    )
    adrenal = Table(
        _t(language, "Adrenal screen", "부신 선별"),
        [
            _t(language, "gland", "부신"),
            _t(language, "label", "판정"),
            _t(language, "probability", "확률"),
            _t(language, "threshold", "기준값"),
        ],
        [
            [a["structure"], a["label"], _num(a.get("probability"), 3), _num(a.get("threshold"), 2)]
            for a in result.get("adrenal") or []
        ],
    )
    findings = Table(
        _t(language, "Findings (as the analysis states them)", "소견(분석 원문)"),
        [_t(language, "finding", "소견"), _t(language, "source", "출처")],
        [[f["text"], f["source"]] for f in result.get("findings") or []],
    )
    return [
        Table(_t(language, "Measurements", "측정값"), [_t(language, "item", "항목"), ""], measures),
        structures,
        adrenal,
        findings,
    ]


_TABLES: dict[str, Callable[[dict[str, Any], str], list[Table]]] = {
    "sequence_batch": _sequence,
    "omics_rosmap": _rosmap,
    "omics_paad_survival": _paad,
    "ct": _ct,
}


def tables_for(kind: str, result: dict[str, Any], language: str) -> list[Table]:
    return _TABLES[kind](result, language)


def models_for(kind: str, result: dict[str, Any]) -> list[tuple[str, str]]:
    """(name, version) of every model behind the result."""
    models = [(str(result.get("model_name") or kind), str(result.get("model_version") or "-"))]
    for model in result.get("models") or []:  # CT: each model it ran
        models.append((str(model["name"]), str(model["version"])))
    return models


KOREAN_FONT = "Noto Sans CJK KR"


def _font_families() -> list[str]:
    """Matplotlib's families with a Korean-capable one first. Matplotlib's font list is cached
    from its first run; fonts installed after it (fonts-noto-cjk) are added here."""
    known = {f.name for f in font_manager.fontManager.ttflist}
    if KOREAN_FONT not in known:
        for path in font_manager.findSystemFonts():
            if path.endswith("NotoSansCJK-Regular.ttc"):
                font_manager.fontManager.addfont(path)
    return [KOREAN_FONT, "DejaVu Sans"]


def sequence_figure(result: dict[str, Any], language: str) -> bytes | None:
    """The pathogen probability of each sequence (the first 30), as a PNG; None when none is ok."""
    items = [r for r in result.get("results") or [] if r.get("ok")][:30]
    if not items:
        return None
    with matplotlib.rc_context({"font.family": _font_families(), "axes.unicode_minus": False}):
        figure = Figure(figsize=(7, max(2.0, 0.28 * len(items) + 1.0)))
        axes = figure.add_subplot()
        names = [str(r.get("id")) for r in reversed(items)]
        values = [float(r["prediction"]["task1"]["probability"]) for r in reversed(items)]
        axes.barh(names, values, color=["#c0392b" if v >= 0.5 else "#2471a3" for v in values])
        axes.axvline(0.5, color="#333333", linewidth=0.8, linestyle="--")
        axes.set_xlim(0, 1)
        axes.set_xlabel(_t(language, "pathogen probability", "병원체 확률"))
        axes.set_title(_t(language, "Pathogen probability per sequence", "서열별 병원체 확률"))
        figure.text(0.01, -0.02, DISCLAIMER[language], fontsize=7, color="#555555", va="top")
        out = io.BytesIO()
        figure.savefig(out, format="png", dpi=110, bbox_inches="tight")
    return out.getvalue()
