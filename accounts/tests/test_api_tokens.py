from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from accounts.models import ApiToken, Role, User
from core.models import AuditLog, Territory
from network.models import NetworkRole, Organisation, OrganisationKind

ME = "/api/v1/me"


@pytest.fixture
def milano(db) -> Territory:
    return Territory.objects.create(
        slug="milano", name="Milano", network_name="Rete Milano", center_latitude=45.46, center_longitude=9.19
    )


@pytest.fixture
def member(milano) -> User:
    """An organisation admin who also coordinates the network."""
    user = User.objects.create_user(email="anna@comune.example.org", password="una-password-lunga")
    organisation = Organisation.objects.create(
        territory=milano, name="Comune", slug="comune", kind=OrganisationKind.PUBLIC_BODY, network_role=NetworkRole.LEAD
    )
    Role.objects.create(user=user, kind=Role.Kind.COORDINATOR, territory=milano)
    Role.objects.create(user=user, kind=Role.Kind.ORG_ADMIN, territory=milano, organisation=organisation)
    return user


def bearer(key: str) -> dict:
    return {"HTTP_AUTHORIZATION": f"Bearer {key}"}


def assert_unauthorized(response) -> None:
    assert response.status_code == 401
    assert response.json() == {
        "code": "unauthorized",
        "message": "Serve un token valido: Authorization: Bearer <token>.",
        "fields": {},
    }


def test_a_token_identifies_its_user_and_roles(client, member):
    _token, key = ApiToken.issue(user=member, name="Gestionale paghe")

    response = client.get(ME, **bearer(key))

    assert response.status_code == 200
    organisation = Organisation.objects.get(slug="comune")
    assert response.json()["email"] == "anna@comune.example.org"
    assert sorted(response.json()["roles"], key=lambda r: r["kind"]) == [
        {"kind": "coordinator", "territory": "milano", "organisation": None},
        {"kind": "org_admin", "territory": "milano", "organisation": organisation.pk},
    ]


@pytest.mark.parametrize(
    "headers",
    [
        {},
        bearer("mire_not-a-real-token"),
        bearer(""),
        {"HTTP_AUTHORIZATION": "Basic YW5uYTpwYXNzd29yZA=="},
        bearer("\x00" * 10),
    ],
)
def test_no_or_an_unknown_token_answers_401(client, member, headers):
    assert_unauthorized(client.get(ME, **headers))


def test_401_speaks_english_when_asked(client, member):
    response = client.get(ME, HTTP_ACCEPT_LANGUAGE="en")

    assert response.status_code == 401
    assert response.json()["message"] == "A valid token is required: Authorization: Bearer <token>."


def test_a_revoked_token_stops_working(client, member):
    token, key = ApiToken.issue(user=member, name="Vecchio")
    assert client.get(ME, **bearer(key)).status_code == 200

    token.revoke()

    assert_unauthorized(client.get(ME, **bearer(key)))


def test_a_deactivated_users_token_stops_working(client, member):
    _token, key = ApiToken.issue(user=member, name="Gestionale")
    member.is_active = False
    member.save()

    assert_unauthorized(client.get(ME, **bearer(key)))


def test_the_session_of_a_signed_in_user_is_not_a_token(client, member):
    client.force_login(member)

    assert_unauthorized(client.get(ME))


def test_last_use_is_recorded_at_most_once_a_minute(client, member):
    token, key = ApiToken.issue(user=member, name="Gestionale")

    client.get(ME, **bearer(key))
    token.refresh_from_db()
    assert token.last_used_at is not None
    assert timezone.now() - token.last_used_at < timedelta(seconds=10)

    recently = timezone.now() - timedelta(seconds=20)
    ApiToken.objects.filter(pk=token.pk).update(last_used_at=recently)
    client.get(ME, **bearer(key))
    token.refresh_from_db()
    assert token.last_used_at == recently

    long_ago = timezone.now() - timedelta(minutes=5)
    ApiToken.objects.filter(pk=token.pk).update(last_used_at=long_ago)
    client.get(ME, **bearer(key))
    token.refresh_from_db()
    assert token.last_used_at > long_ago + timedelta(minutes=4)


def test_create_api_token_prints_a_working_key_once_and_audits_it(client, member):
    out = StringIO()

    call_command(
        "create_api_token", "--email", "ANNA@comune.example.org", "--name", "Tornelli", stdout=out, stderr=StringIO()
    )

    key = out.getvalue().strip()
    token = ApiToken.objects.get(user=member)
    assert token.name == "Tornelli"
    assert token.key_hash != key
    assert client.get(ME, **bearer(key)).json()["email"] == member.email
    entry = AuditLog.objects.get(action="api_token.created")
    assert (entry.object_id, entry.actor, entry.actor_label, entry.territory) == (str(token.pk), None, "system", None)


def test_create_api_token_refuses_an_unknown_user(db):
    with pytest.raises(CommandError, match="nessuno@example.org"):
        call_command("create_api_token", "--email", "nessuno@example.org", stdout=StringIO())

    assert not ApiToken.objects.exists()
    assert not AuditLog.objects.exists()
