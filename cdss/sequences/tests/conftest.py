"""Real inference-server processes for the /ml/v1 tests: the real one and misbehaving ones."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from inference.testing import ServerHandle, free_port, start_server


@pytest.fixture(scope="session")
def inference_server() -> Iterator[ServerHandle]:
    with start_server(env={"CDSS_INFERENCE_ENGINES": "sequence"}) as handle:
        yield handle


@pytest.fixture
def use_server(settings, inference_server: ServerHandle) -> ServerHandle:
    settings.CDSS_INFERENCE_URL = inference_server.url
    return inference_server


@pytest.fixture
def garbage_server(settings) -> Iterator[ServerHandle]:
    with start_server(mode="garbage") as handle:
        settings.CDSS_INFERENCE_URL = handle.url
        yield handle


@pytest.fixture
def slow_server(settings) -> Iterator[ServerHandle]:
    with start_server(mode="slow", delay=5.0) as handle:
        settings.CDSS_INFERENCE_URL = handle.url
        settings.CDSS_INFERENCE_TIMEOUT_SINGLE = 0.5
        settings.CDSS_INFERENCE_TIMEOUT_BATCH = 0.5
        yield handle


@pytest.fixture
def stopped_server(settings) -> str:
    # A port that was free a moment ago and that nothing listens on: connection refused.
    url = f"http://127.0.0.1:{free_port()}"
    settings.CDSS_INFERENCE_URL = url
    return url
