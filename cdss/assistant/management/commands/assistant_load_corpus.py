"""``manage.py assistant_load_corpus``: indexes the bundled corpus (the README and every model card)
in this process, so the assistant can answer about CDSS itself on a fresh install. Unchanged files
are skipped, so ``make run`` may call it on every start."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand

from cdss.assistant.services import corpus_load


def bundled_paths(root: Path) -> list[tuple[str, Path]]:
    found = [root / "README.md", *sorted(root.glob("models/*/*/MODEL_CARD.md"))]
    return [(str(path.relative_to(root)), path) for path in found if path.is_file()]


class Command(BaseCommand):
    help = "Index the bundled corpus (README.md, models/*/*/MODEL_CARD.md) for the assistant."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--root", default=str(settings.BASE_DIR), help="repository root")

    def handle(self, *args: Any, **options: Any) -> None:
        paths = bundled_paths(Path(options["root"]))
        verbose = int(options.get("verbosity", 1)) > 1

        def echo(line: str) -> None:
            if verbose or line.endswith(")"):
                self.stdout.write(line)

        indexed = corpus_load(paths=paths, echo=echo)
        self.stdout.write(f"assistant corpus: {len(paths)} files, {indexed} indexed now")
