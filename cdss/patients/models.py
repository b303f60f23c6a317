"""The Patient record. Deletion is soft (``deleted_at``): clinical records are not destroyed."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from cdss.common.models import TimeStampedModel


class Sex(models.TextChoices):
    FEMALE = "female", "Female"
    MALE = "male", "Male"
    OTHER = "other", "Other"
    UNKNOWN = "unknown", "Unknown"


class Patient(TimeStampedModel):
    mrn = models.CharField("medical record number", max_length=64, unique=True)
    name = models.CharField(max_length=200)
    birth_date = models.DateField(null=True, blank=True)
    sex = models.CharField(max_length=16, choices=Sex.choices, default=Sex.UNKNOWN)
    notes = models.TextField(blank=True, max_length=10_000)
    care_team = models.ManyToManyField(
        settings.AUTH_USER_MODEL, related_name="patients_in_care", blank=True
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    deleted_at = models.DateTimeField(null=True, blank=True, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        # Identifiers only: this string may reach logs.
        return f"Patient #{self.pk}"
