"""What the interoperability app stores: the CDS Hooks cards it issued and the feedback on them.

``CdsIssuedCard`` is one row per card a ``patient-view`` call returned (its uuid, the client it
went to, the analysis it showed), so feedback can be checked against cards this service really
issued to that client. ``CdsFeedback`` is one row per feedback entry a client posted. Both are
written only by ``cdss.interop.cds_hooks.services``. FHIR (``cdss.interop.fhir``) stores nothing.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models


class Indicator(models.TextChoices):
    INFO = "info", "Info"
    WARNING = "warning", "Warning"
    CRITICAL = "critical", "Critical"


class FeedbackOutcome(models.TextChoices):
    ACCEPTED = "accepted", "Accepted"
    OVERRIDDEN = "overridden", "Overridden"


class CdsIssuedCard(models.Model):
    uuid = models.UUIDField(unique=True)
    # The JWT issuer of the client the card went to: only that client may give feedback on it.
    issuer = models.CharField(max_length=255)
    hook_instance = models.UUIDField()
    analysis = models.ForeignKey(
        "jobs.Analysis", on_delete=models.CASCADE, related_name="+", db_constraint=True
    )
    # Whose access rule the call went through (the named user, or the service account).
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    indicator = models.CharField(max_length=16, choices=Indicator.choices)
    issued_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-issued_at", "-id"]

    def __str__(self) -> str:
        return f"CDS card {self.uuid} (analysis #{self.analysis_id})"


class CdsFeedback(models.Model):
    card = models.ForeignKey(CdsIssuedCard, on_delete=models.CASCADE, related_name="feedback")
    issuer = models.CharField(max_length=255)
    outcome = models.CharField(max_length=16, choices=FeedbackOutcome.choices)
    # The spec's OverrideReason: {"reason": Coding, "userComment": string}; {} when none.
    override_reason = models.JSONField(default=dict, blank=True)
    # The spec's acceptedSuggestions: [{"id": ...}]; this service offers no suggestions yet.
    accepted_suggestions = models.JSONField(default=list, blank=True)
    outcome_timestamp = models.DateTimeField()
    received_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-received_at", "-id"]
        verbose_name_plural = "CDS feedback"

    def __str__(self) -> str:
        return f"CDS feedback {self.outcome} on card {self.card.uuid}"
