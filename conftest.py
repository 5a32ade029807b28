"""Shared test fixtures: one territory with its network, and the personas who use it.

Personas: coordinator, org_admin, org_staff, worker (of the member firm "Officine Test"),
provider_staff (of the cooperative "Coop Test"), helpdesk, and an outsider (signed in, no role);
`other_coordinator` coordinates a second territory and must see nothing of the first.
"""

import pytest
from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import TOTP
from django.core.cache import cache
from django.utils import translation

from accounts.models import Role, User
from core.models import Municipio, Territory
from network.models import Organisation

PASSWORD = "una-password-lunga-di-prova"
PERSONAS = ["coordinator", "org_admin", "org_staff", "worker", "provider_staff", "helpdesk", "outsider"]


@pytest.fixture(autouse=True)
def _test_settings(settings, tmp_path):
    # Background tasks run at once in tests (on commit, like in production).
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    settings.STORAGES = {**settings.STORAGES, "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}
    # Receipts and other personal documents of a test go to its own temporary folder.
    settings.PRIVATE_MEDIA_ROOT = tmp_path / "private"
    # Real hashing costs ~1 s a user; tests check who may sign in, not PBKDF2.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    # Rate-limit counters and allauth's login throttles live in the cache: start each test clean.
    cache.clear()
    # A request in English leaves English active in its thread: each test starts in Italian.
    translation.activate(settings.LANGUAGE_CODE)


def make_territory(slug: str = "milano", name: str = "Milano") -> Territory:
    territory = Territory.objects.create(
        slug=slug, name=name, network_name=f"Rete {name}", network_motto="dal welfare al tempo ritrovato",
        center_latitude="45.464200", center_longitude="9.190000",
    )
    for number in range(1, 10):
        Municipio.objects.create(territory=territory, number=number, name=f"Municipio {number}")
    return territory


def make_organisation(territory: Territory, name: str, **fields) -> Organisation:
    from django.utils.text import slugify

    fields.setdefault("kind", "firm")
    fields.setdefault("size_class", "small" if fields["kind"] == "firm" else "")
    fields.setdefault("network_role", "member_firm")
    return Organisation.objects.create(territory=territory, name=name, slug=slugify(name), **fields)


def make_user(email: str, *, with_totp: bool = False) -> User:
    user = User.objects.create_user(email=email, password=PASSWORD)
    EmailAddress.objects.create(user=user, email=email, primary=True, verified=True)
    if with_totp:
        TOTP.activate(user, "JBSWY3DPEHPK3PXP")
    return user


@pytest.fixture
def territory(db) -> Territory:
    return make_territory()


@pytest.fixture
def other_territory(db) -> Territory:
    return make_territory("bergamo", "Bergamo")


@pytest.fixture
def firm(territory) -> Organisation:
    return make_organisation(territory, "Officine Test", municipio=territory.municipi.get(number=3))


@pytest.fixture
def coop(territory) -> Organisation:
    return make_organisation(territory, "Coop Test", kind="social_coop", network_role="ati_member")


@pytest.fixture
def personas(territory, firm, coop) -> dict[str, User]:
    """Every persona of the Milan network, signed-in-able with PASSWORD."""
    grants = {
        "coordinator": (Role.Kind.COORDINATOR, None),
        "org_admin": (Role.Kind.ORG_ADMIN, firm),
        "org_staff": (Role.Kind.ORG_STAFF, firm),
        "worker": (Role.Kind.WORKER, firm),
        "provider_staff": (Role.Kind.PROVIDER_STAFF, coop),
        "helpdesk": (Role.Kind.HELPDESK, coop),
    }
    users = {}
    for name in PERSONAS:
        user = make_user(f"{name}@example.org", with_totp=name == "coordinator")
        if name in grants:
            kind, organisation = grants[name]
            Role.objects.create(user=user, kind=kind, territory=territory, organisation=organisation)
        users[name] = user
    return users


@pytest.fixture
def other_coordinator(other_territory) -> User:
    user = make_user("coordinator@bergamo.example.org", with_totp=True)
    Role.objects.create(user=user, kind=Role.Kind.COORDINATOR, territory=other_territory)
    return user


@pytest.fixture
def client_as(client):
    """client_as(user) signs the test client in as that user (None: anonymous visitor)."""

    def sign_in(user):
        client.logout()
        if user is not None:
            client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
        return client

    return sign_in


@pytest.fixture
def two_factor_exists():
    return lambda user: Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists()
