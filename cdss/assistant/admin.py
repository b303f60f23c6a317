"""Admin: prompt templates and documents (with re-index) for staff; chat sessions read-only."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from cdss.assistant.models import ChatSession, Document, Message, PromptTemplate
from cdss.assistant.services import document_index_submit
from cdss.audit.models import Outcome
from cdss.audit.services import access_event_record, access_events_record_page


@admin.register(PromptTemplate)
class PromptTemplateAdmin(admin.ModelAdmin[PromptTemplate]):
    list_display = ["name", "language", "version", "active", "created_at"]
    list_filter = ["name", "language", "active"]
    readonly_fields = ["version", "created_by", "created_at", "updated_at"]


@admin.register(Document)
class DocumentAdmin(admin.ModelAdmin[Document]):
    list_display = ["title", "language", "format", "status", "pages", "chunk_count", "created_at"]
    list_filter = ["status", "language", "format"]
    search_fields = ["title"]
    readonly_fields = [
        "file",
        "format",
        "size",
        "sha256",
        "status",
        "error",
        "pages",
        "chunk_count",
        "chunks_done",
        "chunks_total",
        "indexed_at",
        "bundled_path",
        "uploaded_by",
    ]
    actions = ["reindex"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # uploads go through the API, where they are checked

    @admin.action(description="Index again")
    def reindex(self, request: HttpRequest, queryset: QuerySet[Document]) -> None:
        for document in queryset:
            document_index_submit(user=request.user, document=document)  # type: ignore[arg-type]
        self.message_user(request, f"{queryset.count()} document(s) queued", messages.SUCCESS)


class MessageInline(admin.TabularInline[Message, ChatSession]):
    model = Message
    fields = ["role", "content", "answer_kind", "provider", "guard_outcome", "created_at"]
    readonly_fields = ["role", "content", "answer_kind", "provider", "guard_outcome", "created_at"]
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(ChatSession)
class ChatSessionAdmin(admin.ModelAdmin[ChatSession]):
    """Read-only, for administrators. A session linked to a patient holds that patient's data
    (questions, quoted results), so showing one is recorded like any other read of patient data:
    ``chat_session.list`` per linked session a list page shows, ``chat_session.read`` per one
    opened. The list names patients by id only."""

    list_display = ["id", "user", "patient_id", "title", "updated_at"]
    readonly_fields = ["user", "patient", "title", "prompt_template", "created_at", "updated_at"]
    inlines = [MessageInline]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return bool(getattr(request.user, "is_admin_role", False))

    def changelist_view(self, request: HttpRequest, extra_context: Any = None) -> Any:
        response = super().changelist_view(request, extra_context)
        changelist = getattr(response, "context_data", {}).get("cl")
        if changelist is not None:
            shown = [(s.patient_id, str(s.pk)) for s in changelist.result_list if s.patient_id]
            if shown:
                access_events_record_page(
                    user=request.user,
                    action="chat_session.list",
                    object_type="chat_session",
                    shown=shown,
                )
        return response

    def change_view(
        self, request: HttpRequest, object_id: str, form_url: str = "", extra_context: Any = None
    ) -> Any:
        response = super().change_view(request, object_id, form_url, extra_context)
        session = getattr(response, "context_data", {}).get("original")
        if response.status_code == 200 and session is not None and session.patient_id:
            access_event_record(
                user=request.user,
                action="chat_session.read",
                outcome=Outcome.OK,
                patient_id=session.patient_id,
                object_type="chat_session",
                object_id=str(session.pk),
            )
        return response
