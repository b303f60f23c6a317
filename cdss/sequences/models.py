"""InferenceLog: the seed's fields plus who, which model, how long and with what outcome."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from cdss.patients.models import Patient


class InferenceLog(models.Model):
    class Kind(models.TextChoices):
        SINGLE = "single", "Single"
        BATCH = "batch", "Batch"

    # The seed's fields.
    doctor_name = models.CharField(max_length=100, blank=True, db_index=True)
    patient_name = models.CharField(max_length=100, blank=True, db_index=True)
    input_data = models.JSONField()
    output_data = models.JSONField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    # Ours.
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    patient = models.ForeignKey(
        Patient, null=True, blank=True, on_delete=models.PROTECT, related_name="inference_logs"
    )
    kind = models.CharField(max_length=16, choices=Kind.choices)
    item_count = models.PositiveIntegerField(default=1)
    input_hash = models.CharField(max_length=64, db_index=True)
    model_name = models.CharField(max_length=100, blank=True)
    model_version = models.CharField(max_length=100, blank=True)
    latency_ms = models.FloatField()
    # "ok", or the error code (invalid_input, inference_unavailable, inference_timeout, ...).
    outcome = models.CharField(max_length=32, db_index=True)
    http_status = models.PositiveSmallIntegerField()
    error_message = models.TextField(blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            # The history's order, carrying the access filter's columns: a page and its bounded
            # count are read from the index alone on PostgreSQL. SQLite and MySQL build it without
            # the included columns (Django's check --database says so: models.W040).
            models.Index(
                fields=["-created_at", "-id"],
                include=["patient", "user"],
                name="seq_log_newest_idx",
            )
        ]

    def __str__(self) -> str:
        return f"InferenceLog #{self.pk} {self.kind} {self.outcome}"
