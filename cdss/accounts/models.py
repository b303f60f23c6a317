"""The custom user model, present from the first migration.

Every new password (the password API, Django admin, ``manage.py changepassword``, ``create_user``)
goes through ``User.set_password``, and so raises the user's token version: the JWTs issued before
it stop working as soon as the change is saved (``cdss.accounts.tokens``).
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.hashers import acheck_password, check_password
from django.contrib.auth.models import AbstractUser, UserManager
from django.db import models


class Role(models.TextChoices):
    CLINICIAN = "clinician", "Clinician"
    ML_ENGINEER = "ml_engineer", "ML engineer"
    ADMIN = "admin", "Administrator"


class CdssUserManager(UserManager["User"]):
    def create_superuser(
        self,
        username: str,
        email: str | None = None,
        password: str | None = None,
        **extra_fields: Any,
    ) -> User:
        extra_fields.setdefault("role", Role.ADMIN)
        return super().create_superuser(username, email, password, **extra_fields)


class User(AbstractUser):
    objects = CdssUserManager()  # type: ignore[misc]

    role = models.CharField(max_length=20, choices=Role.choices, default=Role.CLINICIAN)
    # Carried in every JWT; a token with another version is refused.
    token_version = models.PositiveIntegerField(default=0, editable=False)

    def set_password(self, raw_password: str | None) -> None:
        super().set_password(raw_password)
        self._end_tokens()

    def set_unusable_password(self) -> None:
        super().set_unusable_password()
        self._end_tokens()

    def _end_tokens(self) -> None:
        # A user not saved yet has no tokens to end.
        if not self._state.adding:
            self.token_version += 1

    # Django re-hashes a correct password when its hasher's settings change. That is not a new
    # password and must not end the user's tokens (nor the ones about to be issued at this login),
    # so it stores the new hash without going through set_password.
    def _store_rehashed(self, raw_password: str) -> None:
        AbstractUser.set_password(self, raw_password)
        self._password = None

    def check_password(self, raw_password: str) -> bool:
        def setter(raw: str) -> None:
            self._store_rehashed(raw)
            self.save(update_fields=["password"])

        return check_password(raw_password, self.password, setter)

    async def acheck_password(self, raw_password: str) -> bool:
        async def setter(raw: str) -> None:
            self._store_rehashed(raw)
            await self.asave(update_fields=["password"])

        return await acheck_password(raw_password, self.password, setter)

    @property
    def is_clinician(self) -> bool:
        return self.role == Role.CLINICIAN

    @property
    def is_admin_role(self) -> bool:
        return self.role == Role.ADMIN or self.is_superuser

    @property
    def is_ml_engineer(self) -> bool:
        return self.role == Role.ML_ENGINEER
