"""manage.py assistant_load_corpus: indexes README.md and every model card once; an unchanged
file is skipped on the next run, a changed one replaced."""

from __future__ import annotations

from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command

from cdss.assistant.models import Chunk, Document

pytestmark = pytest.mark.django_db


def _run(root: Path) -> str:
    out = StringIO()
    call_command("assistant_load_corpus", "--root", str(root), stdout=out)
    return out.getvalue()


def test_the_bundled_corpus_is_loaded_once_and_follows_changes(tmp_path: Path) -> None:
    (tmp_path / "README.md").write_text("# CDSS\n\nRun it with make run.\n")
    card = tmp_path / "models" / "omics" / "v1" / "MODEL_CARD.md"
    card.parent.mkdir(parents=True)
    card.write_text("# Model card: omics v1\n\n## Limits\n\nTiny cohorts.\n")
    assert "2 files, 2 indexed now" in _run(tmp_path)
    assert set(Document.objects.values_list("bundled_path", "status")) == {
        ("README.md", "ready"),
        ("models/omics/v1/MODEL_CARD.md", "ready"),
    }
    assert Document.objects.get(bundled_path="README.md").title == "CDSS (README.md)"
    assert "2 files, 0 indexed now" in _run(tmp_path)

    card.write_text("# Model card: omics v1\n\n## Limits\n\nSmall cohorts only.\n")
    assert "2 files, 1 indexed now" in _run(tmp_path)
    texts = list(
        Chunk.objects.filter(
            document__bundled_path=card.relative_to(tmp_path).as_posix()
        ).values_list("text", flat=True)
    )
    assert texts == ["Small cohorts only."]
    assert Document.objects.count() == 2
