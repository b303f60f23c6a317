"""Reads of users: the user a JWT names, if that token is still good for them; the user list
administrators manage; the directory of active clinicians a care team is picked from."""

from __future__ import annotations

from django.db.models import Q, QuerySet
from rest_framework.exceptions import PermissionDenied
from rest_framework_simplejwt.settings import api_settings
from rest_framework_simplejwt.tokens import Token

from cdss.accounts.models import Role, User
from cdss.accounts.tokens import TOKEN_VERSION_CLAIM


def user_get_for_token(*, token: Token) -> User | None:
    """The active user a validated access or refresh token names, or None when that user is gone,
    inactive, or has logged out or changed password since the token was issued.

    A token without the version claim (issued before token versions existed) counts as version 0.
    """
    user_id = token.get(api_settings.USER_ID_CLAIM)
    if user_id is None:
        return None
    try:
        user = User.objects.filter(pk=user_id).first()
    except (TypeError, ValueError):
        return None
    if user is None or not user.is_active:
        return None
    if token.get(TOKEN_VERSION_CLAIM, 0) != user.token_version:
        return None
    return user


class UserForbidden(PermissionDenied):
    """403 in the one error shape. DRF's, not ``cdss.common.exceptions``: the authentication
    class imports this module while DRF's settings load, before the common app can be imported."""


def _require_admin(user: User) -> None:
    if not user.is_admin_role:
        raise UserForbidden("Only administrators can manage users.")


def user_list(
    *,
    user: User,
    search: str | None = None,
    role: str | None = None,
    is_active: bool | None = None,
) -> QuerySet[User]:
    """Every user, for administrators: ``search`` matches part of a username, name or e-mail."""
    _require_admin(user)
    qs = User.objects.all()
    if search:
        qs = qs.filter(
            Q(username__icontains=search)
            | Q(first_name__icontains=search)
            | Q(last_name__icontains=search)
            | Q(email__icontains=search)
        )
    if role:
        qs = qs.filter(role=role)
    if is_active is not None:
        qs = qs.filter(is_active=is_active)
    return qs.order_by("username", "id")


def user_get(*, user: User, user_id: int) -> User | None:
    """One user, for administrators; None when there is no such user."""
    _require_admin(user)
    return User.objects.filter(pk=user_id).first()


def clinician_directory_list(*, user: User, search: str | None = None) -> QuerySet[User]:
    """The active clinicians a care team may name (``cdss.patients.services`` accepts exactly
    these), for clinicians and administrators: the people who edit care teams. Callers show only
    id, username, name and role: nobody's e-mail or login history."""
    if not (user.is_clinician or user.is_admin_role):
        raise UserForbidden("Only clinicians and administrators can read the clinician directory.")
    qs = User.objects.filter(role=Role.CLINICIAN, is_active=True)
    if search:
        qs = qs.filter(
            Q(username__icontains=search)
            | Q(first_name__icontains=search)
            | Q(last_name__icontains=search)
        )
    return qs.order_by("username", "id")
