"""A read-only admin list of patient files: ids, role, format, size and hash only. The file name
and metadata may identify the patient, and the content is read through the audited API."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from cdss.files.models import PatientFile


@admin.register(PatientFile)
class PatientFileAdmin(admin.ModelAdmin[PatientFile]):
    list_display = ("id", "patient_id", "role", "format", "size", "sha256", "created_at")
    list_filter = ("role", "format")
    fields = ("patient", "uploaded_by", "role", "format", "content_type", "size", "sha256")

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
