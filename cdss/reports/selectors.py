"""Reads of interpretations, of an analysis the caller already reached through
``cdss.jobs.access`` (so the one access rule has been applied)."""

from __future__ import annotations

from cdss.jobs.models import ACTIVE_STATUSES, Analysis, AnalysisArtifact, AnalysisResult, Status
from cdss.reports.models import Interpretation


def interpretation_latest(*, analysis: Analysis, language: str | None) -> Interpretation | None:
    """The newest interpretation (in ``language``; None: in any) whose run completed, or None."""
    found = Interpretation.objects.filter(analysis=analysis, job__status=Status.COMPLETED)
    if language is not None:
        found = found.filter(language=language)
    return found.order_by("-created_at", "-id").first()


def analysis_result_data(*, analysis: Analysis) -> dict[str, object] | None:
    row = AnalysisResult.objects.filter(analysis=analysis).values_list("data", flat=True).first()
    return row if isinstance(row, dict) else None


def interpretation_pending(*, analysis: Analysis, language: str) -> bool:
    """Whether an interpretation of ``analysis`` in ``language`` is queued or running."""
    return Analysis.objects.filter(
        kind="interpretation",
        status__in=ACTIVE_STATUSES,
        inputs__analysis=analysis.pk,
        inputs__language=language,
    ).exists()


def interpretation_job_active(*, analysis: Analysis, language: str | None) -> Analysis | None:
    """The newest interpretation of ``analysis`` (in ``language``; None: in any) that is queued or
    running, or None."""
    jobs = Analysis.objects.filter(
        kind="interpretation", status__in=ACTIVE_STATUSES, inputs__analysis=analysis.pk
    )
    if language is not None:
        jobs = jobs.filter(inputs__language=language)
    return jobs.order_by("-created_at", "-id").first()


def report_latest(*, analysis: Analysis, language: str | None) -> AnalysisArtifact | None:
    """The PDF of the newest COMPLETED report of ``analysis`` (in ``language``; None: in any)."""
    reports = Analysis.objects.filter(
        kind="report", status=Status.COMPLETED, inputs__analysis=analysis.pk
    )
    if language is not None:
        reports = reports.filter(inputs__language=language)
    return (
        AnalysisArtifact.objects.filter(
            analysis__in=reports.values("pk"), name__regex=r"^report-(ko|en)\.pdf$"
        )
        .select_related("analysis")
        .order_by("-analysis__created_at", "-analysis_id")
        .first()
    )
