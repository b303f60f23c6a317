"""Every test here stores under a media root of its own."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(autouse=True)
def _own_media_root(media_root: Path) -> Path:
    return media_root
