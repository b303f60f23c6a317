"""`manage.py create_user --username NAME --role clinician|ml_engineer|admin [--password P]`.

The password comes from --password or the CDSS_PASSWORD environment variable.
"""

from __future__ import annotations

import os
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from cdss.accounts.models import Role
from cdss.accounts.services import user_create
from cdss.common.exceptions import ApplicationError


class Command(BaseCommand):
    help = "Create a CDSS user with a role."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--username", required=True)
        parser.add_argument("--role", required=True, choices=Role.values)
        parser.add_argument("--email", default="")
        parser.add_argument("--password", default=None)

    def handle(self, *args: Any, **options: Any) -> None:
        password = options["password"] or os.environ.get("CDSS_PASSWORD")
        if not password:
            raise CommandError("Give a password with --password or the CDSS_PASSWORD variable.")
        try:
            user = user_create(
                username=options["username"],
                password=password,
                role=options["role"],
                email=options["email"],
            )
        except ApplicationError as exc:
            raise CommandError(exc.message) from exc
        except ValidationError as exc:
            raise CommandError("; ".join(exc.messages)) from exc
        self.stdout.write(f"Created user {user.username} (id {user.pk}, role {user.role}).")
