"""Read-only admin views of analyses: changes go through the API's services (audited)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from cdss.jobs.models import Analysis, AnalysisEvent


class _ReadOnly:
    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Analysis)
class AnalysisAdmin(_ReadOnly, admin.ModelAdmin[Analysis]):
    list_display = ("id", "kind", "status", "patient_id", "attempts", "error_code", "created_at")
    list_filter = ("status", "kind", "error_code")
    exclude = ("inputs",)  # may hold patient data; read it through the audited API


@admin.register(AnalysisEvent)
class AnalysisEventAdmin(_ReadOnly, admin.ModelAdmin[AnalysisEvent]):
    list_display = ("id", "analysis_id", "status", "attempt", "error_code", "occurred_at")
    list_filter = ("status",)
