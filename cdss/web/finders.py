"""Hands the built web app's files (web/dist, but not its index.html, which the view serves) to
``collectstatic`` and to WhiteNoise's finder mode, under the prefix ``web/``. A missing build is
not an error here: ``/`` explains it, and ``collectstatic`` simply has nothing of it to collect.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any, Literal, overload

from django.conf import settings
from django.contrib.staticfiles import utils
from django.contrib.staticfiles.finders import BaseFinder
from django.core.checks import CheckMessage
from django.core.files.storage import FileSystemStorage

PREFIX = "web"
# Served by cdss.web.views with a nonce of its own; a copy under /static/ would be a stale page.
NOT_COLLECTED = ["index.html"]


def _build_dir() -> Path:
    return Path(settings.CDSS_WEB_DIST)


class WebBuildFinder(BaseFinder):
    def check(self, **kwargs: Any) -> list[CheckMessage]:
        return []

    @overload
    def find(self, path: str, find_all: Literal[False] = False) -> str | None: ...
    @overload
    def find(self, path: str, find_all: Literal[True]) -> list[str]: ...
    def find(self, path: str, find_all: bool = False) -> str | list[str] | None:
        found = self._find(path)
        if find_all:
            return [found] if found else []
        return found

    def _find(self, path: str) -> str | None:
        root = _build_dir().resolve()
        prefix = f"{PREFIX}/"
        if not path.startswith(prefix):
            return None
        candidate = (root / path[len(prefix) :]).resolve()
        if (
            not candidate.is_relative_to(root)
            or candidate.relative_to(root).as_posix() in NOT_COLLECTED
            or not candidate.is_file()
        ):
            return None
        return str(candidate)

    def list(
        self, ignore_patterns: Iterable[str] | None
    ) -> Iterator[tuple[str, FileSystemStorage]]:
        root = _build_dir()
        if not root.is_dir():
            return
        storage = FileSystemStorage(location=str(root))
        storage.prefix = PREFIX  # type: ignore[attr-defined]
        for path in utils.get_files(storage, [*(ignore_patterns or []), *NOT_COLLECTED]):
            yield path, storage
