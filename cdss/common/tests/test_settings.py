"""Production settings refuse to start without secrets and pass Django's deploy checks with them."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

pytestmark = pytest.mark.django_db(transaction=True)

SECRET = "k" * 20 + "-production-secret-for-checks-0123456789abcdef"


def _manage(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")}
    clean.update({"DJANGO_SETTINGS_MODULE": "config.settings.production", **env})
    return subprocess.run(
        [sys.executable, "manage.py", *args], env=clean, capture_output=True, text=True
    )


def test_production_refuses_to_start_without_secret_key():
    done = _manage("check", DJANGO_ALLOWED_HOSTS="cdss.example.org")
    assert done.returncode != 0
    assert "DJANGO_SECRET_KEY" in done.stderr


def test_production_refuses_to_start_without_allowed_hosts():
    done = _manage("check", DJANGO_SECRET_KEY=SECRET)
    assert done.returncode != 0
    assert "DJANGO_ALLOWED_HOSTS" in done.stderr


def test_production_passes_deploy_checks():
    done = _manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        DJANGO_SECRET_KEY=SECRET,
        DJANGO_ALLOWED_HOSTS="cdss.example.org",
    )
    assert done.returncode == 0, done.stdout + done.stderr
