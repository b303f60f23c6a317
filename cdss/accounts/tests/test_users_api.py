"""/api/v1/users/ (administrators manage users) and /api/v1/users/directory/ (clinicians pick a
care team): permissions, validation, what each role may see, token ending and audit."""

from __future__ import annotations

import pytest

from cdss.accounts.models import Role, User
from cdss.accounts.tests.factories import PASSWORD, UserFactory
from cdss.audit.models import AccessEvent

pytestmark = pytest.mark.django_db

USERS = "/api/v1/users/"
DIRECTORY = "/api/v1/users/directory/"
ME = "/api/v1/auth/me/"
NEW_PASSWORD = "a-brand-new-passphrase-77"


def _detail(user: User) -> str:
    return f"{USERS}{user.pk}/"


@pytest.mark.parametrize("who", ["clinician_a", "ml_engineer"])
def test_non_admins_get_403_on_every_user_route(make_client, request, who, clinician_b):
    client = make_client(request.getfixturevalue(who))
    new = {"username": "x1", "password": NEW_PASSWORD, "role": "clinician"}
    for response in (
        client.get(USERS),
        client.post(USERS, new, format="json"),
        client.get(_detail(clinician_b)),
        client.patch(_detail(clinician_b), {"is_active": False}, format="json"),
    ):
        assert response.status_code == 403, response.content
        assert set(response.json()) == {"error", "detail"}
    assert User.objects.get(pk=clinician_b.pk).is_active
    assert not User.objects.filter(username="x1").exists()


def test_anonymous_gets_401(make_client):
    assert make_client(None).get(USERS).status_code == 401
    assert make_client(None).get(DIRECTORY).status_code == 401


def test_admin_lists_and_searches_users(make_client, admin_user, clinician_a, ml_engineer):
    UserFactory(username="hong", first_name="Gildong", email="hong@example.org", is_active=False)
    client = make_client(admin_user)
    body = client.get(USERS).json()
    assert [u["username"] for u in body["results"]] == ["admin1", "clin_a", "hong", "mleng"]
    assert {"email", "is_active", "last_login", "date_joined"} <= set(body["results"][0])
    assert [u["username"] for u in client.get(USERS, {"search": "gild"}).json()["results"]] == [
        "hong"
    ]

    def names(query: dict[str, str]) -> list[str]:
        return [u["username"] for u in client.get(USERS, query).json()["results"]]

    assert names({"search": "EXAMPLE.org"}) == ["hong"]
    assert names({"role": "ml_engineer"}) == ["mleng"]
    inactive = client.get(USERS, {"is_active": "false"}).json()["results"]
    assert [u["username"] for u in inactive] == ["hong"]
    paged = client.get(USERS, {"page_size": 3, "page": 2}).json()
    assert paged["count"] == 4 and len(paged["results"]) == 1
    assert AccessEvent.objects.filter(action="user.list", user_id=admin_user.pk).exists()


@pytest.mark.parametrize(
    ("query", "field"),
    [({"role": "boss"}, "role"), ({"page_size": 0}, "page_size"), ({"colour": "red"}, "colour")],
)
def test_bad_list_filters_are_400_naming_them(make_client, admin_user, query, field):
    response = make_client(admin_user).get(USERS, query)
    assert response.status_code == 400
    assert field in response.json()["error"]


def test_admin_creates_a_user_who_can_log_in(make_client, admin_user):
    body = {
        "username": "dr_lee",
        "password": NEW_PASSWORD,
        "role": "clinician",
        "email": "lee@example.org",
        "first_name": "Min",
        "last_name": "Lee",
    }
    response = make_client(admin_user).post(USERS, body, format="json")
    assert response.status_code == 201, response.content
    created = response.json()
    assert (created["username"], created["role"], created["is_active"]) == (
        "dr_lee",
        "clinician",
        True,
    )
    assert "password" not in created
    login = make_client(None).post(
        "/api/v1/auth/token/", {"username": "dr_lee", "password": NEW_PASSWORD}, format="json"
    )
    assert login.status_code == 200
    event = AccessEvent.objects.get(action="user.create")
    assert (event.user_id, event.object_id) == (admin_user.pk, str(created["id"]))


def test_a_new_admin_gets_the_django_admin_too(make_client, admin_user):
    body = {"username": "boss2", "password": NEW_PASSWORD, "role": "admin"}
    assert make_client(admin_user).post(USERS, body, format="json").status_code == 201
    assert User.objects.get(username="boss2").is_staff


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"password": "short"}, "password"),
        ({"password": "password123"}, "password"),
        ({"role": "boss"}, "role"),
        ({"username": "has space"}, "username"),
        ({"username": "CLIN_A"}, "username"),
        ({"email": "not-an-email"}, "email"),
        ({"extra": 1}, "extra"),
    ],
)
def test_bad_create_is_400_naming_the_field(make_client, admin_user, clinician_a, change, field):
    body = {"username": "newbie", "password": NEW_PASSWORD, "role": "clinician", **change}
    response = make_client(admin_user).post(USERS, body, format="json")
    assert response.status_code == 400, response.content
    assert field in response.json()["error"]
    assert not User.objects.filter(username="newbie").exists()


def test_deactivating_a_user_ends_their_tokens_at_once(make_client, admin_user, clinician_a):
    theirs = make_client(clinician_a)
    assert theirs.get(ME).status_code == 200
    response = make_client(admin_user).patch(
        _detail(clinician_a), {"is_active": False}, format="json"
    )
    assert response.status_code == 200, response.content
    assert response.json()["is_active"] is False
    assert theirs.get(ME).status_code == 401
    login = make_client(None).post(
        "/api/v1/auth/token/", {"username": "clin_a", "password": PASSWORD}, format="json"
    )
    assert login.status_code == 401
    event = AccessEvent.objects.get(action="user.update")
    assert (event.user_id, event.object_id) == (admin_user.pk, str(clinician_a.pk))
    # And back.
    again = make_client(admin_user).patch(_detail(clinician_a), {"is_active": True}, format="json")
    assert again.json()["is_active"] is True


def test_role_change_moves_django_admin_access(make_client, admin_user, clinician_a):
    client = make_client(admin_user)
    assert client.patch(_detail(clinician_a), {"role": "admin"}, format="json").status_code == 200
    assert User.objects.get(pk=clinician_a.pk).is_staff
    assert client.patch(_detail(clinician_a), {"role": "ml_engineer"}, format="json").json()[
        "role"
    ] == ("ml_engineer")
    assert not User.objects.get(pk=clinician_a.pk).is_staff


@pytest.mark.parametrize("change", [{"is_active": False}, {"role": "clinician"}])
def test_admins_cannot_lock_themselves_out(make_client, admin_user, change):
    response = make_client(admin_user).patch(_detail(admin_user), change, format="json")
    assert response.status_code == 400
    assert "user" in response.json()["detail"]
    saved = User.objects.get(pk=admin_user.pk)
    assert saved.is_active and saved.role == Role.ADMIN


def test_missing_user_is_404_and_bad_patch_is_400(make_client, admin_user, clinician_a):
    client = make_client(admin_user)
    assert client.get(f"{USERS}987654321/").status_code == 404
    assert client.patch(f"{USERS}987654321/", {"is_active": False}, format="json").status_code == (
        404
    )
    for body, field in (({"role": "boss"}, "role"), ({"username": "x"}, "username")):
        response = client.patch(_detail(clinician_a), body, format="json")
        assert response.status_code == 400 and field in response.json()["error"]


def test_directory_lists_active_clinicians_with_no_private_fields(
    make_client, clinician_a, clinician_b, admin_user, ml_engineer
):
    UserFactory(username="gone", is_active=False)
    UserFactory(username="kim", first_name="Jisoo", last_name="Kim", email="kim@example.org")
    for viewer in (clinician_a, admin_user):
        body = make_client(viewer).get(DIRECTORY).json()
        assert [u["username"] for u in body["results"]] == ["clin_a", "clin_b", "kim"]
        for entry in body["results"]:
            assert set(entry) == {"id", "username", "display_name", "role"}
            assert entry["role"] == "clinician"
    kim = make_client(clinician_a).get(DIRECTORY, {"search": "jisoo"}).json()["results"]
    assert [(u["username"], u["display_name"]) for u in kim] == [("kim", "Jisoo Kim")]
    # Nobody finds a colleague by e-mail: the directory does not know it.
    assert make_client(clinician_a).get(DIRECTORY, {"search": "example"}).json()["count"] == 0
    assert AccessEvent.objects.filter(action="user.directory", user_id=clinician_a.pk).exists()


def test_directory_is_not_for_ml_engineers(make_client, ml_engineer):
    response = make_client(ml_engineer).get(DIRECTORY)
    assert response.status_code == 403
    assert "clinician" in response.json()["error"]


def test_directory_names_exactly_whom_a_care_team_accepts(make_client, clinician_a, clinician_b):
    from cdss.patients.tests.factories import PatientFactory

    patient = PatientFactory(care_team=[clinician_a])
    ids = [u["id"] for u in make_client(clinician_a).get(DIRECTORY).json()["results"]]
    response = make_client(clinician_a).patch(
        f"/api/v1/patients/{patient.pk}/", {"care_team": ids}, format="json"
    )
    assert response.status_code == 200, response.content
    assert response.json()["care_team"] == sorted(ids)
