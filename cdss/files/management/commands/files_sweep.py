"""``manage.py files_sweep``: removes what interrupted uploads left under MEDIA_ROOT/files/."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from cdss.files.services import patient_file_storage_sweep


class Command(BaseCommand):
    help = (
        "Removes staged uploads and stored files that no patient file names, last written more "
        "than --older-than seconds ago (default 1 hour). Safe to run at any time, e.g. daily."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--older-than", type=float, default=3600.0)

    def handle(self, *args: Any, **options: Any) -> None:
        result = patient_file_storage_sweep(older_than_seconds=options["older_than"])
        self.stdout.write(
            f"removed {result.staged} staged upload(s) and {result.orphans} unreferenced file(s)"
        )
