"""Documents: PDF, or UTF-8 text served as HTML, Markdown or plain text.

A PDF starts with ``%PDF-<major>.<minor>`` and ends (within its last 1024 bytes, where readers
look) with ``%%EOF``: a PDF cut off in transfer has none. Text must be UTF-8 (a byte-order mark is
fine) without NUL bytes, read in chunks so a 50 MB document never sits in memory as one string.
Text that opens with an HTML doctype or ``<html>`` is HTML; otherwise a ``.md`` / ``.markdown``
name makes it Markdown (the one thing decided by name: the two are the same bytes), else text.
"""

from __future__ import annotations

import codecs
import re
from pathlib import Path
from typing import Any

from cdss.files.validation.base import READ_CHUNK, FileRejected

PDF_MAGIC = b"%PDF-"
_PDF_VERSION = re.compile(rb"^%PDF-(\d)\.(\d)")
_PDF_TAIL = 1024
_HTML = re.compile(r"<!doctype\s+html|<html[\s>]", re.IGNORECASE)
_MARKDOWN_SUFFIXES = (".md", ".markdown", ".mdown")


def check_pdf(path: Path, size: int) -> dict[str, Any]:
    with path.open("rb") as fh:
        version = _PDF_VERSION.match(fh.read(16))
        fh.seek(max(0, size - _PDF_TAIL))
        tail = fh.read()
    if version is None:
        raise FileRejected("file: malformed PDF header (expected %PDF-<major>.<minor>)")
    if b"%%EOF" not in tail:
        raise FileRejected(f"file: truncated PDF (no %%EOF marker in its last {_PDF_TAIL} bytes)")
    return {"pdf_version": f"{int(version[1])}.{int(version[2])}"}


def check_text(path: Path, name: str) -> tuple[str, dict[str, Any]]:
    """(format, metadata) of a text document: ``html``, ``markdown`` or ``text``."""
    decoder = codecs.getincrementaldecoder("utf-8-sig")("strict")
    offset = 0
    lines = 1
    last = ""
    head = ""
    with path.open("rb") as fh:
        while True:
            chunk = fh.read(READ_CHUNK)
            try:
                text = decoder.decode(chunk, final=not chunk)
            except UnicodeDecodeError as exc:
                where = offset + max(exc.start, 0)
                raise FileRejected(
                    f"file: not UTF-8 text (line {lines}, near byte {where}); a document must "
                    "be PDF or UTF-8 text (Markdown, plain text or HTML)"
                ) from None
            if "\x00" in text:
                line = lines + text.count("\n", 0, text.index("\x00"))
                raise FileRejected(
                    f"file: holds a NUL byte (line {line}): a binary file, not a document"
                )
            if len(head) < 1024:
                head += text[: 1024 - len(head)]
            lines += text.count("\n")
            last = text[-1:] or last
            offset += len(chunk)
            if not chunk:
                break
    stripped = head.lstrip()
    if stripped.startswith("<") and _HTML.search(stripped):
        fmt = "html"
    elif name.lower().endswith(_MARKDOWN_SUFFIXES):
        fmt = "markdown"
    else:
        fmt = "text"
    return fmt, {"lines": lines - 1 if last in ("\n", "") else lines}
