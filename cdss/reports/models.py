"""An interpretation of a completed analysis, with its provenance.

Written only by ``cdss.reports.services.interpretation_store``, from the run of the
``interpretation`` analysis (``job``) that produced it; a retried run replaces its row. The
latest one shown is that of the newest COMPLETED job.
"""

from __future__ import annotations

from django.db import models


class Language(models.TextChoices):
    KO = "ko", "Korean"
    EN = "en", "English"


class GeneratedBy(models.TextChoices):
    AI = "ai", "AI-generated"
    RULES = "rules", "Generated from the result by rules"


class GuardOutcome(models.TextChoices):
    PASSED = "passed", "Generated text passed the guards"
    FELL_BACK = "fell_back", "Generated text failed the guards; the template was used"
    NOT_APPLICABLE = "not_applicable", "Template: nothing generated"


LABELS = {
    GeneratedBy.AI: {"en": "AI-generated", "ko": "AI 생성"},
    GeneratedBy.RULES: {
        "en": "Generated from the result by rules",
        "ko": "결과로부터 규칙에 따라 생성",
    },
}


class Interpretation(models.Model):
    analysis = models.ForeignKey(
        "jobs.Analysis", on_delete=models.CASCADE, related_name="interpretations"
    )
    job = models.OneToOneField(
        "jobs.Analysis", on_delete=models.CASCADE, related_name="interpretation_made"
    )
    language = models.CharField(max_length=2, choices=Language.choices)
    text = models.TextField()
    generated_by = models.CharField(max_length=8, choices=GeneratedBy.choices)
    provider = models.CharField(max_length=16)  # template, openai or local
    model = models.CharField(max_length=200, help_text="the model that wrote the text")
    prompt_version = models.CharField(max_length=32)
    guard_outcome = models.CharField(max_length=16, choices=GuardOutcome.choices)
    # Why a generated text was refused (each attempt's reasons); empty when it passed.
    guard_notes = models.JSONField(default=list, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["analysis", "language", "created_at"])]

    def __str__(self) -> str:
        return f"Interpretation ({self.language}) of analysis #{self.analysis_id}"

    @property
    def label(self) -> str:
        return LABELS[GeneratedBy(self.generated_by)][self.language]
