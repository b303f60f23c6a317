"""Content negotiation for routes that answer a file (CSV, PDF, PNG, ...) whatever the client's
Accept header says: DRF would refuse a type it has no renderer for, so the file is sent as it is
and only errors go through a renderer, always JSON (the one error shape)."""

from __future__ import annotations

from typing import Any

from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.request import Request


class FileWithJsonErrorsNegotiation(BaseContentNegotiation):
    def select_parser(self, request: Request, parsers: Any) -> Any:
        return parsers[0] if parsers else None

    def select_renderer(
        self, request: Request, renderers: Any, format_suffix: str | None = None
    ) -> tuple[BaseRenderer, str]:
        return JSONRenderer(), JSONRenderer.media_type
