"""The PDF report of a completed analysis: HTML from ``templates/reports/report.html``, laid out by
WeasyPrint (on the system's Pango) with Noto Sans CJK for Korean, and no browser.

``report_pdf`` takes everything it shows as plain values (``ReportContent``), so it reads no
database and can be timed alone (bench). WeasyPrint is imported when a report is drawn: a
process that never draws one does not need it (extra ``reports``).
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from dataclasses import dataclass, field
from typing import Any

from django.template.loader import render_to_string
from django.utils.safestring import mark_safe

from cdss.reports.facts import DISCLAIMER
from cdss.reports.tables import LIMITS, QUESTIONS, Table, models_for, tables_for

_LABELS = {
    "en": {
        "title": "AI analysis report",
        "patient": "Patient",
        "mrn": "MRN",
        "birth_date": "Birth date",
        "sex": "Sex",
        "requester": "Requested by",
        "analysis": "Analysis",
        "requested": "Requested",
        "completed": "Completed",
        "generated": "Report generated",
        "question": "Question",
        "interpretation": "Interpretation",
        "provenance": "Provenance",
        "figures": "Figures",
        "models": "Models",
        "model": "Model",
        "version": "Version",
        "limits": "Limits",
        "report": "Report",
        "result_sha": "result SHA-256",
    },
    "ko": {
        "title": "AI 분석 보고서",
        "patient": "환자",
        "mrn": "등록번호",
        "birth_date": "생년월일",
        "sex": "성별",
        "requester": "요청자",
        "analysis": "분석",
        "requested": "요청 일시",
        "completed": "완료 일시",
        "generated": "보고서 생성",
        "question": "질문",
        "interpretation": "해석",
        "provenance": "출처",
        "figures": "그림",
        "models": "모델",
        "model": "모델",
        "version": "버전",
        "limits": "한계",
        "report": "보고서",
        "result_sha": "결과 SHA-256",
    },
}
_SEX = {"ko": {"male": "남", "female": "여", "other": "기타", "unknown": "미상"}}
_CSS_UNSAFE = re.compile(r"[\"\\<>&\n\r]")


@dataclass(frozen=True)
class ReportContent:
    report_id: int
    language: str
    hospital: str
    kind: str
    analysis_id: int
    result: dict[str, Any]
    patient: dict[str, str]  # name, mrn, birth_date, sex (each "-" when unknown)
    requester: str
    requested_at: str
    completed_at: str
    generated_at: str
    interpretation_text: str
    interpretation_label: str
    interpretation_provenance: str
    figures: list[tuple[str, bytes]] = field(default_factory=list)  # (name, PNG bytes)


@dataclass(frozen=True)
class RenderedReport:
    pdf: bytes
    pages: int


def result_sha256(result: dict[str, Any]) -> str:
    """The SHA-256 of the result as stored (canonical JSON): what the report was made from."""
    canonical = json.dumps(result, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def _css_text(value: str) -> str:
    return mark_safe(_CSS_UNSAFE.sub(" ", value))  # noqa: S308 - nothing left to escape


def report_html(content: ReportContent) -> str:
    language = content.language
    labels = _LABELS[language]
    question = QUESTIONS[content.kind][0 if language == "en" else 1]
    limits = LIMITS[content.kind][0 if language == "en" else 1]
    tables: list[Table] = tables_for(content.kind, content.result, language)
    sex = content.patient.get("sex", "-")
    context = {
        "language": language,
        "title": labels["title"],
        "l": labels,
        "hospital": content.hospital,
        "css_hospital": _css_text(content.hospital),
        "css_report_label": _css_text(labels["report"]),
        "css_disclaimer": _css_text(DISCLAIMER[language]),
        "report_id": content.report_id,
        "patient_name": content.patient.get("name", "-"),
        "patient_mrn": content.patient.get("mrn", "-"),
        "patient_birth_date": content.patient.get("birth_date", "-"),
        "patient_sex": _SEX.get(language, {}).get(sex, sex),
        "requester": content.requester,
        "analysis_id": content.analysis_id,
        "kind": content.kind,
        "requested_at": content.requested_at,
        "completed_at": content.completed_at,
        "generated_at": content.generated_at,
        "question": question,
        "interpretation_text": content.interpretation_text,
        "interpretation_label": content.interpretation_label,
        "interpretation_provenance": content.interpretation_provenance,
        "tables": tables,
        "figures": [
            {"name": name, "src": "data:image/png;base64," + base64.b64encode(png).decode()}
            for name, png in content.figures
        ],
        "models": models_for(content.kind, content.result),
        "limits": limits,
        "disclaimer": DISCLAIMER[language],
        "result_sha256": result_sha256(content.result),
    }
    return render_to_string("reports/report.html", context)


def report_pdf(content: ReportContent) -> RenderedReport:
    """The report as PDF bytes, with its page count."""
    from weasyprint import HTML
    from weasyprint.urls import URLFetcher

    # The report fetches nothing from outside: only the data: URLs it embeds.
    fetcher = URLFetcher(allowed_protocols={"data"}, fail_on_errors=True)
    document = HTML(string=report_html(content), url_fetcher=fetcher).render()
    pdf = document.write_pdf()
    assert pdf is not None
    return RenderedReport(pdf=pdf, pages=len(document.pages))
