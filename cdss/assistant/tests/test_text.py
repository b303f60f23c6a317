"""Parsing and chunking: headings split sections, chunks stay within their size with overlap, a
PDF keeps its page numbers, HTML loses its markup."""

from __future__ import annotations

import itertools
from pathlib import Path

from cdss.assistant.search import analyze
from cdss.assistant.tests.pdf import pdf_with_pages
from cdss.assistant.text import (
    MAX_WORDS,
    OVERLAP_WORDS,
    Section,
    chunk_sections,
    html_to_text,
    language_of,
    parse,
)


def test_markdown_headings_start_sections(tmp_path: Path) -> None:
    path = tmp_path / "a.md"
    path.write_text("# One\n\nalpha **beta** [link](http://x)\n\n## Two\n\ngamma\n")
    sections, pages = parse(path, "markdown")
    assert pages == 0
    assert [(s.heading, s.text) for s in sections] == [("One", "alpha beta link"), ("Two", "gamma")]


def test_long_sections_are_chunked_with_overlap() -> None:
    paragraphs = [" ".join(f"w{p}_{i}" for i in range(120)) for p in range(10)]
    pieces = chunk_sections([Section(None, "H", "\n\n".join(paragraphs))])
    assert len(pieces) > 2
    sizes = [len(p.text.split()) for p in pieces]
    assert max(sizes) <= MAX_WORDS
    for before, after in itertools.pairwise(pieces):
        assert after.text.split()[:OVERLAP_WORDS] == before.text.split()[-OVERLAP_WORDS:]
    words = {w for p in pieces for w in p.text.split()}
    assert words == {w for p in paragraphs for w in p.split()}  # nothing lost


def test_pdf_pages_are_kept(tmp_path: Path) -> None:
    path = tmp_path / "a.pdf"
    path.write_bytes(pdf_with_pages(["First page about sepsis.", "Second page about insulin."]))
    sections, pages = parse(path, "pdf")
    assert pages == 2
    assert [(s.page, "sepsis" in s.text, "insulin" in s.text) for s in sections] == [
        (1, True, False),
        (2, False, True),
    ]


def test_html_to_text_keeps_headings_drops_scripts() -> None:
    text = html_to_text(
        "<html><head><title>x</title></head><body><h2>Dose</h2><p>Give 5&nbsp;mg.</p>"
        "<script>alert(1)</script></body></html>"
    )
    assert "## Dose" in text
    assert "Give 5 mg." in text
    assert "alert" not in text


def test_korean_terms_are_bigrams_so_particles_do_not_matter() -> None:
    assert set(analyze("당뇨병")) <= set(analyze("당뇨병은 만성 질환이다"))
    assert analyze("The HbA1c target") == ["hba1c", "target"]
    assert language_of("당뇨병 환자의 HbA1c") == "ko"
    assert language_of("diabetes") == "en"
