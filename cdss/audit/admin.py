"""The audit trail in the Django admin: read-only for everyone, superusers included."""

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from cdss.audit.models import AccessEvent


@admin.register(AccessEvent)
class AccessEventAdmin(admin.ModelAdmin[AccessEvent]):
    list_display = ("occurred_at", "user", "action", "patient_id", "object_type", "outcome", "ip")
    list_filter = ("action", "outcome")
    search_fields = ("request_id", "object_id")
    date_hierarchy = "occurred_at"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
