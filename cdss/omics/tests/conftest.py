"""A real inference server with the omics engine, and a media root of each test's own."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from inference.testing import ServerHandle, start_server


@pytest.fixture(scope="session")
def omics_server() -> Iterator[ServerHandle]:
    with start_server(env={"CDSS_INFERENCE_ENGINES": "omics"}) as handle:
        yield handle


@pytest.fixture
def use_omics_server(settings, omics_server: ServerHandle) -> ServerHandle:
    settings.CDSS_INFERENCE_URL = omics_server.url
    return omics_server


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path) -> Path:
    root = tmp_path / "media"
    settings.MEDIA_ROOT = root
    return root
