"""The kinds chained to a completed analysis, both with inputs ``{analysis, language}``:
``interpretation`` and ``report``.

``prepare`` reaches the analysis through the one access rule for the submitting user: someone
else's analysis is the same 400 as a missing one, and it must be COMPLETED, of the same patient,
and of a kind that has sentences (``cdss.reports.facts``).

``interpretation`` writes the text with the configured provider under the guards
(``cdss.reports.interpret``) and stores it with its provenance. ``report`` draws the PDF
(``report-<language>.pdf``, an artifact of the report analysis) with the latest interpretation in
its language; while one is still queued or running it waits for it (``RunLater``, never a sleep),
up to ``REPORT_MAX_WAITS`` times, then uses the template's text.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.utils import timezone

from cdss.common.exceptions import ApplicationError
from cdss.jobs.kinds import AnalysisKind, RunLater, input_reference_error
from cdss.jobs.models import Analysis, AnalysisArtifact, Status
from cdss.jobs.selectors import analysis_get_for_user
from cdss.jobs.services import analysis_artifact_store, analysis_state_save
from cdss.ml.llm import get_generator
from cdss.reports.facts import INTERPRETABLE_KINDS, TEMPLATE_VERSION, NotInterpretable, facts_for
from cdss.reports.interpret import interpret
from cdss.reports.models import LABELS, GeneratedBy, Interpretation
from cdss.reports.pdf import ReportContent, report_pdf
from cdss.reports.schemas import (
    ChainedInputSerializer,
    InterpretationResultSerializer,
    ReportResultSerializer,
)
from cdss.reports.selectors import (
    analysis_result_data,
    interpretation_latest,
    interpretation_pending,
)
from cdss.reports.services import INTERPRETATION_KIND, REPORT_KIND, interpretation_store
from cdss.reports.tables import sequence_figure

if TYPE_CHECKING:
    from cdss.accounts.models import User
    from cdss.patients.models import Patient


def _prepare(*, user: User, patient: Patient | None, inputs: dict[str, Any]) -> dict[str, Any]:
    source = analysis_get_for_user(user=user, analysis_id=inputs["analysis"])
    if source is None or source.patient_id != (patient.pk if patient is not None else None):
        raise input_reference_error("analysis")
    if source.status != Status.COMPLETED:
        raise ApplicationError(
            f"inputs.analysis: the analysis has no result yet (it is {source.status})",
            detail={"inputs": {"analysis": ["The analysis is not COMPLETED."]}},
        )
    if source.kind not in INTERPRETABLE_KINDS:
        raise ApplicationError(
            f"inputs.analysis: {source.kind} analyses have no interpretation",
            detail={
                "inputs": {"analysis": [f"Interpretable kinds: {sorted(INTERPRETABLE_KINDS)}."]}
            },
        )
    return {"analysis": source.pk, "language": inputs["language"]}


def _run_interpretation(analysis: Analysis) -> dict[str, Any]:
    source = Analysis.objects.get(pk=analysis.inputs["analysis"])
    language = str(analysis.inputs["language"])
    _, facts = _facts_or_refuse(source)
    written = interpret(
        facts=facts,
        language=language,
        generator=get_generator(),
        max_tokens=int(settings.CDSS_LLM_MAX_TOKENS),
    )
    stored = interpretation_store(job=analysis, source=source, language=language, written=written)
    return {
        "ok": True,
        "interpretation": stored.pk,
        "analysis": source.pk,
        "language": language,
        "text": stored.text,
        "label": stored.label,
        "generated_by": stored.generated_by,
        "provider": stored.provider,
        "model_name": stored.model,
        "model_version": stored.prompt_version,
        "guard_outcome": stored.guard_outcome,
        "guard_notes": list(stored.guard_notes),
    }


# A report waits this long, at most this many times, for an interpretation still being written.
REPORT_WAIT_SECONDS = 3.0
REPORT_MAX_WAITS = 40
REPORT_MODEL = "cdss-report"


def _facts_or_refuse(source: Analysis) -> tuple[dict[str, Any], Any]:
    result = analysis_result_data(analysis=source) or {}
    try:
        return result, facts_for(source.kind, result)
    except NotInterpretable as exc:
        raise ApplicationError(f"inputs.analysis: {exc}") from exc


def _when(moment: Any) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M %Z") if moment else "-"


def _interpretation_shown(
    interpretation: Interpretation | None, facts: Any, language: str
) -> tuple[str, str, str]:
    """(text, label, provenance) of the interpretation the report prints."""
    if interpretation is None:
        return (
            facts.text(language),
            LABELS[GeneratedBy.RULES][language],
            f"template {TEMPLATE_VERSION}",
        )
    provenance = (
        f"{interpretation.provider}, {interpretation.model}, prompt "
        f"{interpretation.prompt_version}, guard {interpretation.guard_outcome}, "
        f"{_when(interpretation.created_at)}"
    )
    return interpretation.text, interpretation.label, provenance


def _figures(source: Analysis, result: dict[str, Any], language: str) -> list[tuple[str, bytes]]:
    figures = []
    for artifact in AnalysisArtifact.objects.filter(analysis=source, content_type="image/png"):
        with artifact.file.storage.open(artifact.file.name, "rb") as handle:
            figures.append((artifact.name, handle.read()))
    if source.kind == "sequence_batch":
        drawn = sequence_figure(result, language)
        if drawn is not None:
            figures.append(("probabilities.png", drawn))
    return figures


def _run_report(analysis: Analysis) -> dict[str, Any] | RunLater:
    source = Analysis.objects.select_related("patient", "requested_by").get(
        pk=analysis.inputs["analysis"]
    )
    language = str(analysis.inputs["language"])
    result, facts = _facts_or_refuse(source)
    interpretation = interpretation_latest(analysis=source, language=language)
    if interpretation is None and interpretation_pending(analysis=source, language=language):
        waits = int(analysis.state.get("waits", 0))
        if waits < REPORT_MAX_WAITS:
            analysis_state_save(analysis=analysis, state={"waits": waits + 1})
            return RunLater(REPORT_WAIT_SECONDS)
    text, label, provenance = _interpretation_shown(interpretation, facts, language)
    patient = source.patient
    requester = source.requested_by
    content = ReportContent(
        report_id=analysis.pk,
        language=language,
        hospital=str(settings.CDSS_REPORT_HOSPITAL),
        kind=source.kind,
        analysis_id=source.pk,
        result=result,
        patient={
            "name": patient.name,
            "mrn": patient.mrn,
            "birth_date": patient.birth_date.isoformat() if patient.birth_date else "-",
            "sex": patient.sex,
        }
        if patient is not None
        else {},
        requester=(requester.get_full_name() or requester.username) if requester else "-",
        requested_at=_when(source.created_at),
        completed_at=_when(source.completed_at),
        generated_at=_when(timezone.now()),
        interpretation_text=text,
        interpretation_label=label,
        interpretation_provenance=provenance,
        figures=_figures(source, result, language),
    )
    rendered = report_pdf(content)
    name = f"report-{language}.pdf"
    artifact = analysis_artifact_store(
        analysis=analysis, name=name, content_type="application/pdf", data=rendered.pdf
    )
    return {
        "ok": True,
        "analysis": source.pk,
        "language": language,
        "artifact": name,
        "pages": rendered.pages,
        "size": artifact.size,
        "sha256": artifact.sha256,
        "interpretation": interpretation.pk if interpretation is not None else None,
        "model_name": REPORT_MODEL,
        "model_version": TEMPLATE_VERSION,
    }


INTERPRETATION = AnalysisKind(
    name=INTERPRETATION_KIND,
    input=ChainedInputSerializer,
    prepare=_prepare,
    run=_run_interpretation,
    result=InterpretationResultSerializer,
    # Two generations at most (a retry after a refused answer), each within CDSS_LLM_TIMEOUT.
    time_limit=max(120.0, 2 * float(settings.CDSS_LLM_TIMEOUT) + 60.0),
    patient_required=False,
    max_attempts=3,
)

REPORT = AnalysisKind(
    name=REPORT_KIND,
    input=ChainedInputSerializer,
    prepare=_prepare,
    run=_run_report,
    result=ReportResultSerializer,
    time_limit=120,
    patient_required=False,
    max_attempts=3,
)

KINDS = (INTERPRETATION, REPORT)
