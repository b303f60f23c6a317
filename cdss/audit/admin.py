"""The audit trail in the Django admin: read-only for everyone, superusers included."""

from typing import Any

from django.contrib import admin
from django.http import HttpRequest, HttpResponse

from cdss.audit.models import AccessEvent, Outcome
from cdss.audit.services import access_event_list_read_record, access_event_record


@admin.register(AccessEvent)
class AccessEventAdmin(admin.ModelAdmin[AccessEvent]):
    list_display = ("occurred_at", "user", "action", "patient_id", "object_type", "outcome", "ip")
    list_filter = ("action", "outcome")
    search_fields = ("request_id", "object_id")
    date_hierarchy = "occurred_at"

    def changelist_view(self, request: HttpRequest, extra_context: Any = None) -> HttpResponse:
        response = super().changelist_view(request, extra_context)
        changelist = getattr(response, "context_data", {}).get("cl")
        if changelist is not None:
            access_event_list_read_record(user=request.user, page=changelist.result_list)
        return response

    def change_view(
        self, request: HttpRequest, object_id: str, form_url: str = "", extra_context: Any = None
    ) -> HttpResponse:
        response = super().change_view(request, object_id, form_url, extra_context)
        event = AccessEvent.objects.filter(pk=object_id).first() if object_id.isdigit() else None
        access_event_record(
            user=request.user,
            action="audit.read",
            outcome=Outcome.OK if event is not None else Outcome.NOT_FOUND,
            patient_id=event.patient_id if event is not None else None,
            object_type="access_event",
            object_id=object_id[:64],
        )
        return response

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
