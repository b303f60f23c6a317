"""Fixtures shared by every Django test: users of each role and authenticated API clients."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.core.cache import cache
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import RefreshToken

from cdss.accounts.models import Role, User
from cdss.accounts.tests.factories import UserFactory


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
