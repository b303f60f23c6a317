"""A DRF parser for FASTA bodies (text/x-fasta, text/plain)."""

from __future__ import annotations

from typing import Any

from rest_framework.exceptions import ParseError
from rest_framework.parsers import BaseParser


class FastaParser(BaseParser):
    media_type = "text/*"

    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> Any:
        try:
            return {"fasta": stream.read().decode("utf-8")}
        except UnicodeDecodeError as exc:
            raise ParseError("FASTA body is not UTF-8 text.") from exc
