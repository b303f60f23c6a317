"""/api/v1/assistant/: chat sessions and messages (each its owner's), documents and prompt templates
(ML engineers and administrators), and the retrieval alone (``search/``).

A session someone else owns, a missing one and one whose patient its owner can no longer see are
the same 404. ``POST sessions/{id}/messages/`` answers with the whole stored answer, or with
``?stream=1`` the same frames as the WebSocket, as server-sent events.
"""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator, Iterator
from typing import Any

from asgiref.sync import sync_to_async
from django.core.handlers.asgi import ASGIRequest
from django.http import Http404, StreamingHttpResponse
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.parsers import MultiPartParser
from rest_framework.permissions import BasePermission
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from cdss.accounts.models import User
from cdss.assistant import selectors, services
from cdss.assistant.access import chat_session_for_request
from cdss.assistant.answers import answer_events
from cdss.assistant.models import ChatSession
from cdss.assistant.schemas import (
    SERVER_SENT_EVENT,
    ChatSessionCreateSerializer,
    ChatSessionRenameSerializer,
    ChatSessionSerializer,
    DocumentSerializer,
    DocumentUploadSerializer,
    MessageSerializer,
    PromptTemplateCreateSerializer,
    PromptTemplateSerializer,
    QuestionSerializer,
    SearchQuerySerializer,
    SearchResultSerializer,
    StreamQuerySerializer,
    search_hit,
)
from cdss.assistant.search import search
from cdss.audit.services import access_events_record_page
from cdss.common.openapi import errors, page_parameters, paginated
from cdss.common.pagination import StandardPagination
from cdss.patients.apis import PatientScopedApi

TAGS = ["assistant"]
logger = logging.getLogger(__name__)


class IsCorpusManager(BasePermission):
    message = "Only ML engineers and administrators manage the assistant's documents and prompts."

    def has_permission(self, request: Request, view: Any) -> bool:
        user = request.user
        return bool(user and user.is_authenticated and (user.is_ml_engineer or user.is_admin_role))


def _session_or_404(
    request: Request, session_id: int, action: str, *, audit_success: bool = True
) -> ChatSession:
    return chat_session_for_request(
        user=request.user,  # type: ignore[arg-type]
        session_id=session_id,
        action=action,
        audit_success=audit_success,
    )


def _paged(request: Request, view: APIView, items: Any, serializer: Any) -> Response:
    paginator = StandardPagination()
    page = paginator.paginate_queryset(items, request, view=view)
    assert page is not None
    return paginator.get_paginated_response(serializer(page, many=True).data)


class ChatSessionListCreateApi(APIView):
    @extend_schema(
        operation_id="assistant_sessions_list",
        description="Your chat sessions, most recently used first.",
        parameters=page_parameters(StandardPagination),
        responses={200: paginated(ChatSessionSerializer, StandardPagination), **errors(404)},
        tags=TAGS,
    )
    def get(self, request: Request) -> Response:
        user: User = request.user  # type: ignore[assignment]
        return _paged(
            request, self, selectors.chat_session_list_for_user(user=user), ChatSessionSerializer
        )

    @extend_schema(
        operation_id="assistant_sessions_create",
        description=(
            "Starts a chat session; with `patient`, its answers may draw on that patient's "
            "completed analyses (a patient not of your care team is a 400 naming `patient`)."
        ),
        request=ChatSessionCreateSerializer,
        responses={201: ChatSessionSerializer},
        tags=TAGS,
    )
    def post(self, request: Request) -> Response:
        data = ChatSessionCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        session = services.chat_session_create(
            user=request.user,  # type: ignore[arg-type]
            patient_id=data.validated_data.get("patient"),
            title=data.validated_data.get("title", ""),
            prompt_template_id=data.validated_data.get("prompt_template"),
        )
        return Response(ChatSessionSerializer(session).data, status=status.HTTP_201_CREATED)


class ChatSessionDetailApi(PatientScopedApi):
    @extend_schema(
        operation_id="assistant_sessions_retrieve",
        responses={200: ChatSessionSerializer, **errors(404, _404="No such session of yours.")},
        tags=TAGS,
    )
    def get(self, request: Request, session_id: int) -> Response:
        session = _session_or_404(request, session_id, "chat_session.read")
        return Response(ChatSessionSerializer(session).data)

    @extend_schema(
        operation_id="assistant_sessions_rename",
        request=ChatSessionRenameSerializer,
        responses={200: ChatSessionSerializer, **errors(404, _404="No such session of yours.")},
        tags=TAGS,
    )
    def patch(self, request: Request, session_id: int) -> Response:
        session = _session_or_404(request, session_id, "chat_session.update")
        data = ChatSessionRenameSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        session = services.chat_session_rename(session=session, title=data.validated_data["title"])
        return Response(ChatSessionSerializer(session).data)

    @extend_schema(
        operation_id="assistant_sessions_destroy",
        responses={204: None, **errors(404, _404="No such session of yours.")},
        tags=TAGS,
    )
    def delete(self, request: Request, session_id: int) -> Response:
        session = _session_or_404(request, session_id, "chat_session.delete", audit_success=False)
        services.chat_session_delete(user=request.user, session=session)  # type: ignore[arg-type]
        return Response(status=status.HTTP_204_NO_CONTENT)


def _event(frame: dict[str, Any]) -> bytes:
    return f"event: {frame['type']}\ndata: {json.dumps(frame, ensure_ascii=False)}\n\n".encode()


def _sse(frames: Iterator[dict[str, Any]]) -> Iterator[bytes]:
    # The status line is long gone when a frame fails: the failure is a frame too.
    try:
        for frame in frames:
            yield _event(frame)
    except Exception:
        logger.exception("chat answer failed (server-sent events)")
        yield _event(
            {"type": "error", "code": "internal_error", "error": "The answer could not be written."}
        )


async def _sse_async(frames: Iterator[bytes]) -> AsyncIterator[bytes]:
    # Under ASGI a sync iterator would be read whole before the first byte is sent; each frame
    # is produced in the one sync thread (database_sync_to_async's), as a view's code would be.
    done = object()
    step = sync_to_async(lambda: next(frames, done), thread_sensitive=True)
    while (frame := await step()) is not done:
        yield frame  # type: ignore[misc]


class ChatMessageListCreateApi(PatientScopedApi):
    @extend_schema(
        operation_id="assistant_messages_list",
        parameters=page_parameters(StandardPagination),
        responses={
            200: paginated(MessageSerializer, StandardPagination),
            **errors(404, _404="No such session of yours."),
        },
        tags=TAGS,
    )
    def get(self, request: Request, session_id: int) -> Response:
        # Each message shown is recorded below, for a patient's session.
        session = _session_or_404(request, session_id, "chat_message.list", audit_success=False)
        paginator = StandardPagination()
        page = paginator.paginate_queryset(selectors.message_list(session=session), request, self)
        assert page is not None
        if session.patient_id is not None:  # a patient's session: its messages are patient data
            access_events_record_page(
                user=request.user,
                action="chat_message.list",
                object_type="chat_message",
                shown=[(session.patient_id, str(m.pk)) for m in page] or [(session.patient_id, "")],
            )
        return paginator.get_paginated_response(MessageSerializer(page, many=True).data)

    @extend_schema(
        operation_id="assistant_messages_create",
        description=(
            "Asks a question; answers with the stored answer and its citations (document, page, "
            "excerpt). With `?stream=1` the answer comes as server-sent events instead: "
            "`sources`, then `delta` frames, then `done` with the stored message."
        ),
        parameters=[StreamQuerySerializer],
        request=QuestionSerializer,
        responses={
            201: MessageSerializer,
            (200, "text/event-stream"): OpenApiResponse(
                SERVER_SENT_EVENT,
                description="With ?stream=1: one event per frame (sources, delta, done, error).",
            ),
            **errors(404, _404="No such session of yours."),
        },
        tags=TAGS,
    )
    def post(self, request: Request, session_id: int) -> Any:
        user: User = request.user  # type: ignore[assignment]
        # The answer's own reads (the patient's analyses) and the message are recorded as they
        # happen (cdss.assistant.answers).
        session = _session_or_404(request, session_id, "chat_message.create", audit_success=False)
        query = StreamQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        data = QuestionSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        frames = answer_events(user=user, session=session, question=data.validated_data["content"])
        if query.validated_data["stream"]:
            body = _sse(frames)
            response = StreamingHttpResponse(
                _sse_async(body) if isinstance(request._request, ASGIRequest) else body,
                content_type="text/event-stream; charset=utf-8",
            )
            response["Cache-Control"] = "no-cache"
            response["X-Accel-Buffering"] = "no"  # nginx: pass each frame on at once
            return response
        last: dict[str, Any] = {}
        for frame in frames:
            last = frame
        return Response(last["message"], status=status.HTTP_201_CREATED)


class DocumentListCreateApi(APIView):
    permission_classes = [IsCorpusManager]
    parser_classes = [MultiPartParser]

    @extend_schema(
        operation_id="assistant_documents_list",
        parameters=page_parameters(StandardPagination),
        responses={200: paginated(DocumentSerializer, StandardPagination), **errors(403, 404)},
        tags=TAGS,
    )
    def get(self, request: Request) -> Response:
        return _paged(request, self, selectors.document_list(), DocumentSerializer)

    @extend_schema(
        operation_id="assistant_documents_create",
        description=(
            "Uploads a PDF, Markdown, plain text or HTML document (multipart: `file`, optional "
            "`title` and `language`); it is indexed by an `assistant_index` analysis in a worker "
            "(the document's `status` and `progress` follow it). The same content twice is a 409."
        ),
        request={"multipart/form-data": DocumentUploadSerializer},
        responses={201: DocumentSerializer, **errors(403, 409)},
        tags=TAGS,
    )
    def post(self, request: Request) -> Response:
        data = DocumentUploadSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        document = services.document_upload(
            user=request.user,  # type: ignore[arg-type]
            upload=data.validated_data["file"],
            title=data.validated_data.get("title", ""),
            language=data.validated_data.get("language", ""),
        )
        document.refresh_from_db()
        return Response(DocumentSerializer(document).data, status=status.HTTP_201_CREATED)


def _document_or_404(document_id: int) -> Any:
    document = selectors.document_get(document_id=document_id)
    if document is None:
        raise Http404("Not found.")
    return document


class DocumentDetailApi(APIView):
    permission_classes = [IsCorpusManager]

    @extend_schema(
        operation_id="assistant_documents_retrieve",
        responses={200: DocumentSerializer, **errors(403, 404)},
        tags=TAGS,
    )
    def get(self, request: Request, document_id: int) -> Response:
        return Response(DocumentSerializer(_document_or_404(document_id)).data)

    @extend_schema(
        operation_id="assistant_documents_destroy",
        responses={204: None, **errors(403, 404)},
        tags=TAGS,
    )
    def delete(self, request: Request, document_id: int) -> Response:
        services.document_delete(
            user=request.user,  # type: ignore[arg-type]
            document=_document_or_404(document_id),
        )
        return Response(status=status.HTTP_204_NO_CONTENT)


class DocumentReindexApi(APIView):
    permission_classes = [IsCorpusManager]

    @extend_schema(
        operation_id="assistant_documents_reindex",
        request=None,
        responses={202: DocumentSerializer, **errors(403, 404)},
        tags=TAGS,
    )
    def post(self, request: Request, document_id: int) -> Response:
        document = _document_or_404(document_id)
        services.document_index_submit(user=request.user, document=document)  # type: ignore[arg-type]
        document.refresh_from_db()
        return Response(DocumentSerializer(document).data, status=status.HTTP_202_ACCEPTED)


class PromptTemplateListCreateApi(APIView):
    permission_classes = [IsCorpusManager]

    @extend_schema(
        operation_id="assistant_prompts_list",
        parameters=page_parameters(StandardPagination),
        responses={
            200: paginated(PromptTemplateSerializer, StandardPagination),
            **errors(403, 404),
        },
        tags=TAGS,
    )
    def get(self, request: Request) -> Response:
        return _paged(request, self, selectors.prompt_template_list(), PromptTemplateSerializer)

    @extend_schema(
        operation_id="assistant_prompts_create",
        description=(
            "A new version of a named prompt (`assistant` is the one answers use, per language); "
            "the text must hold `{passages}`, where the numbered passages go. Active by default, "
            "which retires the version that was."
        ),
        request=PromptTemplateCreateSerializer,
        responses={201: PromptTemplateSerializer, **errors(403)},
        tags=TAGS,
    )
    def post(self, request: Request) -> Response:
        data = PromptTemplateCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        template = services.prompt_template_create(
            user=request.user,  # type: ignore[arg-type]
            **data.validated_data,
        )
        return Response(PromptTemplateSerializer(template).data, status=status.HTTP_201_CREATED)


class PromptTemplateActivateApi(APIView):
    permission_classes = [IsCorpusManager]

    @extend_schema(
        operation_id="assistant_prompts_activate",
        description="Makes this version the active one of its name and language.",
        request=None,
        responses={200: PromptTemplateSerializer, **errors(403, 404)},
        tags=TAGS,
    )
    def post(self, request: Request, prompt_id: int) -> Response:
        template = selectors.prompt_template_get(prompt_id=prompt_id)
        if template is None:
            raise Http404("Not found.")
        template = services.prompt_template_activate(
            user=request.user,  # type: ignore[arg-type]
            template=template,
        )
        return Response(PromptTemplateSerializer(template).data)


class SearchApi(APIView):
    @extend_schema(
        operation_id="assistant_search",
        description="The retrieval alone: the best passages of the corpus for `q`, best first.",
        parameters=[SearchQuerySerializer],
        responses={200: SearchResultSerializer},
        tags=TAGS,
    )
    def get(self, request: Request) -> Response:
        query = SearchQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        hits = search(query.validated_data["q"], limit=query.validated_data["limit"])
        return Response(
            {"query": query.validated_data["q"], "results": [search_hit(hit) for hit in hits]}
        )
