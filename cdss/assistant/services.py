"""Every write of the assistant: keyword-only, typed, atomic, audited where patient data is touched.

Documents: an upload is checked like a patient document (``cdss.files.validation``: PDF, or UTF-8
Markdown, text or HTML, sniffed from the content), stored once by content (``sha256`` is unique),
and indexed by an ``assistant_index`` analysis in a worker (``document_index``: parse, chunk,
embed, then swap the chunks in one transaction and bump ``IndexState.generation``). The bundled
corpus (README, model cards) is indexed in-process by ``corpus_load``.
"""

from __future__ import annotations

import hashlib
import logging
import tempfile
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import numpy as np
from django.core.files.base import ContentFile, File
from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import Max
from django.http import Http404
from django.utils import timezone

from cdss.accounts.models import User
from cdss.assistant.embeddings import embed_passages, to_bytes
from cdss.assistant.models import (
    AnswerKind,
    ChatSession,
    Chunk,
    Document,
    DocumentStatus,
    GuardOutcome,
    IndexState,
    Message,
    PromptTemplate,
    Role,
)
from cdss.assistant.search import analyze
from cdss.assistant.text import DocumentUnreadable, Piece, chunk_sections, language_of, parse
from cdss.audit.models import Outcome
from cdss.audit.services import access_event_record
from cdss.common.exceptions import ApplicationError, ConflictError
from cdss.files.validation import FileLimits, FileRejected, check_file
from cdss.patients.access import patient_for_request

logger = logging.getLogger(__name__)

INDEX_KIND = "assistant_index"
_READ_CHUNK = 1024 * 1024


class AssistantPermissionError(ApplicationError):
    status_code = 403


def _require_manager(user: User) -> None:
    if not (user.is_ml_engineer or user.is_admin_role):
        raise AssistantPermissionError(
            "Only ML engineers and administrators manage the assistant's documents and prompts."
        )


# --- chat sessions ------------------------------------------------------------------------------


@transaction.atomic
def chat_session_create(
    *, user: User, patient_id: int | None, title: str = "", prompt_template_id: int | None = None
) -> ChatSession:
    """A new session; a patient is reached through the audited access path, and someone else's
    is the same 400 as a missing one."""
    patient = None
    if patient_id is not None:
        try:
            patient = patient_for_request(
                user=user,
                patient_id=patient_id,
                action="chat_session.create",
                object_type="chat_session",
                audit_success=False,
            )
        except Http404:
            raise ApplicationError(
                "patient: not found", detail={"patient": ["Not found."]}
            ) from None
    template = None
    if prompt_template_id is not None:
        template = PromptTemplate.objects.filter(pk=prompt_template_id).first()
        if template is None:
            raise ApplicationError(
                "prompt_template: not found", detail={"prompt_template": ["Not found."]}
            )
    session = ChatSession.objects.create(
        user=user, patient=patient, title=title.strip()[:200], prompt_template=template
    )
    if patient is not None:
        access_event_record(
            user=user,
            action="chat_session.create",
            outcome=Outcome.OK,
            patient_id=patient.pk,
            object_type="chat_session",
            object_id=str(session.pk),
        )
    return session


@transaction.atomic
def chat_session_rename(*, session: ChatSession, title: str) -> ChatSession:
    session.title = title.strip()[:200]
    session.save(update_fields=["title", "updated_at"])
    return session


@transaction.atomic
def chat_session_delete(*, user: User, session: ChatSession) -> None:
    if session.patient_id is not None:
        access_event_record(
            user=user,
            action="chat_session.delete",
            outcome=Outcome.OK,
            patient_id=session.patient_id,
            object_type="chat_session",
            object_id=str(session.pk),
        )
    session.delete()


@transaction.atomic
def message_question_store(*, session: ChatSession, content: str) -> Message:
    message = Message.objects.create(
        session=session, role=Role.USER, content=content, answer_kind=AnswerKind.QUESTION
    )
    if not session.title:
        session.title = content.strip().splitlines()[0][:80] if content.strip() else ""
    session.save(update_fields=["title", "updated_at"])
    return message


@dataclass(frozen=True)
class Answer:
    text: str
    kind: str
    citations: list[dict[str, Any]]
    provider: str
    model: str
    guard_outcome: str = GuardOutcome.NOT_APPLICABLE
    guard_notes: tuple[str, ...] = ()
    prompt_tokens: int = 0
    completion_tokens: int = 0


@transaction.atomic
def message_answer_store(
    *, user: User, session: ChatSession, answer: Answer, latency_ms: int
) -> Message:
    message = Message.objects.create(
        session=session,
        role=Role.ASSISTANT,
        content=answer.text,
        answer_kind=answer.kind,
        citations=answer.citations,
        provider=answer.provider,
        model=answer.model[:200],
        guard_outcome=answer.guard_outcome,
        guard_notes=list(answer.guard_notes),
        prompt_tokens=answer.prompt_tokens,
        completion_tokens=answer.completion_tokens,
        latency_ms=max(0, latency_ms),
    )
    ChatSession.objects.filter(pk=session.pk).update(updated_at=timezone.now())
    if session.patient_id is not None:
        access_event_record(
            user=user,
            action="chat_message.create",
            outcome=Outcome.OK,
            patient_id=session.patient_id,
            object_type="chat_message",
            object_id=str(message.pk),
        )
    return message


# --- prompt templates ----------------------------------------------------------------------------


@transaction.atomic
def prompt_template_create(
    *, user: User, name: str, language: str, text: str, active: bool = True
) -> PromptTemplate:
    """A new version of the named prompt; when active, the earlier active version stops being."""
    _require_manager(user)
    latest = PromptTemplate.objects.select_for_update().filter(name=name, language=language)
    version = (latest.aggregate(v=Max("version"))["v"] or 0) + 1
    if active:
        latest.filter(active=True).update(active=False)
    return PromptTemplate.objects.create(
        name=name, language=language, version=version, text=text, active=active, created_by=user
    )


@transaction.atomic
def prompt_template_activate(*, user: User, template: PromptTemplate) -> PromptTemplate:
    _require_manager(user)
    PromptTemplate.objects.filter(
        name=template.name, language=template.language, active=True
    ).exclude(pk=template.pk).update(active=False)
    template.active = True
    template.save(update_fields=["active", "updated_at"])
    return template


# --- documents -----------------------------------------------------------------------------------


def _hash_file(handle: IO[bytes]) -> tuple[str, int]:
    digest = hashlib.sha256()
    size = 0
    while chunk := handle.read(_READ_CHUNK):
        digest.update(chunk)
        size += len(chunk)
    return digest.hexdigest(), size


def _checked_format(path: Path, name: str, size: int) -> str:
    try:
        checked = check_file(
            path, role="document", name=name, size=size, limits=FileLimits.from_settings("document")
        )
    except FileRejected as exc:
        raise ApplicationError(str(exc), detail={"file": [str(exc)]}) from exc
    return checked.format


def _stored_name(sha256: str, fmt: str) -> str:
    suffix = {"pdf": "pdf", "markdown": "md", "text": "txt", "html": "html"}[fmt]
    return f"assistant/{sha256[:2]}/{sha256}.{suffix}"


def document_upload(*, user: User, upload: File, title: str = "", language: str = "") -> Document:  # type: ignore[type-arg]
    """Checks and stores an upload, then queues its indexing. The same content twice is a 409."""
    _require_manager(user)
    name = Path(upload.name or "document").name
    with tempfile.NamedTemporaryFile(prefix="cdss-doc-") as staged:
        for piece in upload.chunks(_READ_CHUNK):
            staged.write(piece)
        staged.flush()
        staged.seek(0)
        sha256, size = _hash_file(staged)  # type: ignore[arg-type]
        fmt = _checked_format(Path(staged.name), name, size)
        existing = Document.objects.filter(sha256=sha256).first()
        if existing is not None:
            raise ConflictError(
                f"file: this document is already in the corpus (document {existing.pk})",
                detail={"file": [f"Already uploaded as document {existing.pk}."]},
            )
        staged.seek(0)
        return _document_create(
            user=user,
            title=title.strip() or Path(name).stem,
            language=language,
            fmt=fmt,
            sha256=sha256,
            size=size,
            content=File(staged),  # type: ignore[arg-type]
        )


@transaction.atomic
def _document_create(
    *,
    user: User | None,
    title: str,
    language: str,
    fmt: str,
    sha256: str,
    size: int,
    content: File,  # type: ignore[type-arg]
    bundled_path: str = "",
    queue: bool = True,
) -> Document:
    stored = _stored_name(sha256, fmt)
    if not default_storage.exists(stored):
        default_storage.save(stored, content)
    document = Document.objects.create(
        title=title[:300],
        language=language,
        file=stored,
        format=fmt,
        size=size,
        sha256=sha256,
        bundled_path=bundled_path,
        uploaded_by=user,
    )
    if queue and user is not None:
        document_index_submit(user=user, document=document)
    return document


def document_index_submit(*, user: User, document: Document) -> None:
    from cdss.jobs.services import analysis_submit

    _require_manager(user)
    Document.objects.filter(pk=document.pk).update(
        status=DocumentStatus.PENDING, error="", chunks_done=0, chunks_total=0
    )
    analysis_submit(user=user, kind=INDEX_KIND, patient=None, inputs={"document": document.pk})


def _bump_generation() -> None:
    IndexState.objects.update_or_create(pk=1, defaults={"generation": uuid.uuid4().hex})


@transaction.atomic
def document_delete(*, user: User, document: Document) -> None:
    _require_manager(user)
    name = document.file.name
    document.delete()  # its chunks too, and with them their keyword index rows (triggers)
    _bump_generation()
    if name and not Document.objects.filter(file=name).exists():
        transaction.on_commit(lambda: default_storage.delete(name))


Progress = Callable[[int, int], None]


def document_index(*, document_id: int, progress: Progress | None = None) -> Document:
    """Parses, chunks and embeds a document, then replaces its chunks at once. Safe to run again:
    the swap is one transaction, and a second run gives the same chunks."""
    document = Document.objects.get(pk=document_id)
    Document.objects.filter(pk=document.pk).update(status=DocumentStatus.INDEXING, error="")
    try:
        with (
            document.file.storage.open(document.file.name, "rb") as handle,
            tempfile.NamedTemporaryFile(prefix="cdss-doc-") as local,
        ):
            while piece := handle.read(_READ_CHUNK):
                local.write(piece)
            local.flush()
            sections, pages = parse(Path(local.name), document.format)
    except (DocumentUnreadable, UnicodeDecodeError, OSError) as exc:
        Document.objects.filter(pk=document.pk).update(
            status=DocumentStatus.FAILED, error=str(exc)[:1000]
        )
        raise ApplicationError(f"document: {exc}") from exc
    pieces = chunk_sections(sections)
    total = len(pieces)
    if not total:
        message = "the document holds no text (a scanned PDF needs OCR first)"
        Document.objects.filter(pk=document.pk).update(status=DocumentStatus.FAILED, error=message)
        raise ApplicationError(f"document: {message}")
    Document.objects.filter(pk=document.pk).update(chunks_total=total, chunks_done=0)
    vectors: list[np.ndarray] = []
    step = 8
    for start in range(0, total, step):
        batch = pieces[start : start + step]
        vectors.extend(embed_passages([_context(document, p) for p in batch]))
        done = min(total, start + step)
        Document.objects.filter(pk=document.pk).update(chunks_done=done)
        if progress is not None:
            progress(done, total)
    language = document.language or language_of(" ".join(p.text for p in pieces[:20]))
    with transaction.atomic():
        Chunk.objects.filter(document_id=document.pk).delete()
        Chunk.objects.bulk_create(
            [
                Chunk(
                    document_id=document.pk,
                    page=piece.page,
                    position=i,
                    heading=piece.heading[:300],
                    text=piece.text,
                    language=language_of(piece.text) if document.language == "" else language,
                    terms=" ".join(analyze(_context(document, piece))),
                    embedding=to_bytes(vector),
                )
                for i, (piece, vector) in enumerate(zip(pieces, vectors, strict=True))
            ],
            batch_size=500,
        )
        Document.objects.filter(pk=document.pk).update(
            status=DocumentStatus.READY,
            language=language,
            pages=pages,
            chunk_count=total,
            chunks_done=total,
            indexed_at=timezone.now(),
        )
        _bump_generation()
    document.refresh_from_db()
    return document


def _context(document: Document, piece: Piece) -> str:
    """What is embedded and keyword-indexed for a chunk: its text under its document's title and
    its section's heading, so a passage that never names its subject is still found by it."""
    return "\n".join(part for part in (document.title, piece.heading, piece.text) if part)


def document_index_failed(*, document_id: int, message: str) -> None:
    Document.objects.filter(pk=document_id).update(
        status=DocumentStatus.FAILED, error=message[:1000]
    )


# --- the bundled corpus --------------------------------------------------------------------------


def corpus_load(*, paths: list[tuple[str, Path]], echo: Callable[[str], None]) -> int:
    """Indexes each (repository path, file) in this process; a file whose content is unchanged
    since it was last indexed is skipped, a changed one replaced. Returns how many were indexed."""
    indexed = 0
    for key, path in paths:
        data = path.read_bytes()
        sha256 = hashlib.sha256(data).hexdigest()
        current = Document.objects.filter(bundled_path=key).first()
        if current is not None and current.sha256 == sha256:
            if current.status == DocumentStatus.READY:
                continue
        else:
            if current is not None:
                with transaction.atomic():
                    current.delete()
                    _bump_generation()
            same = Document.objects.filter(sha256=sha256).first()
            if same is not None:  # the same text uploaded by hand: keep that one
                continue
            fmt = "markdown" if path.suffix.lower() in (".md", ".markdown") else "text"
            current = _document_create(
                user=None,
                title=_title_of(data, key),
                language="",
                fmt=fmt,
                sha256=sha256,
                size=len(data),
                content=ContentFile(data),
                bundled_path=key,
                queue=False,
            )
        document = document_index(document_id=current.pk, progress=_progress_echo(key, echo))
        echo(f"{key}: indexed ({document.chunk_count} chunks)")
        indexed += 1
    return indexed


def _progress_echo(key: str, echo: Callable[[str], None]) -> Progress:
    return lambda done, total: echo(f"{key}: {done}/{total} chunks")


def _title_of(data: bytes, key: str) -> str:
    for line in data.decode("utf-8", "replace").splitlines():
        if line.startswith("# "):
            return f"{line[2:].strip()} ({key})"[:300]
    return key
