"""Who may open what: every named page walked by every persona, and `can()` for every permission.

The walk's table must name every URL of our apps (a test below compares it with the resolver), so
a new view cannot be added without saying who may open it.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta

import pytest
from django.contrib.auth.models import AnonymousUser
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone

from accounts.permissions import Perm, can
from conftest import PERSONAS, make_organisation
from core.models import SentMail
from events.models import Event
from network.models import Article, JoinRequest, Organisation

pytestmark = pytest.mark.django_db

ANONYMOUS = "anonymous"
VISITORS = [ANONYMOUS, *PERSONAS, "other_coordinator"]
APP_NAMESPACES = {"core", "network", "accounts"}
LOGIN = "→ sign-in"

PUBLIC = "public"
SIGNED_IN = "signed in"
RESTRICTED = "restricted"  # to the personas in Route.may
COORDINATORS = frozenset({"coordinator"})


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    # The default hasher (1M PBKDF2 rounds) makes each `personas` set-up take seconds.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@dataclass
class World:
    """What the URLs of the walk point at, all in Milan."""

    organisation: Organisation
    article: Article
    sent_mail: SentMail
    join_requests: list[JoinRequest] = field(default_factory=list)

    def pending_join_request(self) -> JoinRequest:
        # Each POST gets its own pending request, so one persona's decision can't mask another's.
        jr = JoinRequest.objects.create(
            territory=self.organisation.territory,
            name=f"Richiedente {JoinRequest.objects.count() + 1}",
            kind="association",
            requested_role="partner",
            tax_code="97012345678",
            contact_name="Carla Bianchi",
            email="carla@example.org",
            privacy_acknowledged_at=timezone.now(),
        )
        self.join_requests.append(jr)
        return jr


@pytest.fixture
def world(territory, firm, other_territory) -> World:
    article = Article.objects.create(
        territory=territory,
        slug="festa-della-rete",
        title="Festa della rete",
        summary="Ci vediamo in piazza.",
        body="Tutti invitati.",
        published_at=timezone.now() - timedelta(days=1),
    )
    sent_mail = SentMail.objects.create(to="anna@example.org", subject="Richiesta ricevuta", body_text="Grazie.")
    return World(organisation=firm, article=article, sent_mail=sent_mail)


@dataclass(frozen=True)
class Route:
    access: str
    kwargs: Callable[[World], dict] = lambda w: {}
    method: str = "get"
    data: dict | None = None
    may: frozenset[str] = COORDINATORS


def milano(**more: Callable[[World], object]) -> Callable[[World], dict]:
    return lambda w: {"territory": "milano", **{k: f(w) for k, f in more.items()}}


ROUTES: dict[str, Route] = {
    "core:home": Route(PUBLIC),
    "core:healthz": Route(PUBLIC),
    "core:page": Route(PUBLIC, lambda w: {"slug": "privacy"}),
    "core:page_pdf": Route(PUBLIC, lambda w: {"slug": "privacy"}),
    "core:sent_mail": Route(PUBLIC, lambda w: {"token": w.sent_mail.token}),
    "core:territory_home": Route(PUBLIC, milano()),
    "network:directory": Route(PUBLIC, milano()),
    "network:directory_map": Route(PUBLIC, milano()),
    "network:organisation": Route(PUBLIC, milano(slug=lambda w: w.organisation.slug)),
    "network:organisation_edit": Route(
        RESTRICTED, milano(slug=lambda w: w.organisation.slug), may=frozenset({"coordinator", "org_admin"})
    ),
    "network:organisation_pdf": Route(PUBLIC, milano(slug=lambda w: w.organisation.slug)),
    "network:join": Route(PUBLIC, milano()),
    "network:join_thanks": Route(PUBLIC, milano()),
    "network:articles": Route(PUBLIC, milano()),
    "network:article": Route(PUBLIC, milano(slug=lambda w: w.article.slug)),
    "network:article_pdf": Route(PUBLIC, milano(slug=lambda w: w.article.slug)),
    "network:join_requests": Route(RESTRICTED, milano()),
    "network:join_request": Route(RESTRICTED, milano(pk=lambda w: w.pending_join_request().pk)),
    "network:approve_join_request": Route(RESTRICTED, milano(pk=lambda w: w.pending_join_request().pk), method="post"),
    "network:reject_join_request": Route(
        RESTRICTED,
        milano(pk=lambda w: w.pending_join_request().pk),
        method="post",
        data={"reason": "Non operate nel territorio."},
    ),
    "network:audit_log": Route(RESTRICTED, milano()),
    "accounts:dashboard": Route(SIGNED_IN),
}


def expected(visitor: str, route: Route) -> int | str:
    if route.access == PUBLIC:
        return 200
    if visitor == ANONYMOUS:
        return LOGIN
    if route.access == SIGNED_IN:
        return 200
    if visitor in route.may:
        return 302 if route.method == "post" else 200
    return 403


def outcome(response) -> int | str:
    if response.status_code == 302 and response.url.startswith(reverse("account_login") + "?next="):
        return LOGIN
    return response.status_code


def app_url_names() -> set[str]:
    names = set()

    def walk(patterns, namespace):
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                walk(pattern.url_patterns, pattern.namespace or namespace)
            elif isinstance(pattern, URLPattern) and pattern.name and namespace in APP_NAMESPACES:
                names.add(f"{namespace}:{pattern.name}")

    walk(get_resolver().url_patterns, None)
    return names


def test_every_named_url_of_our_apps_is_in_the_walk():
    assert app_url_names() == set(ROUTES)


@pytest.fixture
def visitor_user(request, personas, other_coordinator):
    def user(visitor: str):
        if visitor == ANONYMOUS:
            return None
        return other_coordinator if visitor == "other_coordinator" else personas[visitor]

    return user


@pytest.mark.parametrize("visitor", VISITORS)
def test_persona_walk(visitor, client_as, visitor_user, world):
    client = client_as(visitor_user(visitor))
    seen, wanted = {}, {}
    for name, route in ROUTES.items():
        url = reverse(name, kwargs=route.kwargs(world))
        response = getattr(client, route.method)(url, route.data or {})
        seen[name], wanted[name] = outcome(response), expected(visitor, route)
    assert seen == wanted

    # The requests made for join_request (GET), approve and reject (POST), in that order.
    statuses = [JoinRequest.objects.get(pk=jr.pk).status for jr in world.join_requests]
    if visitor == "coordinator":
        assert statuses == ["pending", "approved", "rejected"]
    else:
        assert statuses == ["pending", "pending", "pending"]


def test_bergamo_coordinator_cannot_reach_a_milan_request_through_bergamo_urls(client_as, other_coordinator, world):
    jr = world.pending_join_request()
    client = client_as(other_coordinator)
    bergamo = {"territory": "bergamo", "pk": jr.pk}

    assert client.get(reverse("network:join_request", kwargs=bergamo)).status_code == 404
    assert client.post(reverse("network:approve_join_request", kwargs=bergamo)).status_code == 404
    assert client.post(reverse("network:reject_join_request", kwargs=bergamo), {"reason": "No"}).status_code == 404
    jr.refresh_from_db()
    assert jr.status == "pending"
    assert not Organisation.objects.filter(name=jr.name).exists()

    listing = client.get(reverse("network:join_requests", kwargs={"territory": "bergamo"}))
    assert listing.status_code == 200
    assert jr.name not in listing.content.decode()


def test_milan_coordinator_is_refused_on_bergamo_coordination_pages(client_as, personas, other_territory):
    client = client_as(personas["coordinator"])
    for name in ("network:join_requests", "network:audit_log"):
        assert client.get(reverse(name, kwargs={"territory": "bergamo"})).status_code == 403


def test_coordination_pages_of_an_unknown_or_inactive_territory_are_404(client_as, personas, other_territory):
    other_territory.is_active = False
    other_territory.save()
    client = client_as(personas["coordinator"])
    assert client.get(reverse("network:join_requests", kwargs={"territory": "roma"})).status_code == 404
    assert client.get(reverse("network:join_requests", kwargs={"territory": "bergamo"})).status_code == 404


# --- accounts.permissions.can(): every permission × persona × place ------------------------------

# Who may, per permission and place; everyone else (the anonymous visitor included) may not.
MAY: dict[tuple[Perm, str], set[str]] = {
    (Perm.REVIEW_JOIN_REQUESTS, "milano"): {"coordinator"},
    (Perm.REVIEW_JOIN_REQUESTS, "bergamo"): {"other_coordinator"},
    (Perm.VIEW_AUDIT_LOG, "milano"): {"coordinator"},
    (Perm.VIEW_AUDIT_LOG, "bergamo"): {"other_coordinator"},
    (Perm.MANAGE_CONTENT, "milano"): {"coordinator"},
    (Perm.MANAGE_CONTENT, "bergamo"): {"other_coordinator"},
    (Perm.MANAGE_EVENTS, "milano"): {"coordinator"},
    (Perm.MANAGE_EVENTS, "bergamo"): {"other_coordinator"},
    # Staff of an organising organisation check people in; the cooperative's provider staff and
    # helpdesk hold neither org_admin nor org_staff, so only the coordinator can at its event.
    (Perm.CHECK_IN_ATTENDEES, "firm_event"): {"coordinator", "org_admin", "org_staff"},
    (Perm.CHECK_IN_ATTENDEES, "coop_event"): {"coordinator"},
    (Perm.CHECK_IN_ATTENDEES, "unorganised_event"): {"coordinator"},
    (Perm.CHECK_IN_ATTENDEES, "bergamo_event"): {"other_coordinator"},
    (Perm.VIEW_ORGANISATION_DASHBOARD, "firm"): {"coordinator", "org_admin", "org_staff"},
    (Perm.VIEW_ORGANISATION_DASHBOARD, "coop"): {"coordinator", "provider_staff"},
    (Perm.VIEW_ORGANISATION_DASHBOARD, "bergamo_org"): {"other_coordinator"},
    (Perm.EDIT_ORGANISATION, "firm"): {"coordinator", "org_admin"},
    (Perm.EDIT_ORGANISATION, "coop"): {"coordinator"},
    (Perm.EDIT_ORGANISATION, "bergamo_org"): {"other_coordinator"},
}
TERRITORIES = {"milano", "bergamo"}
EVENTS = {"firm_event", "coop_event", "unorganised_event", "bergamo_event"}


def test_every_permission_is_in_the_table():
    assert {perm for perm, _place in MAY} == set(Perm)


@pytest.fixture
def places(territory, other_territory, firm, coop) -> dict[str, object]:
    bergamo_org = make_organisation(other_territory, "Comune di Bergamo", kind="public_body", network_role="lead")

    def event(where, slug, *organisers):
        starts = timezone.now() + timedelta(days=7)
        made = Event.objects.create(
            territory=where,
            slug=slug,
            title=slug,
            summary="…",
            starts_at=starts,
            ends_at=starts + timedelta(hours=2),
            capacity=50,
        )
        made.organisers.set(organisers)
        return made

    return {
        "milano": territory,
        "bergamo": other_territory,
        "firm": firm,
        "coop": coop,
        "bergamo_org": bergamo_org,
        "firm_event": event(territory, "open-day-officine", firm),
        "coop_event": event(territory, "merenda-in-coop", coop),
        "unorganised_event": event(territory, "assemblea-della-rete"),
        "bergamo_event": event(other_territory, "assemblea-bergamo", bergamo_org),
    }


@pytest.mark.parametrize(("perm", "place"), list(MAY), ids=[f"{p}-{w}" for p, w in MAY])
def test_can(perm, place, places, personas, other_coordinator):
    users = {ANONYMOUS: AnonymousUser(), **personas, "other_coordinator": other_coordinator}
    kind = "territory" if place in TERRITORIES else "event" if place in EVENTS else "organisation"
    scope = {kind: places[place]}
    allowed = {name for name, user in users.items() if can(user, perm, **scope)}
    assert allowed == MAY[perm, place]


def test_a_deactivated_coordinator_may_do_nothing(personas, territory):
    coordinator = personas["coordinator"]
    coordinator.is_active = False
    coordinator.save()
    assert not can(coordinator, Perm.REVIEW_JOIN_REQUESTS, territory=territory)


def test_permission_questions_need_a_place(personas, firm):
    with pytest.raises(ValueError):
        can(personas["coordinator"], Perm.REVIEW_JOIN_REQUESTS)
    with pytest.raises(ValueError):
        can(personas["org_admin"], Perm.EDIT_ORGANISATION, territory=firm.territory)
    with pytest.raises(ValueError):
        can(personas["org_staff"], Perm.CHECK_IN_ATTENDEES, organisation=firm)
