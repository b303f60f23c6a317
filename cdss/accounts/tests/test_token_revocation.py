"""Logout, password changes and admin resets end every earlier token of the user at once."""

from __future__ import annotations

import pytest
from django.contrib.auth.hashers import MD5PasswordHasher
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from rest_framework_simplejwt.exceptions import AuthenticationFailed
from rest_framework_simplejwt.tokens import AccessToken, RefreshToken

from cdss.accounts.models import User
from cdss.accounts.tests.factories import PASSWORD
from cdss.audit.models import AccessEvent

pytestmark = pytest.mark.django_db

TOKEN = reverse("auth-token")
REFRESH = reverse("auth-token-refresh")
LOGOUT = reverse("auth-logout")
ME = reverse("auth-me")
NEW_PASSWORD = "a-brand-new-passphrase-77"


def _login(make_client, username: str = "clin_a", password: str = PASSWORD) -> dict[str, str]:
    response = make_client(None).post(
        TOKEN, {"username": username, "password": password}, format="json"
    )
    assert response.status_code == 200, response.content
    return response.json()


def _me(make_client, access: str) -> int:
    client = make_client(None)
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {access}")
    return client.get(ME).status_code


def _refresh(make_client, refresh: str):
    return make_client(None).post(REFRESH, {"refresh": refresh}, format="json")


def _assert_dead(make_client, pair: dict[str, str]) -> None:
    assert _me(make_client, pair["access"]) == 401
    refreshed = _refresh(make_client, pair["refresh"])
    assert refreshed.status_code == 401
    assert set(refreshed.json()) == {"error", "detail"}


def _assert_alive(make_client, pair: dict[str, str]) -> None:
    assert _me(make_client, pair["access"]) == 200


def test_logout_ends_every_token_of_the_user(make_client, clinician_a, clinician_b):
    here, elsewhere = _login(make_client), _login(make_client)
    other_user = _login(make_client, "clin_b")
    client = make_client(None)
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {here['access']}")
    assert client.post(LOGOUT, {"refresh": here["refresh"]}, format="json").status_code == 205
    _assert_dead(make_client, here)
    _assert_dead(make_client, elsewhere)
    _assert_alive(make_client, other_user)
    # Logging in again works and gives live tokens.
    _assert_alive(make_client, _login(make_client))


def test_logout_without_refresh_token_still_ends_the_access_token(make_client, clinician_a):
    pair = _login(make_client)
    client = make_client(None)
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {pair['access']}")
    assert client.post(LOGOUT, {}, format="json").status_code == 205
    _assert_dead(make_client, pair)
    assert AccessEvent.objects.filter(
        action="auth.logout", outcome="ok", user_id=clinician_a.pk
    ).exists()


def test_token_minted_without_version_claim_dies_at_logout(make_client, clinician_a):
    # Tokens issued before token versions existed count as version 0.
    legacy = str(AccessToken.for_user(clinician_a))
    current = _login(make_client)
    assert _me(make_client, legacy) == 200
    client = make_client(None)
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {current['access']}")
    assert client.post(LOGOUT, {}, format="json").status_code == 205
    assert _me(make_client, legacy) == 401


def test_model_password_change_ends_earlier_tokens(make_client, clinician_a):
    pair = _login(make_client)
    user = User.objects.get(pk=clinician_a.pk)
    user.set_password(NEW_PASSWORD)
    user.save()
    _assert_dead(make_client, pair)


def test_unusable_password_ends_earlier_tokens(make_client, clinician_a):
    pair = _login(make_client)
    user = User.objects.get(pk=clinician_a.pk)
    user.set_unusable_password()
    user.save()
    _assert_dead(make_client, pair)


def test_admin_password_form_ends_earlier_tokens(make_client, clinician_a, admin_user):
    pair = _login(make_client)
    admin_user.is_superuser = True
    admin_user.save()
    browser = Client()
    browser.force_login(admin_user)
    url = reverse("admin:auth_user_password_change", args=[clinician_a.pk])
    response = browser.post(
        url, {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD, "usable_password": "true"}
    )
    assert response.status_code == 302, response.content
    assert User.objects.get(pk=clinician_a.pk).check_password(NEW_PASSWORD)
    _assert_dead(make_client, pair)


def test_changepassword_command_ends_earlier_tokens(make_client, clinician_a, monkeypatch):
    from django.contrib.auth.management.commands import changepassword

    pair = _login(make_client)
    monkeypatch.setattr(changepassword.Command, "_get_pass", lambda self, prompt="": NEW_PASSWORD)
    call_command("changepassword", "clin_a")
    _assert_dead(make_client, pair)


def test_refresh_token_of_deleted_user_is_401(make_client, clinician_a):
    refresh = str(RefreshToken.for_user(clinician_a))
    clinician_a.delete()
    response = _refresh(make_client, refresh)
    assert response.status_code == 401
    assert set(response.json()) == {"error", "detail"}


def test_refresh_token_of_inactive_user_is_401(make_client, clinician_a):
    pair = _login(make_client)
    User.objects.filter(pk=clinician_a.pk).update(is_active=False)
    response = _refresh(make_client, pair["refresh"])
    assert response.status_code == 401
    assert set(response.json()) == {"error", "detail"}


def test_stale_token_is_refused_with_the_error_websockets_catch(make_client, clinician_a):
    # cdss.common.websocket_auth treats simplejwt's AuthenticationFailed as "anonymous".
    from cdss.accounts.authentication import VersionedJWTAuthentication

    pair = _login(make_client)
    token = AccessToken(pair["access"])  # type: ignore[arg-type]
    assert VersionedJWTAuthentication().get_user(token).pk == clinician_a.pk
    user = User.objects.get(pk=clinician_a.pk)
    user.set_password(NEW_PASSWORD)
    user.save()
    with pytest.raises(AuthenticationFailed):
        VersionedJWTAuthentication().get_user(token)


class _RetiredHasher(MD5PasswordHasher):
    algorithm = "retired_md5"


def test_rehash_at_login_is_not_a_password_change(make_client, clinician_a, settings):
    # Django re-hashes a correct password whose hasher is no longer the preferred one; the
    # tokens issued at that login, and the user's earlier ones, must keep working.
    settings.PASSWORD_HASHERS = [
        "django.contrib.auth.hashers.MD5PasswordHasher",
        f"{__name__}._RetiredHasher",
    ]
    User.objects.filter(pk=clinician_a.pk).update(
        password=_RetiredHasher().encode(PASSWORD, _RetiredHasher().salt())
    )
    earlier = str(AccessToken.for_user(clinician_a))
    pair = _login(make_client)
    user = User.objects.get(pk=clinician_a.pk)
    assert user.password.startswith("md5$")
    assert user.token_version == 0
    _assert_alive(make_client, pair)
    assert _me(make_client, earlier) == 200
    assert _refresh(make_client, pair["refresh"]).status_code == 200


def test_outstanding_refresh_token_is_recorded_as_issued(make_client, clinician_a):
    from rest_framework_simplejwt.token_blacklist.models import OutstandingToken

    pair = _login(make_client)
    jti = RefreshToken(pair["refresh"])["jti"]  # type: ignore[arg-type]
    assert OutstandingToken.objects.get(jti=jti).token == pair["refresh"]
