"""The custom user model, present from the first migration."""

from __future__ import annotations

from typing import Any

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

    @property
    def is_clinician(self) -> bool:
        return self.role == Role.CLINICIAN

    @property
    def is_admin_role(self) -> bool:
        return self.role == Role.ADMIN or self.is_superuser

    @property
    def is_ml_engineer(self) -> bool:
        return self.role == Role.ML_ENGINEER
