"""A real inference server with the imaging engine, sharing a media root with the tests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from inference.config import REPO_ROOT
from inference.testing import ServerHandle, start_server

EXAMPLE_DIR = REPO_ROOT.parent / "shared" / "datasets" / "imaging" / "totalsegmentator_example_ct"


@pytest.fixture(scope="session")
def example_dir() -> Path:
    if not (EXAMPLE_DIR / "example_ct.nii.gz").is_file():
        pytest.skip(f"the shared example CT is not at {EXAMPLE_DIR}")
    return EXAMPLE_DIR


@pytest.fixture(scope="session")
def imaging_media(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("imaging-media")


@pytest.fixture(scope="session")
def imaging_server(imaging_media: Path) -> Iterator[ServerHandle]:
    env = {"CDSS_INFERENCE_ENGINES": "imaging", "CDSS_MEDIA_ROOT": str(imaging_media)}
    with start_server(env=env) as handle:
        yield handle


@pytest.fixture
def use_imaging_server(settings, imaging_server: ServerHandle, imaging_media: Path) -> Path:
    """Django stores where the server reads: the one media root both processes share."""
    settings.CDSS_INFERENCE_URL = imaging_server.url
    settings.MEDIA_ROOT = imaging_media
    # A CT run takes tens of seconds; the lease thread's renewal (every lease/3) would write from
    # another connection into the test's open transaction on SQLite ("table is locked").
    settings.CDSS_JOBS_LEASE_SECONDS = 900
    return imaging_media
