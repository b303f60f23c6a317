"""Writes to users: creation with a role, and the failed-login throttle."""

from __future__ import annotations

import math
import time

from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.cache import cache
from django.db import transaction

from cdss.accounts.models import Role, User
from cdss.common.exceptions import ApplicationError


@transaction.atomic
def user_create(
    *, username: str, password: str, role: str, email: str = "", validate: bool = True
) -> User:
    if role not in Role.values:
        raise ApplicationError(
            f"role: must be one of {', '.join(Role.values)}", detail={"role": role}
        )
    if User.objects.filter(username__iexact=username).exists():
        raise ApplicationError(f"username: '{username}' is taken", detail={"username": username})
    user = User(username=username, email=email, role=role)
    if validate:
        validate_password(password, user)
    user.set_password(password)
    # Administrators manage users and read the audit trail in the Django admin too.
    user.is_staff = role == Role.ADMIN
    user.full_clean(exclude=["password"])
    user.save()
    return user


def _failure_key(username: str) -> str:
    return f"login-failures:{username.strip().lower()}"


def login_retry_after(*, username: str) -> int | None:
    """Seconds until the next login attempt for this username is allowed, or None if allowed now."""
    window = settings.CDSS_LOGIN_FAILURE_WINDOW
    now = time.time()
    failures = [t for t in cache.get(_failure_key(username), []) if now - t < window]
    if len(failures) < settings.CDSS_LOGIN_FAILURE_LIMIT:
        return None
    return max(1, math.ceil(window - (now - failures[-settings.CDSS_LOGIN_FAILURE_LIMIT])))


def login_failure_record(*, username: str) -> None:
    window = settings.CDSS_LOGIN_FAILURE_WINDOW
    now = time.time()
    key = _failure_key(username)
    failures = [t for t in cache.get(key, []) if now - t < window]
    failures.append(now)
    cache.set(key, failures, timeout=window)


def login_failures_clear(*, username: str) -> None:
    cache.delete(_failure_key(username))
