"""WebSocket routes of the jobs app (mounted by config/asgi.py)."""

from django.urls import path

from cdss.jobs.consumers import AnalysisStatusConsumer

websocket_urlpatterns = [
    path("ws/analyses/", AnalysisStatusConsumer.as_asgi()),
]
