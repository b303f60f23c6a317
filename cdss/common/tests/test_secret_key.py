"""No environment signs with a key written in the repository (defect: published signing key)."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import jwt
import pytest
from django.utils import timezone

REPO = Path(__file__).resolve().parents[3]
# The key the repository used to ship as the local default; anyone could mint tokens with it.
PUBLISHED_KEY = "insecure-local-development-key-change-me-0123456789"


def _local_settings_key(key_file: Path) -> str:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "JWT_"))}
    env.update(
        {"DJANGO_SETTINGS_MODULE": "config.settings.local", "CDSS_SECRET_KEY_FILE": str(key_file)}
    )
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            "import django; django.setup(); from django.conf import settings as s; "
            "print(s.SECRET_KEY); print(s.SIMPLE_JWT['SIGNING_KEY']); print(s.DEBUG)",
        ],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    secret, signing, debug = done.stdout.split()
    assert signing == secret
    assert debug == "False", "make run's settings must not serve debug pages"
    return secret


def test_local_settings_generate_a_key_once_and_reuse_it(tmp_path):
    key_file = tmp_path / "var" / "secret-key"
    first = _local_settings_key(key_file)
    assert len(first) >= 50 and first != PUBLISHED_KEY
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert _local_settings_key(key_file) == first
    assert _local_settings_key(tmp_path / "other-key") != first


def test_no_settings_module_carries_a_key():
    for path in (REPO / "config" / "settings").glob("*.py"):
        assert PUBLISHED_KEY not in path.read_text(), path


@pytest.mark.django_db
def test_token_minted_with_the_published_key_is_refused(make_client, clinician_a):
    now = timezone.now()
    forged = jwt.encode(
        {
            "token_type": "access",
            "exp": int((now + timedelta(minutes=5)).timestamp()),
            "iat": int(now.timestamp()),
            "jti": "forged",
            "user_id": str(clinician_a.pk),
        },
        PUBLISHED_KEY,
        algorithm="HS256",
    )
    client = make_client(None)
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {forged}")
    assert client.get("/api/v1/auth/me/").status_code == 401
