"""Documents to passages: parsing (PDF with page numbers, Markdown, plain text, HTML) and chunking.

``parse`` turns a file into sections (page, heading, text); ``chunk_sections`` packs each section's
paragraphs into chunks of about ``TARGET_WORDS`` words (never more than ``MAX_WORDS``), each
starting with the last ``OVERLAP_WORDS`` words of the one before it in the same section, so a
sentence cut at a boundary is whole in one of them. Headings start new sections, so a chunk never
mixes two. Nothing here touches the database.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path

TARGET_WORDS = 300
MAX_WORDS = 400
OVERLAP_WORDS = 50

_HANGUL = re.compile(r"[\uac00-\ud7a3]")
_LATIN = re.compile(r"[A-Za-z]")
_MD_HEADING = re.compile(r"^\s{0,3}(#{1,6})\s+(.+?)\s*#*\s*$")


@dataclass(frozen=True)
class Section:
    page: int | None
    heading: str
    text: str


@dataclass(frozen=True)
class Piece:
    page: int | None
    heading: str
    text: str


class DocumentUnreadable(Exception):
    """The file cannot be read as the format it claims (a damaged PDF, an encrypted one)."""


def language_of(text: str) -> str:
    """``ko`` when Hangul is at least a fifth of the letters, else ``en``."""
    hangul = len(_HANGUL.findall(text))
    latin = len(_LATIN.findall(text))
    return "ko" if hangul and hangul * 4 >= latin else "en"


def _markdown_sections(text: str, page: int | None = None) -> list[Section]:
    sections: list[Section] = []
    heading = ""
    lines: list[str] = []
    fenced = False

    def flush() -> None:
        body = "\n".join(lines).strip()
        if body:
            sections.append(Section(page, heading, body))
        lines.clear()

    for line in text.splitlines():
        if line.strip().startswith("```"):
            fenced = not fenced
            continue
        match = None if fenced else _MD_HEADING.match(line)
        if match:
            flush()
            heading = _markdown_inline(match.group(2))[:300]
            continue
        lines.append(_markdown_inline(line))
    flush()
    return sections


def _markdown_inline(line: str) -> str:
    """Markdown's markup off a line: links to their text, emphasis and code marks removed."""
    line = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", line)
    line = re.sub(r"[*_`]{1,3}", "", line)
    if re.fullmatch(r"\s*\|?[-:| ]+\|?\s*", line) and "-" in line:
        return ""  # a table's rule line
    return line.replace("|", " ").rstrip()


class _HtmlText(HTMLParser):
    """HTML to Markdown-like text: headings become ``#`` lines, blocks become lines; scripts and
    styles are dropped."""

    _BLOCKS = {"p", "div", "li", "tr", "br", "section", "article", "table", "ul", "ol", "pre"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.out: list[str] = []
        self.skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "style", "head", "nav"):
            self.skip += 1
        elif re.fullmatch(r"h[1-6]", tag):
            self.out.append("\n" + "#" * int(tag[1]) + " ")
        elif tag in self._BLOCKS:
            self.out.append("\n")
        elif tag in ("td", "th"):
            self.out.append(" ")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style", "head", "nav"):
            self.skip = max(0, self.skip - 1)
        elif re.fullmatch(r"h[1-6]", tag) or tag in self._BLOCKS:
            self.out.append("\n")

    def handle_data(self, data: str) -> None:
        if not self.skip:
            self.out.append(re.sub(r"\s+", " ", data))


def html_to_text(source: str) -> str:
    parser = _HtmlText()
    parser.feed(source)
    parser.close()
    return html.unescape("".join(parser.out))


def _pdf_sections(path: Path) -> tuple[list[Section], int]:
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(str(path))
        if reader.is_encrypted:
            raise DocumentUnreadable("the PDF is encrypted")
        sections: list[Section] = []
        for number, page in enumerate(reader.pages, start=1):
            text = page.extract_text() or ""
            # Lines of a PDF page are layout, not paragraphs; a blank line still separates them.
            sections.extend(_markdown_sections(text, page=number))
        return sections, len(reader.pages)
    except DocumentUnreadable:
        raise
    except (PdfReadError, ValueError, KeyError, TypeError) as exc:
        raise DocumentUnreadable(f"the PDF cannot be read: {exc}") from exc


def parse(path: Path, fmt: str) -> tuple[list[Section], int]:
    """(sections, pages) of a file; pages is 0 for a format without pages."""
    if fmt == "pdf":
        return _pdf_sections(path)
    text = path.read_text(encoding="utf-8-sig")
    if fmt == "html":
        text = html_to_text(text)
    if fmt in ("markdown", "html"):
        return _markdown_sections(text), 0
    return [Section(None, "", text.strip())] if text.strip() else [], 0


def _paragraphs(text: str) -> list[str]:
    """Blank-line separated paragraphs, each on one line; a paragraph over MAX_WORDS is cut at
    sentence ends."""
    out: list[str] = []
    for block in re.split(r"\n\s*\n", text):
        block = re.sub(r"\s+", " ", block).strip()
        if not block:
            continue
        if len(block.split()) <= MAX_WORDS:
            out.append(block)
            continue
        current: list[str] = []
        for sentence in re.split(r"(?<=[.!?])\s+", block):
            words = sentence.split()
            if current and len(current) + len(words) > TARGET_WORDS:
                out.append(" ".join(current))
                current = []
            while len(words) > MAX_WORDS:  # one huge "sentence" (a table, a list)
                out.append(" ".join(words[:TARGET_WORDS]))
                words = words[TARGET_WORDS:]
            current.extend(words)
        if current:
            out.append(" ".join(current))
    return out


def _section_pieces(section: Section) -> list[Piece]:
    pieces: list[Piece] = []
    words: list[str] = []
    carried = 0  # words at the start of ``words`` repeated from the chunk before
    for paragraph in [*_paragraphs(section.text), None]:
        size = len(paragraph.split()) if paragraph is not None else 0
        full = len(words) + size > MAX_WORDS or len(words) >= TARGET_WORDS
        if (paragraph is None or full) and len(words) > carried:
            pieces.append(Piece(section.page, section.heading, " ".join(words)))
            words = words[-OVERLAP_WORDS:]
            carried = len(words)
        if paragraph is not None:
            words.extend(paragraph.split())
    return pieces


def chunk_sections(sections: list[Section]) -> list[Piece]:
    return [piece for section in sections for piece in _section_pieces(section)]


def sentences(text: str) -> list[str]:
    """A passage's sentences, for the extractive answer (English and Korean endings)."""
    parts = re.split(r"(?<=[.!?。])\s+|\s*\n\s*", text)
    return [p.strip() for p in parts if p and len(p.strip()) > 1]
