"""Request and response shapes of the assistant's API (validation and OpenAPI in one place)."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from cdss.assistant.models import ChatSession, Document, Language, Message, PromptTemplate
from cdss.common.serializers import IdField, StrictInputSerializer, StrictSerializer

MAX_QUESTION_CHARS = 4000


class IndexInputSerializer(StrictInputSerializer):
    document = IdField()


class IndexResultSerializer(StrictSerializer):
    ok = serializers.BooleanField()
    document = serializers.IntegerField()
    pages = serializers.IntegerField()
    chunks = serializers.IntegerField()
    language = serializers.CharField()
    model_name = serializers.CharField()
    model_version = serializers.CharField()


class ChatSessionCreateSerializer(StrictInputSerializer):
    patient = IdField(required=False, allow_null=True)
    title = serializers.CharField(required=False, allow_blank=True, max_length=200)
    prompt_template = IdField(required=False, allow_null=True)


class ChatSessionRenameSerializer(StrictInputSerializer):
    title = serializers.CharField(allow_blank=True, max_length=200)


class ChatSessionSerializer(serializers.ModelSerializer):  # type: ignore[type-arg]
    class Meta:
        model = ChatSession
        fields = ["id", "title", "patient", "prompt_template", "created_at", "updated_at"]
        read_only_fields = fields


class CitationSerializer(StrictSerializer):
    n = serializers.IntegerField()
    document = serializers.CharField()
    section = serializers.CharField(allow_blank=True)
    document_id = serializers.IntegerField(allow_null=True)
    analysis_id = serializers.IntegerField(allow_null=True)
    page = serializers.IntegerField(allow_null=True)
    excerpt = serializers.CharField()
    score = serializers.FloatField()


class MessageSerializer(serializers.ModelSerializer):  # type: ignore[type-arg]
    citations = CitationSerializer(many=True)

    class Meta:
        model = Message
        fields = [
            "id",
            "role",
            "content",
            "answer_kind",
            "citations",
            "provider",
            "model",
            "guard_outcome",
            "guard_notes",
            "prompt_tokens",
            "completion_tokens",
            "latency_ms",
            "created_at",
        ]
        read_only_fields = fields


class QuestionSerializer(StrictInputSerializer):
    content = serializers.CharField(max_length=MAX_QUESTION_CHARS, trim_whitespace=True)


class StreamQuerySerializer(StrictInputSerializer):
    stream = serializers.BooleanField(required=False, default=False)


# One event of ``?stream=1`` as OpenAPI describes a text/event-stream body: ``event`` names the
# frame, ``data`` is the frame as JSON.
SERVER_SENT_EVENT = {
    "type": "object",
    "properties": {
        "event": {"type": "string", "enum": ["sources", "delta", "done", "error"]},
        "data": {"type": "string"},
    },
    "required": ["event", "data"],
}


class DocumentSerializer(serializers.ModelSerializer):  # type: ignore[type-arg]
    progress = serializers.SerializerMethodField()
    # Empty until indexing detects it, when the upload did not say.
    language = serializers.ChoiceField(
        choices=Language.choices,
        allow_blank=True,
        read_only=True,
        help_text="ko or en; empty until indexing detects it",
    )

    class Meta:
        model = Document
        fields = [
            "id",
            "title",
            "language",
            "format",
            "size",
            "sha256",
            "status",
            "error",
            "pages",
            "chunk_count",
            "progress",
            "bundled_path",
            "created_at",
            "indexed_at",
        ]
        read_only_fields = fields

    def get_progress(self, document: Document) -> float:
        if document.status == "ready":
            return 1.0
        if not document.chunks_total:
            return 0.0
        return round(document.chunks_done / document.chunks_total, 3)


class DocumentUploadSerializer(StrictInputSerializer):
    file = serializers.FileField()
    title = serializers.CharField(required=False, allow_blank=True, max_length=300)
    language = serializers.ChoiceField(choices=Language.choices, required=False, allow_blank=True)


class PromptTemplateSerializer(serializers.ModelSerializer):  # type: ignore[type-arg]
    class Meta:
        model = PromptTemplate
        fields = ["id", "name", "language", "version", "text", "active", "created_at"]
        read_only_fields = fields


class PromptTemplateCreateSerializer(StrictInputSerializer):
    name = serializers.SlugField(max_length=64)
    language = serializers.ChoiceField(choices=Language.choices)
    text = serializers.CharField(max_length=20_000)
    active = serializers.BooleanField(required=False, default=True)

    def validate_text(self, value: str) -> str:
        if "{passages}" not in value:
            raise serializers.ValidationError("The text must hold the placeholder {passages}.")
        return value


class SearchQuerySerializer(StrictInputSerializer):
    q = serializers.CharField(max_length=MAX_QUESTION_CHARS)
    limit = serializers.IntegerField(required=False, min_value=1, max_value=20, default=5)


class SearchHitSerializer(StrictSerializer):
    document = serializers.CharField()
    document_id = serializers.IntegerField()
    page = serializers.IntegerField(allow_null=True)
    heading = serializers.CharField(allow_blank=True)
    excerpt = serializers.CharField()
    score = serializers.FloatField()
    cosine = serializers.FloatField()
    keyword = serializers.FloatField()


class SearchResultSerializer(StrictSerializer):
    query = serializers.CharField()
    results = SearchHitSerializer(many=True)


def search_hit(hit: Any) -> dict[str, Any]:
    chunk = hit.chunk
    return {
        "document": chunk.document.title,
        "document_id": chunk.document_id,
        "page": chunk.page,
        "heading": chunk.heading,
        "excerpt": chunk.text[:400],
        "score": round(hit.score, 4),
        "cosine": round(hit.cosine, 4),
        "keyword": round(hit.keyword, 4),
    }
