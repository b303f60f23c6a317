from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.urls import reverse
from rest_framework_simplejwt.tokens import AccessToken, RefreshToken

from cdss.accounts.models import User
from cdss.accounts.tests.factories import PASSWORD

pytestmark = pytest.mark.django_db

TOKEN = reverse("auth-token")
REFRESH = reverse("auth-token-refresh")
ME = reverse("auth-me")


def _b64(obj: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(obj).encode()).rstrip(b"=").decode()


def _me_status(make_client, token: str) -> int:
    client = make_client(None)
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return client.get(ME).status_code


def test_login_me_refresh_logout(make_client, clinician_a):
    client = make_client(None)
    pair = client.post(TOKEN, {"username": "clin_a", "password": PASSWORD}, format="json")
    assert pair.status_code == 200
    access, refresh = pair.json()["access"], pair.json()["refresh"]
    me = _me_status(make_client, access)
    assert me == 200
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {access}")
    assert client.get(ME).json()["role"] == "clinician"
    rotated = client.post(REFRESH, {"refresh": refresh}, format="json")
    assert rotated.status_code == 200 and rotated.json()["refresh"] != refresh
    new_refresh = rotated.json()["refresh"]
    assert (
        client.post(reverse("auth-logout"), {"refresh": new_refresh}, format="json").status_code
        == 205
    )
    assert client.post(REFRESH, {"refresh": new_refresh}, format="json").status_code == 401


def test_alg_none_token_is_refused(make_client, clinician_a):
    claims = dict(AccessToken.for_user(clinician_a).payload)
    token = f"{_b64({'alg': 'none', 'typ': 'JWT'})}.{_b64(claims)}."
    assert _me_status(make_client, token) == 401


def test_tampered_signature_is_refused(make_client, clinician_a):
    token = str(AccessToken.for_user(clinician_a))
    head, body, sig = token.split(".")
    flipped = sig[:-2] + ("AA" if sig[-2:] != "AA" else "BB")
    assert _me_status(make_client, f"{head}.{body}.{flipped}") == 401


def test_tampered_claims_are_refused(make_client, clinician_a, admin_user):
    token = str(AccessToken.for_user(clinician_a))
    head, body, sig = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(body + "=="))
    claims["user_id"] = str(admin_user.pk)
    assert _me_status(make_client, f"{head}.{_b64(claims)}.{sig}") == 401


def test_expired_token_is_refused(make_client, clinician_a):
    token = AccessToken.for_user(clinician_a)
    token.set_exp(lifetime=-timedelta(seconds=1))
    assert _me_status(make_client, str(token)) == 401


def test_refresh_token_as_access_is_refused(make_client, clinician_a):
    assert _me_status(make_client, str(RefreshToken.for_user(clinician_a))) == 401


def test_refresh_reuse_after_rotation_is_refused(make_client, clinician_a):
    refresh = str(RefreshToken.for_user(clinician_a))
    client = make_client(None)
    assert client.post(REFRESH, {"refresh": refresh}, format="json").status_code == 200
    reused = client.post(REFRESH, {"refresh": refresh}, format="json")
    assert reused.status_code == 401


def test_sixth_failed_login_in_a_minute_is_throttled(make_client, clinician_a):
    client = make_client(None)
    for _ in range(5):
        bad = client.post(TOKEN, {"username": "clin_a", "password": "wrong"}, format="json")
        assert bad.status_code == 401
    sixth = client.post(TOKEN, {"username": "CLIN_A", "password": PASSWORD}, format="json")
    assert sixth.status_code == 429
    assert 1 <= int(sixth.headers["Retry-After"]) <= 60
    # Another username is not affected.
    User.objects.create_user(username="other", password=PASSWORD)
    ok = client.post(TOKEN, {"username": "other", "password": PASSWORD}, format="json")
    assert ok.status_code == 200


def test_inactive_user_cannot_log_in(make_client, clinician_a):
    clinician_a.is_active = False
    clinician_a.save()
    response = make_client(None).post(
        TOKEN, {"username": "clin_a", "password": PASSWORD}, format="json"
    )
    assert response.status_code == 401


def test_create_user_command(monkeypatch):
    monkeypatch.setenv("CDSS_PASSWORD", "a-long-enough-pass-42")
    call_command("create_user", "--username", "newdoc", "--role", "ml_engineer")
    user = User.objects.get(username="newdoc")
    assert user.role == "ml_engineer" and user.check_password("a-long-enough-pass-42")


def test_create_user_command_refuses_bad_role():
    from django.core.management.base import CommandError

    with pytest.raises((CommandError, SystemExit)):
        call_command("create_user", "--username", "x", "--role", "wizard", "--password", "p")


@pytest.mark.django_db(transaction=True)
def test_createsuperuser_noinput_works(tmp_path):
    env = {
        **os.environ,
        "DJANGO_SUPERUSER_PASSWORD": "super-pass-1234",
        "DJANGO_SETTINGS_MODULE": "config.settings.local",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
    }
    subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], env=env, check=True)
    done = subprocess.run(
        [
            sys.executable,
            "manage.py",
            "createsuperuser",
            "--noinput",
            "--username",
            "root",
            "--email",
            "root@example.org",
        ],
        env=env,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
