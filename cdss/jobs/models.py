"""Analysis, its one result, its stored files (artifacts), and its status events.

One result per analysis is enforced by the database: ``AnalysisResult.analysis`` is a one-to-one
field (a unique constraint), and a result is only written in the transition PROCESSING ->
COMPLETED. Results live in their own table so listing analyses never loads them.

``AnalysisArtifact`` is a file a run produced (a PNG, a PDF, a mask, a mesh): one per name per
analysis (a unique constraint), stored under ``MEDIA_ROOT/artifacts/<analysis id>/<name>`` and
described by its content type, size and SHA-256. Written only by
``cdss.jobs.services.analysis_artifact_store``.

``AnalysisEvent`` is the history of status transitions, written in the same transaction as each
transition; it is also the outbox that the live-status relay reads in the embedded mode.
"""

from __future__ import annotations

from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models

from cdss.common.models import TimeStampedModel


class Status(models.TextChoices):
    PENDING = "PENDING", "Pending"
    PROCESSING = "PROCESSING", "Processing"
    COMPLETED = "COMPLETED", "Completed"
    FAILED = "FAILED", "Failed"
    CANCELLED = "CANCELLED", "Cancelled"


ACTIVE_STATUSES = (Status.PENDING, Status.PROCESSING)


class ErrorCode(models.TextChoices):
    INFERENCE_UNAVAILABLE = "inference_unavailable", "Inference server unavailable"
    INFERENCE_TIMEOUT = "inference_timeout", "Inference server timed out"
    INFERENCE_BAD_RESPONSE = "inference_bad_response", "Inference server answered badly"
    INVALID_INPUT = "invalid_input", "Invalid input"
    INTERNAL_ERROR = "internal_error", "Internal error"
    WORKER_LOST = "worker_lost", "Worker lost"
    UNKNOWN_KIND = "unknown_kind", "Unknown kind"
    TIME_LIMIT = "time_limit", "Time limit exceeded"


class Analysis(TimeStampedModel):
    kind = models.CharField(max_length=64, db_index=True)
    # Null only for kinds that need no patient (pipeline_check, retraining).
    patient = models.ForeignKey(
        "patients.Patient",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="analyses",
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    status = models.CharField(
        max_length=16, choices=Status.choices, default=Status.PENDING, db_index=True
    )
    inputs = models.JSONField(default=dict)
    # What a kind's run keeps between its runs (a job id on another server); never shown to
    # clients. Written only through cdss.jobs.services.analysis_state_save.
    state = models.JSONField(default=dict, blank=True)
    error_code = models.CharField(max_length=32, choices=ErrorCode.choices, blank=True)
    error_message = models.CharField(max_length=1000, blank=True)
    model_name = models.CharField(max_length=128, blank=True)
    model_version = models.CharField(max_length=128, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    max_attempts = models.PositiveIntegerField(default=5)
    request_id = models.CharField(max_length=64, blank=True)

    # One timestamp per transition (the latest one; AnalysisEvent keeps them all).
    enqueued_at = models.DateTimeField(null=True, blank=True)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    failed_at = models.DateTimeField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)

    # The running attempt's lease: renewed by its worker while it runs; when it lapses, the
    # worker is presumed dead. The token tells a late answer from a dead attempt apart. A
    # PROCESSING analysis with no token is waiting to run again (its kind returned RunLater): due
    # at next_attempt_at, and its lease lapses only if that wake-up never comes.
    lease_token = models.CharField(max_length=32, blank=True)
    lease_expires_at = models.DateTimeField(null=True, blank=True)
    worker = models.CharField(max_length=255, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name_plural = "analyses"
        indexes = [
            models.Index(fields=["status", "lease_expires_at"], name="jobs_status_lease"),
            models.Index(fields=["status", "next_attempt_at"], name="jobs_status_next"),
            models.Index(fields=["patient", "created_at"], name="jobs_patient_created"),
        ]

    def __str__(self) -> str:
        return f"Analysis #{self.pk} {self.kind} {self.status}"


class AnalysisResult(models.Model):
    analysis = models.OneToOneField(Analysis, on_delete=models.CASCADE, related_name="result")
    data = models.JSONField()
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"Result of analysis #{self.analysis_id}"


class AnalysisEvent(models.Model):
    analysis = models.ForeignKey(Analysis, on_delete=models.CASCADE, related_name="events")
    status = models.CharField(max_length=16, choices=Status.choices)
    attempt = models.PositiveIntegerField(default=0)
    error_code = models.CharField(max_length=32, blank=True)
    # Copied from the analysis into each live-status payload (and the audit record of each
    # delivery); who may see it is decided by the analysis (cdss.jobs.selectors).
    patient_id = models.BigIntegerField(null=True, blank=True)
    requested_by_id = models.BigIntegerField(null=True, blank=True)
    occurred_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"Analysis #{self.analysis_id} -> {self.status}"


ARTIFACT_NAME_PATTERN = r"^[A-Za-z0-9_-][A-Za-z0-9._-]{0,99}$"


def artifact_path(analysis_id: int, name: str) -> str:
    """Where an artifact lives, relative to MEDIA_ROOT."""
    return f"artifacts/{analysis_id}/{name}"


def _artifact_upload_to(instance: AnalysisArtifact, filename: str) -> str:
    return artifact_path(instance.analysis_id, instance.name)


class AnalysisArtifact(models.Model):
    analysis = models.ForeignKey(Analysis, on_delete=models.CASCADE, related_name="artifacts")
    # Letters, digits, ".", "_" and "-", not starting with "." (so never "." or ".."): a file
    # name as it is, safe in a path and in a URL.
    name = models.CharField(
        max_length=100,
        validators=[RegexValidator(ARTIFACT_NAME_PATTERN, "Letters, digits, '.', '_', '-'.")],
    )
    content_type = models.CharField(max_length=100)
    size = models.PositiveBigIntegerField()
    sha256 = models.CharField(max_length=64)
    file = models.FileField(upload_to=_artifact_upload_to, max_length=255)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["analysis", "name"], name="jobs_artifact_one_per_name")
        ]

    def __str__(self) -> str:
        return f"Artifact {self.name} of analysis #{self.analysis_id}"
