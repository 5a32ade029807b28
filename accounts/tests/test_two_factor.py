"""Coordinators and admin staff must use TOTP: without it they reach only the pages that set it up."""

import time
from urllib.parse import quote

import pytest
from allauth.mfa.totp.internal.auth import SECRET_SESSION_KEY, format_hotp_value, hotp_value
from django.core.cache import cache
from django.urls import reverse

from accounts.models import Role
from conftest import PASSWORD, PERSONAS, make_user

pytestmark = pytest.mark.django_db

ACTIVATE = reverse("mfa_activate_totp")


@pytest.fixture(autouse=True)
def _fast_password_hashing_and_fresh_rate_limits(settings):
    # The default hasher (1M PBKDF2 rounds) makes each `personas` set-up take seconds; allauth keeps
    # its rate-limit counters in the cache, which would otherwise outlive the test.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def new_coordinator(territory):
    """A coordinator who has not activated TOTP yet."""
    user = make_user("nuova.coordinatrice@example.org")
    Role.objects.create(user=user, kind=Role.Kind.COORDINATOR, territory=territory)
    return user


@pytest.fixture
def pages(territory, firm) -> list[str]:
    """Pages outside /account/, public and reserved."""
    return [
        "/",
        reverse("core:territory_home", kwargs={"territory": "milano"}),
        reverse("network:directory", kwargs={"territory": "milano"}),
        reverse("network:organisation", kwargs={"territory": "milano", "slug": firm.slug}),
        reverse("core:page", kwargs={"slug": "privacy"}),
        reverse("accounts:dashboard"),
        reverse("network:join_requests", kwargs={"territory": "milano"}),
        reverse("network:audit_log", kwargs={"territory": "milano"}),
    ]


def current_code(secret: str) -> str:
    """The authenticator app's code now. allauth accepts only the current 30-second period
    (MFA_TOTP_TOLERANCE = 0), so a code taken at the very end of one would expire on the way."""
    if time.time() % 30 > 28:
        time.sleep(30 - time.time() % 30 + 0.1)
    return format_hotp_value(hotp_value(secret, int(time.time()) // 30))


def sign_in_and_activate_totp(client, user) -> str:
    """The first sign-in of a coordinator, as they live it, up to a working authenticator."""
    response = client.post(reverse("account_login"), {"login": user.email, "password": PASSWORD}, follow=True)
    # Dashboard → activation → allauth's password confirmation before any change to 2FA.
    paths = [url.split("?")[0] for url, _status in response.redirect_chain]
    assert paths == [reverse("accounts:dashboard"), ACTIVATE, reverse("account_reauthenticate")]
    assert "autenticazione a due fattori è obbligatoria" in response.content.decode()

    response = client.post(response.redirect_chain[-1][0], {"password": PASSWORD}, follow=True)
    assert response.request["PATH_INFO"] == ACTIVATE
    assert response.status_code == 200
    secret = client.session[SECRET_SESSION_KEY]  # shown to the user as a QR code and as text
    assert secret in response.content.decode()
    assert client.post(ACTIVATE, {"code": current_code(secret)}).status_code == 302
    return secret


def test_coordinator_without_totp_must_activate_it_after_signing_in(client, new_coordinator, two_factor_exists):
    directory = reverse("network:directory", kwargs={"territory": "milano"})
    sign_in_and_activate_totp(client, new_coordinator)
    assert two_factor_exists(new_coordinator)
    assert client.get(directory).status_code == 200
    assert client.get(reverse("network:join_requests", kwargs={"territory": "milano"})).status_code == 200


def test_a_wrong_code_activates_nothing(client, new_coordinator, two_factor_exists):
    client.post(reverse("account_login"), {"login": new_coordinator.email, "password": PASSWORD})
    client.post(reverse("account_reauthenticate"), {"password": PASSWORD})
    client.get(ACTIVATE)
    secret = client.session[SECRET_SESSION_KEY]
    wrong = f"{(int(current_code(secret)) + 1) % 1_000_000:06d}"
    response = client.post(ACTIVATE, {"code": wrong})
    assert response.status_code == 200
    assert not two_factor_exists(new_coordinator)
    assert client.get(reverse("network:directory", kwargs={"territory": "milano"})).status_code == 302


def test_coordinator_without_totp_is_sent_to_activation_from_every_page(client_as, new_coordinator, pages):
    client = client_as(new_coordinator)
    for url in pages:
        response = client.get(url)
        assert (url, response.status_code, response.get("Location", "")) == (url, 302, f"{ACTIVATE}?next={quote(url, safe='')}")


def test_coordinator_without_totp_can_still_reach_account_pages_and_switch_language(client_as, new_coordinator):
    client = client_as(new_coordinator)
    assert client.get(reverse("mfa_index")).status_code == 200
    assert client.get(reverse("account_logout")).status_code == 200
    response = client.post(reverse("set_language"), {"language": "en", "next": "/account/2fa/"})
    assert response.status_code == 302
    assert response["Location"] == "/account/2fa/"


def test_coordinator_of_another_territory_without_totp_is_asked_on_milan_pages(client_as, territory, other_territory):
    user = make_user("coordinatore.nuovo@bergamo.example.org")
    Role.objects.create(user=user, kind=Role.Kind.COORDINATOR, territory=other_territory)
    response = client_as(user).get(reverse("network:directory", kwargs={"territory": "milano"}))
    assert response.status_code == 302
    assert response["Location"].startswith(ACTIVATE)


def test_coordinator_with_totp_gets_through(client_as, personas, pages):
    client = client_as(personas["coordinator"])
    # "/" redirects to the only territory; everything else answers directly.
    assert {url: client.get(url).status_code for url in pages} == {url: 302 if url == "/" else 200 for url in pages}
    assert client.get("/")["Location"] == "/milano/"


@pytest.mark.parametrize("persona", [p for p in PERSONAS if p != "coordinator"])
def test_other_roles_are_never_asked_for_totp(persona, client_as, personas, firm, two_factor_exists):
    assert not two_factor_exists(personas[persona])
    client = client_as(personas[persona])
    for url in (
        reverse("core:territory_home", kwargs={"territory": "milano"}),
        reverse("network:directory", kwargs={"territory": "milano"}),
        reverse("network:organisation", kwargs={"territory": "milano", "slug": firm.slug}),
        reverse("accounts:dashboard"),
    ):
        assert (url, client.get(url).status_code) == (url, 200)


def test_staff_without_totp_is_sent_to_activation_even_for_the_admin(client_as, territory):
    staff = make_user("staff@example.org")
    staff.is_staff = True
    staff.save()
    client = client_as(staff)
    for url in ("/admin/", reverse("core:territory_home", kwargs={"territory": "milano"})):
        response = client.get(url)
        assert (url, response.status_code, response["Location"]) == (url, 302, f"{ACTIVATE}?next={quote(url, safe='')}")


def test_staff_with_totp_reaches_the_admin(client_as, territory):
    staff = make_user("staff@example.org", with_totp=True)
    staff.is_staff = True
    staff.is_superuser = True
    staff.save()
    response = client_as(staff).get("/admin/")
    assert response.status_code == 200
    assert "staff@example.org" in response.content.decode()


def test_a_code_typed_again_is_refused_with_a_message_that_says_it_may_have_been_used(client, new_coordinator):
    secret = sign_in_and_activate_totp(client, new_coordinator)
    client.logout()
    client.post(reverse("account_login"), {"login": new_coordinator.email, "password": PASSWORD})
    code = current_code(secret)
    assert client.post(reverse("mfa_authenticate"), {"code": code}).status_code == 302
    client.logout()

    client.post(reverse("account_login"), {"login": new_coordinator.email, "password": PASSWORD})
    again = client.post(reverse("mfa_authenticate"), {"code": code})

    assert again.status_code == 200
    assert "Codice errato o già usato" in again.content.decode()
