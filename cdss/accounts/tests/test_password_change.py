"""POST /api/v1/auth/password/: the user changes their own password and gets a fresh token pair."""

from __future__ import annotations

import pytest
from django.urls import reverse

from cdss.accounts.models import User
from cdss.accounts.tests.factories import PASSWORD
from cdss.audit.models import AccessEvent

pytestmark = pytest.mark.django_db

TOKEN = reverse("auth-token")
REFRESH = reverse("auth-token-refresh")
ME = reverse("auth-me")
PASSWORD_URL = "/api/v1/auth/password/"
NEW_PASSWORD = "a-brand-new-passphrase-77"


def _login(make_client, password: str = PASSWORD) -> dict[str, str]:
    response = make_client(None).post(
        TOKEN, {"username": "clin_a", "password": password}, format="json"
    )
    assert response.status_code == 200, response.content
    return response.json()


def _client(make_client, access: str):
    client = make_client(None)
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {access}")
    return client


def test_password_change_ends_earlier_tokens_and_returns_a_fresh_pair(make_client, clinician_a):
    here, elsewhere = _login(make_client), _login(make_client)
    response = _client(make_client, here["access"]).post(
        PASSWORD_URL, {"old_password": PASSWORD, "new_password": NEW_PASSWORD}, format="json"
    )
    assert response.status_code == 200, response.content
    fresh = response.json()
    assert set(fresh) == {"access", "refresh"}
    for old in (here, elsewhere):
        assert _client(make_client, old["access"]).get(ME).status_code == 401
        stale = make_client(None).post(REFRESH, {"refresh": old["refresh"]}, format="json")
        assert stale.status_code == 401
    assert _client(make_client, fresh["access"]).get(ME).status_code == 200
    rotated = make_client(None).post(REFRESH, {"refresh": fresh["refresh"]}, format="json")
    assert rotated.status_code == 200
    assert User.objects.get(pk=clinician_a.pk).check_password(NEW_PASSWORD)
    _login(make_client, NEW_PASSWORD)
    event = AccessEvent.objects.get(action="auth.password_change")
    assert (event.outcome, event.user_id, event.object_type, event.object_id) == (
        "ok",
        clinician_a.pk,
        "user",
        str(clinician_a.pk),
    )


def test_wrong_old_password_is_400_naming_the_field(make_client, clinician_a):
    pair = _login(make_client)
    response = _client(make_client, pair["access"]).post(
        PASSWORD_URL, {"old_password": "not-it", "new_password": NEW_PASSWORD}, format="json"
    )
    assert response.status_code == 400
    assert "old_password" in response.json()["error"]
    assert "old_password" in response.json()["detail"]
    assert User.objects.get(pk=clinician_a.pk).check_password(PASSWORD)
    assert _client(make_client, pair["access"]).get(ME).status_code == 200
    assert AccessEvent.objects.filter(action="auth.password_change", outcome="failed").exists()


@pytest.mark.parametrize("weak", ["short1", "password123", "12345678901234", "clin_a123"])
def test_weak_new_password_is_400_naming_the_field(make_client, clinician_a, weak):
    pair = _login(make_client)
    response = _client(make_client, pair["access"]).post(
        PASSWORD_URL, {"old_password": PASSWORD, "new_password": weak}, format="json"
    )
    assert response.status_code == 400, response.content
    assert "new_password" in response.json()["error"]
    assert "new_password" in response.json()["detail"]
    assert User.objects.get(pk=clinician_a.pk).check_password(PASSWORD)


def test_missing_fields_are_400(make_client, clinician_a):
    pair = _login(make_client)
    response = _client(make_client, pair["access"]).post(PASSWORD_URL, {}, format="json")
    assert response.status_code == 400
    assert "old_password" in response.json()["error"]
    assert "new_password" in response.json()["error"]


def test_anonymous_is_refused(make_client, clinician_a):
    response = make_client(None).post(
        PASSWORD_URL, {"old_password": PASSWORD, "new_password": NEW_PASSWORD}, format="json"
    )
    assert response.status_code == 401


def test_guessing_the_old_password_is_throttled(make_client, clinician_a, settings):
    # A stolen access token must not turn this endpoint into an unthrottled password oracle.
    settings.CDSS_LOGIN_FAILURE_LIMIT = 3
    client = _client(make_client, _login(make_client)["access"])
    for _ in range(3):
        bad = client.post(
            PASSWORD_URL, {"old_password": "guess", "new_password": NEW_PASSWORD}, format="json"
        )
        assert bad.status_code == 400
    right = client.post(
        PASSWORD_URL, {"old_password": PASSWORD, "new_password": NEW_PASSWORD}, format="json"
    )
    assert right.status_code == 429
    assert int(right.headers["Retry-After"]) >= 1
    assert User.objects.get(pk=clinician_a.pk).check_password(PASSWORD)
