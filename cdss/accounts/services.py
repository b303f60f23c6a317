"""Writes to users: creation with a role (by a command or by an administrator), an administrator's
changes of role, name and active state, logout, password change, and the failed-login throttle."""

from __future__ import annotations

import contextlib
import hashlib
import ipaddress
import math
import time

from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.cache import cache
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from django.db.models import F

from cdss.accounts.models import Role, User
from cdss.accounts.selectors import UserForbidden
from cdss.audit.services import access_event_record
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


def _password_checked(password: str, user: User) -> None:
    try:
        validate_password(password, user)
    except DjangoValidationError as exc:
        raise ApplicationError(
            "password: " + " ".join(exc.messages), detail={"password": exc.messages}
        ) from exc


@transaction.atomic
def user_register(
    *,
    actor: User,
    username: str,
    password: str,
    role: str,
    email: str = "",
    first_name: str = "",
    last_name: str = "",
) -> User:
    """An administrator creates a user; the password must pass the password validators (a 400
    naming ``password`` otherwise). Audited as ``user.create``."""
    if not actor.is_admin_role:
        raise UserForbidden("Only administrators can manage users.")
    _password_checked(password, User(username=username, email=email))
    user = user_create(username=username, password=password, role=role, email=email, validate=False)
    user.first_name, user.last_name = first_name, last_name
    user.save(update_fields=["first_name", "last_name"])
    access_event_record(
        user=actor, action="user.create", outcome="ok", object_type="user", object_id=str(user.pk)
    )
    return user


@transaction.atomic
def user_update(
    *,
    actor: User,
    user: User,
    role: str | None = None,
    is_active: bool | None = None,
    email: str | None = None,
    first_name: str | None = None,
    last_name: str | None = None,
) -> User:
    """An administrator changes a user's role, active state or name (None: unchanged).

    Deactivating ends the user's tokens at once (an inactive user's tokens are refused) and keeps
    every record they made. Administrators cannot deactivate or demote themselves: the last one
    doing so would leave nobody to undo it. Audited as ``user.update``.
    """
    if not actor.is_admin_role:
        raise UserForbidden("Only administrators can manage users.")
    if user.pk == actor.pk and (is_active is False or (role is not None and role != Role.ADMIN)):
        raise ApplicationError(
            "user: administrators cannot deactivate or demote themselves",
            detail={"user": ["Ask another administrator."]},
        )
    locked = User.objects.select_for_update().get(pk=user.pk)
    if role is not None:
        if role not in Role.values:
            raise ApplicationError(
                f"role: must be one of {', '.join(Role.values)}", detail={"role": [role]}
            )
        locked.role = role
        # As at creation: administrators use the Django admin too, nobody else does.
        locked.is_staff = role == Role.ADMIN or locked.is_superuser
    for field, value in (
        ("is_active", is_active),
        ("email", email),
        ("first_name", first_name),
        ("last_name", last_name),
    ):
        if value is not None:
            setattr(locked, field, value)
    locked.full_clean(exclude=["password"])
    locked.save()
    access_event_record(
        user=actor, action="user.update", outcome="ok", object_type="user", object_id=str(user.pk)
    )
    return locked


@transaction.atomic
def user_logout(*, user: User) -> None:
    """Ends every token of the user, on every device: access tokens stop working at once."""
    User.objects.filter(pk=user.pk).update(token_version=F("token_version") + 1)
    access_event_record(
        user=user, action="auth.logout", outcome="ok", object_type="user", object_id=str(user.pk)
    )


def user_password_change(
    *, user: User, old_password: str, new_password: str, ip: str | None
) -> User:
    """Sets a new password after checking the current one; ends every earlier token of the user.

    A wrong current password is audited and counted by the failed-login throttle (the caller
    checks ``login_attempt_start`` first), so a stolen access token cannot guess the password here.
    Returns the user as saved, with the token version new tokens must carry. Only the change is
    one transaction: the audit record of a refused attempt must outlive the error.
    """
    if not user.check_password(old_password):
        access_event_record(
            user=user,
            action="auth.password_change",
            outcome="failed",
            object_type="user",
            object_id=str(user.pk),
        )
        raise ApplicationError(
            "old_password: is not your current password",
            detail={"old_password": ["Is not your current password."]},
        )
    login_attempt_succeeded(username=user.username, ip=ip)
    try:
        validate_password(new_password, user)
    except DjangoValidationError as exc:
        raise ApplicationError(
            "new_password: " + " ".join(exc.messages), detail={"new_password": exc.messages}
        ) from exc
    with transaction.atomic():
        # Locked and re-read, so the version raised is the stored one, not a stale copy's.
        saved = User.objects.select_for_update().get(pk=user.pk)
        saved.set_password(new_password)
        saved.save(update_fields=["password", "token_version"])
        access_event_record(
            user=saved,
            action="auth.password_change",
            outcome="ok",
            object_type="user",
            object_id=str(saved.pk),
        )
    return saved


# --- Failed-login throttle ------------------------------------------------------------------------
# Counters live in the cache, one per fixed window, and change only by atomic add/incr/decr, so
# parallel requests cannot slip past a limit. An attempt counts the moment it starts and is taken
# back only when it succeeds or is refused, so attempts still in flight count too.


def _client_key(ip: str | None) -> str:
    """One client: an IPv4 address, or an IPv6 /64 (what one subscriber gets); "" if unknown."""
    if not ip:
        return ""
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return ""
    if isinstance(address, ipaddress.IPv6Address):
        return str(ipaddress.IPv6Network((address, 64), strict=False))
    return str(address)


def _keys(username: str, ip: str | None) -> tuple[str, str | None, float]:
    """The (username, client) counter, the client counter, and the seconds left in the window.

    Without a client address (a unix-socket peer not named in CDSS_TRUSTED_PROXIES) there is no
    client counter: one shared by every such request would let anyone lock everyone out.
    """
    window = settings.CDSS_LOGIN_FAILURE_WINDOW
    now = time.time()
    bucket = int(now // window)
    client = _client_key(ip)
    # Hashed: a username is user input, and cache backends restrict key characters.
    name = hashlib.sha256(f"{username.strip().lower()}|{client}".encode()).hexdigest()
    return (
        f"login-failures:user-ip:{name}:{bucket}",
        f"login-failures:ip:{client}:{bucket}" if client else None,
        (bucket + 1) * window - now,
    )


def _incr(key: str) -> int:
    timeout = settings.CDSS_LOGIN_FAILURE_WINDOW + 5
    cache.add(key, 0, timeout=timeout)
    try:
        return int(cache.incr(key))
    except ValueError:  # expired between add and incr
        cache.set(key, 1, timeout=timeout)
        return 1


def _decr(key: str | None) -> None:
    if key is None:
        return
    with contextlib.suppress(ValueError):  # expired meanwhile: nothing to take back
        cache.decr(key)


def login_attempt_start(*, username: str, ip: str | None) -> int | None:
    """Counts a password attempt for this username from this client address before it is checked.

    Returns None when it may go ahead, else the seconds until the window ends (the attempt is then
    not counted). Refused past CDSS_LOGIN_FAILURE_LIMIT for (username, address) or past
    CDSS_LOGIN_FAILURE_LIMIT_PER_IP for the address, so failures from one address never lock the
    user out at another.
    """
    user_ip_key, ip_key, left = _keys(username, ip)
    per_user_ip = _incr(user_ip_key)
    per_ip = _incr(ip_key) if ip_key else 0
    if (
        per_user_ip <= settings.CDSS_LOGIN_FAILURE_LIMIT
        and per_ip <= settings.CDSS_LOGIN_FAILURE_LIMIT_PER_IP
    ):
        return None
    # A refused attempt checks no password; counting it would let one user hammering a locked
    # account lock out everyone behind the same address.
    _decr(user_ip_key)
    _decr(ip_key)
    return max(1, math.ceil(left))


def login_attempt_succeeded(*, username: str, ip: str | None) -> None:
    """Takes back the attempt's count and clears this username's failures from this address.

    The address's other failures stay: logging in to one's own account must not reset them.
    """
    user_ip_key, ip_key, _ = _keys(username, ip)
    cache.delete(user_ip_key)
    _decr(ip_key)
