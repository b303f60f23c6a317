"""Creates the demo administrator and demo clinician for `make run`, once.

Passwords come from CDSS_DEMO_ADMIN_PASSWORD / CDSS_DEMO_CLINICIAN_PASSWORD, or are generated and
written to var/demo-credentials.txt (readable by the owner only) and printed.
"""

from __future__ import annotations

import secrets
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand

from cdss.accounts.models import Role, User
from cdss.accounts.services import user_create


class Command(BaseCommand):
    help = "Create the demo admin and clinician if they do not exist; print their credentials."

    def handle(self, *args: Any, **options: Any) -> None:
        creds_file = settings.VAR_DIR / "demo-credentials.txt"
        lines: list[str] = []
        for username, password, role in (
            (settings.CDSS_DEMO_ADMIN_USERNAME, settings.CDSS_DEMO_ADMIN_PASSWORD, Role.ADMIN),
            (
                settings.CDSS_DEMO_CLINICIAN_USERNAME,
                settings.CDSS_DEMO_CLINICIAN_PASSWORD,
                Role.CLINICIAN,
            ),
        ):
            if User.objects.filter(username=username).exists():
                continue
            password = password or secrets.token_urlsafe(12)
            user_create(username=username, password=password, role=role, validate=False)
            if role == Role.ADMIN:
                User.objects.filter(username=username).update(is_superuser=True)
            lines.append(f"{role}: username={username} password={password}")
        if lines:
            settings.VAR_DIR.mkdir(parents=True, exist_ok=True)
            with creds_file.open("a", encoding="utf-8") as fh:
                fh.write("\n".join(lines) + "\n")
            creds_file.chmod(0o600)
        self.stdout.write("Demo accounts (also in var/demo-credentials.txt):")
        if creds_file.exists():
            self.stdout.write(creds_file.read_text(encoding="utf-8").strip())
