"""Writes of the reports app: interpretations requested on demand or chained after completion, and
the stored interpretation with its provenance."""

from __future__ import annotations

from django.conf import settings
from django.db import transaction

from cdss.accounts.models import User
from cdss.jobs.models import Analysis
from cdss.jobs.services import analysis_submit
from cdss.reports.facts import INTERPRETABLE_KINDS
from cdss.reports.interpret import Written
from cdss.reports.models import Interpretation

INTERPRETATION_KIND = "interpretation"
REPORT_KIND = "report"


def chained_languages() -> list[str]:
    """The languages every completed analysis is interpreted in (CDSS_INTERPRETATION_LANGUAGES)."""
    return [lang for lang in settings.CDSS_INTERPRETATION_LANGUAGES if lang in ("ko", "en")]


def analysis_chain_after_completion(analysis: Analysis) -> None:
    """A completion listener (``cdss.jobs.services``): queues the interpretation and the report of
    a completed analysis of an interpretable kind, in each configured language, for the user who
    asked for the analysis (through the same access rule as any request of theirs)."""
    if analysis.kind not in INTERPRETABLE_KINDS or analysis.requested_by is None:
        return
    for language in chained_languages():
        interpretation_request(user=analysis.requested_by, analysis=analysis, language=language)
        report_request(user=analysis.requested_by, analysis=analysis, language=language)


@transaction.atomic
def interpretation_request(*, user: User, analysis: Analysis, language: str) -> Analysis:
    """Queues an ``interpretation`` analysis of ``analysis`` (reached through the access rule)."""
    return analysis_submit(
        user=user,
        kind=INTERPRETATION_KIND,
        patient=analysis.patient,
        inputs={"analysis": analysis.pk, "language": language},
    )


@transaction.atomic
def report_request(*, user: User, analysis: Analysis, language: str) -> Analysis:
    """Queues a ``report`` analysis of ``analysis`` (reached through the access rule)."""
    return analysis_submit(
        user=user,
        kind=REPORT_KIND,
        patient=analysis.patient,
        inputs={"analysis": analysis.pk, "language": language},
    )


@transaction.atomic
def interpretation_store(
    *, job: Analysis, source: Analysis, language: str, written: Written
) -> Interpretation:
    """Stores what the ``interpretation`` run ``job`` wrote; a retried run replaces its row."""
    interpretation, _ = Interpretation.objects.update_or_create(
        job=job,
        defaults={
            "analysis": source,
            "language": language,
            "text": written.text,
            "generated_by": written.generated_by,
            "provider": written.provider,
            "model": written.model[:200],
            "prompt_version": written.prompt_version,
            "guard_outcome": written.guard_outcome,
            "guard_notes": list(written.guard_notes),
            "attempts": written.attempts,
        },
    )
    return interpretation
