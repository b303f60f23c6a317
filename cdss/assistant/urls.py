from django.urls import path

from cdss.assistant import apis

urlpatterns = [
    path("sessions/", apis.ChatSessionListCreateApi.as_view(), name="assistant-session-list"),
    path(
        "sessions/<id:session_id>/",
        apis.ChatSessionDetailApi.as_view(),
        name="assistant-session-detail",
    ),
    path(
        "sessions/<id:session_id>/messages/",
        apis.ChatMessageListCreateApi.as_view(),
        name="assistant-message-list",
    ),
    path("documents/", apis.DocumentListCreateApi.as_view(), name="assistant-document-list"),
    path(
        "documents/<id:document_id>/",
        apis.DocumentDetailApi.as_view(),
        name="assistant-document-detail",
    ),
    path(
        "documents/<id:document_id>/reindex/",
        apis.DocumentReindexApi.as_view(),
        name="assistant-document-reindex",
    ),
    path("prompts/", apis.PromptTemplateListCreateApi.as_view(), name="assistant-prompt-list"),
    path(
        "prompts/<id:prompt_id>/activate/",
        apis.PromptTemplateActivateApi.as_view(),
        name="assistant-prompt-activate",
    ),
    path("search/", apis.SearchApi.as_view(), name="assistant-search"),
]
