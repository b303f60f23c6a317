"""WebSocket routes of the assistant (mounted by config/asgi.py)."""

from django.urls import path

from cdss.assistant.consumers import ChatConsumer

websocket_urlpatterns = [
    path("ws/chat/<int:session_id>/", ChatConsumer.as_asgi()),
]
