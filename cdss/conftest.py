"""Fixtures shared by every Django test: users of each role, authenticated API clients, a media
folder of the test's own, and a real inference server with the omics engine."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from django.core.cache import cache
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import RefreshToken

from cdss.accounts.models import Role, User
from cdss.accounts.tests.factories import UserFactory
from inference.testing import ServerHandle, start_server


@pytest.fixture(autouse=True)
def _clear_cache() -> None:
    cache.clear()


@pytest.fixture
def make_client() -> Callable[[User | None], APIClient]:
    def _make(user: User | None = None) -> APIClient:
        client = APIClient()
        if user is not None:
            token = RefreshToken.for_user(user).access_token
            client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
        return client

    return _make


@pytest.fixture
def clinician_a(db: None) -> User:
    return UserFactory(username="clin_a", role=Role.CLINICIAN)


@pytest.fixture
def clinician_b(db: None) -> User:
    return UserFactory(username="clin_b", role=Role.CLINICIAN)


@pytest.fixture
def admin_user(db: None) -> User:
    return UserFactory(username="admin1", role=Role.ADMIN, is_staff=True)


@pytest.fixture
def ml_engineer(db: None) -> User:
    return UserFactory(username="mleng", role=Role.ML_ENGINEER)


@pytest.fixture
def media_root(settings, tmp_path) -> Path:
    """Files the test stores (uploads, artifacts) go to a folder of its own."""
    root = tmp_path / "media"
    settings.MEDIA_ROOT = root
    return root


@pytest.fixture(scope="session")
def omics_server() -> Iterator[ServerHandle]:
    with start_server(env={"CDSS_INFERENCE_ENGINES": "omics"}) as handle:
        yield handle


@pytest.fixture
def use_omics_server(settings, omics_server: ServerHandle) -> ServerHandle:
    settings.CDSS_INFERENCE_URL = omics_server.url
    return omics_server
