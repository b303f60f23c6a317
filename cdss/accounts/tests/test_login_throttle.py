"""Failed logins are throttled per (username, client IP) and per client IP, never per username
alone: nobody can lock a user out from another address."""

from __future__ import annotations

import pytest
from django.urls import reverse

from cdss.accounts import services
from cdss.accounts.models import User
from cdss.accounts.tests.factories import PASSWORD

pytestmark = pytest.mark.django_db

TOKEN = reverse("auth-token")
ATTACKER = "198.51.100.66"
VICTIM = "203.0.113.10"


def _login(client, username: str, password: str, ip: str):
    return client.post(
        TOKEN, {"username": username, "password": password}, format="json", REMOTE_ADDR=ip
    )


def test_failures_from_one_address_do_not_lock_the_user_out_elsewhere(make_client, clinician_a):
    client = make_client(None)
    for _ in range(5):
        assert _login(client, "clin_a", "wrong", ATTACKER).status_code == 401
    blocked = _login(client, "clin_a", PASSWORD, ATTACKER)
    assert blocked.status_code == 429
    assert 1 <= int(blocked.headers["Retry-After"]) <= 60
    assert set(blocked.json()) == {"error", "detail"}
    assert _login(client, "clin_a", PASSWORD, VICTIM).status_code == 200


def test_one_address_is_limited_across_usernames(make_client, clinician_a, settings):
    settings.CDSS_LOGIN_FAILURE_LIMIT_PER_IP = 20
    client = make_client(None)
    for i in range(20):
        assert _login(client, f"guess{i}", "wrong", ATTACKER).status_code == 401
    blocked = _login(client, "clin_a", PASSWORD, ATTACKER)
    assert blocked.status_code == 429
    assert 1 <= int(blocked.headers["Retry-After"]) <= 60
    assert _login(client, "clin_a", PASSWORD, VICTIM).status_code == 200


def test_own_successful_login_does_not_reset_the_address_counter(make_client, clinician_a):
    User.objects.create_user(username="mallory", password=PASSWORD)
    client = make_client(None)
    for i in range(19):
        assert _login(client, f"guess{i}", "wrong", ATTACKER).status_code == 401
    assert _login(client, "mallory", PASSWORD, ATTACKER).status_code == 200
    assert _login(client, "guess-last", "wrong", ATTACKER).status_code == 401
    assert _login(client, "guess-more", "wrong", ATTACKER).status_code == 429


def test_refused_attempts_do_not_count_against_the_address(make_client, clinician_a, clinician_b):
    # One user hammering a locked account must not lock out colleagues behind the same NAT.
    client = make_client(None)
    for _ in range(40):
        _login(client, "clin_a", "wrong", ATTACKER)
    assert _login(client, "clin_b", PASSWORD, ATTACKER).status_code == 200


def test_addresses_in_one_ipv6_64_share_a_counter(make_client, clinician_a, settings):
    settings.CDSS_LOGIN_FAILURE_LIMIT_PER_IP = 3
    client = make_client(None)
    for i in range(3):
        assert _login(client, f"guess{i}", "wrong", f"2001:db8:1:2::{i + 1}").status_code == 401
    assert _login(client, "clin_a", PASSWORD, "2001:db8:1:2::ff").status_code == 429
    assert _login(client, "clin_a", PASSWORD, "2001:db8:1:3::1").status_code == 200


def test_attempts_in_flight_count_before_their_password_is_checked(clinician_a):
    # Parallel requests cannot all pass the check before any failure is recorded.
    for _ in range(5):
        assert services.login_attempt_start(username="clin_a", ip=ATTACKER) is None
    assert services.login_attempt_start(username="clin_a", ip=ATTACKER) is not None
    assert services.login_attempt_start(username="clin_a", ip=VICTIM) is None


def test_throttle_uses_the_client_address_from_a_trusted_proxy(make_client, clinician_a, settings):
    settings.CDSS_TRUSTED_PROXIES = ["10.0.0.0/8"]
    client = make_client(None)
    for _ in range(5):
        response = client.post(
            TOKEN,
            {"username": "clin_a", "password": "wrong"},
            format="json",
            REMOTE_ADDR="10.0.0.2",
            HTTP_X_REAL_IP=ATTACKER,
        )
        assert response.status_code == 401
    ok = client.post(
        TOKEN,
        {"username": "clin_a", "password": PASSWORD},
        format="json",
        REMOTE_ADDR="10.0.0.2",
        HTTP_X_REAL_IP=VICTIM,
    )
    assert ok.status_code == 200


def test_requests_without_a_client_address_share_no_address_counter(clinician_a, settings):
    # An untrusted unix-socket peer has no address; one counter for all of them would let one
    # attacker lock out everyone. Only the (username, unknown address) limit applies.
    settings.CDSS_LOGIN_FAILURE_LIMIT_PER_IP = 3
    for i in range(10):
        assert services.login_attempt_start(username=f"guess{i}", ip=None) is None
    for _ in range(5):
        assert services.login_attempt_start(username="clin_a", ip=None) is None
    assert services.login_attempt_start(username="clin_a", ip=None) is not None
